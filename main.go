// Command mfelab is MFE Lab: a desktop laboratory for event-driven communication between
// simulated microfrontends. With no arguments it opens the GUI.
package main

import (
	"flag"
	"fmt"
	"os"

	"mfelab/ui"
)

// version is the release shown by -version and in the window; keep it equal to FyneApp.toml.
const version = "0.1.0"

func main() {
	fs := flag.NewFlagSet("mfelab", flag.ContinueOnError)
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println("mfelab", version)
		return
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mfelab: unknown command %q (run with no arguments for the GUI, or -version)\n", fs.Arg(0))
		os.Exit(2)
	}
	ui.Run(version)
}
