// Command mfelab is MFE Lab: a desktop laboratory for event-driven communication between
// simulated microfrontends. With no arguments it opens the GUI; with a command (list, run,
// replay, export) it works headless. Run `mfelab help` for the commands.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// windowOptions is what the command line asks of the desktop app.
type windowOptions struct {
	version         string
	historyPath     string
	historyExplicit bool // the path came from -history or the environment
	scenario        string
	knobs           scenarios.Values
	screenshot      string
	compareWith     *session.Side // with screenshot: picture the compare window with this run
	width, height   float32
}

// run reads the command line and either runs a headless command or opens the window; it
// returns the process's exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && !isFlag(args[0]) {
		return cli(args, stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("mfelab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	historyFile := fs.String("history", "", "history file (default: $MFELAB_HISTORY or the user config dir)")
	scenario := fs.String("scenario", "", "open this scenario (see mfelab list), or a scenario file (.yaml)")
	knobs := setFlags{}
	fs.Var(knobs, "set", "with -scenario: set a knob, as knob=value (repeatable)")
	screenshot := fs.String("screenshot", "", "run the scenario to its end, write a PNG of the window to this file and quit")
	compare := fs.String("compare", "", "with -screenshot: compare the run with this one (scenario:NAME[,knob=value...][@seed] or a log file, as for diff) and picture the compare window")
	size := fs.String("size", "", "open the window at this size, as WIDTHxHEIGHT (e.g. 1024x700), without remembering it")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	width, height, err := parseSize(*size)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab: -size: %v\n", err)
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, "mfelab", appVersion())
		return exitOK
	}
	if fs.NArg() > 0 {
		return cli(fs.Args(), stdin, stdout, stderr)
	}
	path, err := historyPath(*historyFile)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab: %v\n", err)
		return exitFail
	}
	if *scenario != "" {
		// a file is checked here so that its mistakes are printed, file:line:col each
		s, err := resolveScenario(*scenario)
		if err != nil {
			printLoadError(stderr, "mfelab", err)
			return exitUsage
		}
		if _, err := s.Resolve(scenarios.Values(knobs)); err != nil {
			fmt.Fprintf(stderr, "mfelab: %v\n", err)
			return exitUsage
		}
	} else if len(knobs) > 0 {
		fmt.Fprintln(stderr, "mfelab: -set needs -scenario")
		return exitUsage
	}
	var with *session.Side
	if *compare != "" {
		// a recorded run would need the history file the window is about to hold
		if *screenshot == "" || recordedRun.MatchString(*compare) {
			fmt.Fprintln(stderr, "mfelab: -compare needs -screenshot, and a scenario:NAME spec or a log file")
			return exitUsage
		}
		sd, err := diffSide(*compare, 42, scenarios.Values(knobs), nil, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "mfelab: -compare %s: %v\n", *compare, err)
			return exitUsage
		}
		with = &sd
	}
	return openWindow(windowOptions{version: appVersion(), historyPath: path,
		historyExplicit: *historyFile != "" || os.Getenv(history.EnvPath) != "",
		scenario:        *scenario, knobs: scenarios.Values(knobs), screenshot: *screenshot, compareWith: with, width: width, height: height}, stderr)
}

func isFlag(s string) bool { return len(s) > 1 && s[0] == '-' && s != "-" && s != "--" && !isHelp(s) }

func isHelp(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// parseSize reads a window size given as WIDTHxHEIGHT; an empty string is no size.
func parseSize(s string) (w, h float32, err error) {
	if s == "" {
		return 0, 0, nil
	}
	var wi, hi int
	if n, err := fmt.Sscanf(s, "%dx%d", &wi, &hi); err != nil || n != 2 || fmt.Sprintf("%dx%d", wi, hi) != s {
		return 0, 0, fmt.Errorf("%q is not WIDTHxHEIGHT, e.g. 1440x900", s)
	}
	if wi < 320 || hi < 240 || wi > 16384 || hi > 16384 {
		return 0, 0, fmt.Errorf("%dx%d is out of range (320x240 to 16384x16384)", wi, hi)
	}
	return float32(wi), float32(hi), nil
}
