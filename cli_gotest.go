package main

// The -export-test flag of run: keep a run as a Go test.

import (
	"fmt"
	"go/token"
	"io"
	"path/filepath"

	"mfelab/session"
)

// exportGoTest writes the finished run of ses as a Go test file at path, in package pkg
// (by default the one session.TestPackage picks for the file's directory), and says so.
func exportGoTest(ses *session.Session, path, pkg string, stdout, stderr io.Writer) int {
	if pkg == "" {
		pkg = session.TestPackage(filepath.Dir(path))
	}
	if err := ses.ExportGoTest(path, pkg); err != nil {
		fmt.Fprintf(stderr, "mfelab run: export-test: %v\n", err)
		return exitFail
	}
	n := ses.Trace().Diagram().Len()
	rows := fmt.Sprintf("%d deliveries", n)
	if n == 1 {
		rows = "1 delivery"
	}
	fmt.Fprintf(stdout, "\nwrote the run as a Go test to %s (package %s, a flow of %s)\n", path, pkg, rows)
	return exitOK
}

// checkTestPackage refuses a -test-package that is not a Go package name, before the run.
func checkTestPackage(pkg string) error {
	if pkg != "" && (!token.IsIdentifier(pkg) || token.IsKeyword(pkg) || pkg == "_") {
		return fmt.Errorf("-test-package %q is not a Go package name; name one such as checkout_test", pkg)
	}
	return nil
}
