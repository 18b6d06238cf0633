// Command mfelab is MFE Lab: a desktop laboratory for event-driven communication between
// simulated microfrontends. With no arguments it opens the GUI; with a command (list, run,
// replay, export) it works headless. Run `mfelab help` for the commands.
package main

import (
	"flag"
	"fmt"
	"os"

	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
	"mfelab/ui"
)

// version is the release shown by -version and in the window; keep it equal to FyneApp.toml.
const version = "0.1.0"

func main() {
	if len(os.Args) > 1 && !isFlag(os.Args[1]) {
		os.Exit(cli(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	fs := flag.NewFlagSet("mfelab", flag.ContinueOnError)
	showVersion := fs.Bool("version", false, "print the version and exit")
	historyFile := fs.String("history", "", "history file (default: $MFELAB_HISTORY or the user config dir)")
	scenario := fs.String("scenario", "", "open this scenario (see mfelab list)")
	knobs := setFlags{}
	fs.Var(knobs, "set", "with -scenario: set a knob, as knob=value (repeatable)")
	screenshot := fs.String("screenshot", "", "run the scenario to its end, write a PNG of the window to this file and quit")
	compare := fs.String("compare", "", "with -screenshot: compare the run with this one (scenario:NAME[,knob=value...][@seed] or a log file, as for diff) and picture the compare window")
	size := fs.String("size", "", "open the window at this size, as WIDTHxHEIGHT (e.g. 1024x700), without remembering it")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(exitUsage)
	}
	width, height, err := parseSize(*size)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mfelab: -size: %v\n", err)
		os.Exit(exitUsage)
	}
	if *showVersion {
		fmt.Println("mfelab", version)
		return
	}
	if fs.NArg() > 0 {
		os.Exit(cli(fs.Args(), os.Stdin, os.Stdout, os.Stderr))
	}
	path, err := historyPath(*historyFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mfelab: %v\n", err)
		os.Exit(exitFail)
	}
	if *scenario != "" {
		s, err := scenarios.Get(*scenario)
		if err == nil {
			_, err = s.Resolve(scenarios.Values(knobs))
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "mfelab: %v\n", err)
			os.Exit(exitUsage)
		}
	} else if len(knobs) > 0 {
		fmt.Fprintln(os.Stderr, "mfelab: -set needs -scenario")
		os.Exit(exitUsage)
	}
	var with *session.Side
	if *compare != "" {
		// a recorded run would need the history file the window is about to hold
		if *screenshot == "" || recordedRun.MatchString(*compare) {
			fmt.Fprintln(os.Stderr, "mfelab: -compare needs -screenshot, and a scenario:NAME spec or a log file")
			os.Exit(exitUsage)
		}
		sd, err := diffSide(*compare, 42, scenarios.Values(knobs), nil, os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mfelab: -compare %s: %v\n", *compare, err)
			os.Exit(exitUsage)
		}
		with = &sd
	}
	os.Exit(ui.Run(ui.Options{Version: version, HistoryPath: path, HistoryPathExplicit: *historyFile != "" || os.Getenv(history.EnvPath) != "",
		Scenario: *scenario, Knobs: scenarios.Values(knobs), Screenshot: *screenshot, CompareWith: with, Width: width, Height: height}))
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
