//go:build nogui

package main

import (
	"fmt"
	"io"
)

// openWindow explains that this build has only the command line: the nogui tag leaves
// out Fyne and its C dependencies, so the headless commands cross-compile anywhere.
func openWindow(_ windowOptions, stderr io.Writer) int {
	fmt.Fprintln(stderr, "mfelab: this build has no desktop app (built with -tags nogui); run mfelab help for the commands")
	return exitUsage
}
