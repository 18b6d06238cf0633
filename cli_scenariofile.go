package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"mfelab/scenarios"
)

// resolveScenario finds what `mfelab run` names: a scenario file when the argument ends
// in .yaml or .yml or holds a /, else a built-in scenario by ID.
func resolveScenario(arg string) (*scenarios.Scenario, error) {
	if scenarios.IsScenarioFile(arg) {
		return scenarios.LoadFile(arg)
	}
	return scenarios.Get(arg)
}

// isYAMLFile reports whether a run's name is a scenario file by its extension, which
// sets it apart from a log wherever a log may be named too.
func isYAMLFile(arg string) bool {
	ext := strings.ToLower(filepath.Ext(arg))
	return ext == ".yaml" || ext == ".yml"
}

// printLoadError writes a scenario file's mistakes one per line, file:line:col first.
func printLoadError(stderr io.Writer, prefix string, err error) {
	var fes scenarios.FileErrors
	if errors.As(err, &fes) {
		for _, e := range fes {
			fmt.Fprintln(stderr, e)
		}
		return
	}
	var fe *scenarios.FileError
	if errors.As(err, &fe) {
		fmt.Fprintln(stderr, fe)
		return
	}
	fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
}

// cmdCheck validates scenario files without running them: each is parsed, checked, and
// set up once with its default knobs. Exit 0 when every file is valid, 2 otherwise.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "mfelab check: want one or more scenario files\n")
		return exitUsage
	}
	code := exitOK
	for _, path := range args {
		s, err := scenarios.LoadFile(path)
		if err == nil {
			_, err = scenarios.Start(s, 1, nil)
		}
		if err != nil {
			printLoadError(stderr, "mfelab check: "+path, err)
			code = exitUsage
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %d knobs, %d knob combinations)\n", path, s.ID, len(s.Knobs), len(s.Combinations()))
	}
	return code
}
