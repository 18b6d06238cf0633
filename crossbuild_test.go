package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The headless half of the lab (the bus, its patterns, history, sessions, scenarios and
// the command line without the window) has no C dependency, so it builds for Windows and
// macOS from any machine with CGO_ENABLED=0. (The command line is built, not vetted: go vet
// would take in its tests, which drive the window.) The window needs cgo and each platform's
// toolchain: see the README's Packages section.
func TestTheHeadlessPackagesBuildForWindowsAndMacOS(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles for other platforms")
	}
	for _, target := range []struct{ goos, goarch string }{{"windows", "amd64"}, {"darwin", "arm64"}} {
		t.Run(target.goos+"/"+target.goarch, func(t *testing.T) {
			env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+target.goos, "GOARCH="+target.goarch)
			for _, args := range [][]string{
				{"vet", "./bus/...", "./history/...", "./session/...", "./scenarios/..."},
				{"build", "-tags", "nogui", "-o", filepath.Join(t.TempDir(), "mfelab"), "."},
			} {
				cmd := exec.Command("go", args...) // go test puts its own go first on the PATH
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("GOOS=%s GOARCH=%s CGO_ENABLED=0 go %s: %v\n%s", target.goos, target.goarch, strings.Join(args, " "), err, out)
				}
			}
		})
	}
}
