package main

// The commands that read the history file: runs and export.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/session"
)

func cmdRuns(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mfelab runs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("history", "", "history file (default: $MFELAB_HISTORY or the user config dir)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mfelab runs: want no arguments but -history, got %q\n", fs.Args())
		return exitUsage
	}
	st, code := openHistory("mfelab runs", *path, true, stderr)
	if st == nil {
		return code
	}
	defer st.Close()
	runs, err := st.Runs()
	if err != nil {
		fmt.Fprintf(stderr, "mfelab runs: %v\n", err)
		return exitFail
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "%s holds no recorded runs\n", st.Path())
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tSCENARIO\tSEED\tKNOBS\tOUTCOME\tMESSAGES")
	for _, r := range runs {
		started := "-"
		if !r.Started.IsZero() {
			started = r.Started.Local().Format("2006-01-02 15:04:05")
		}
		knobs := r.KnobText()
		if knobs == "" {
			knobs = "-"
		}
		outcome := r.Outcome
		if len(r.Failed) > 0 {
			outcome += " (" + strings.Join(r.Failed, "; ") + ")"
		}
		if r.Error != "" {
			outcome += " [" + r.Error + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\n", r.ID, started, r.Scenario, r.Seed, knobs, outcome, r.Messages)
	}
	tw.Flush()
	return exitOK
}

func cmdExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mfelab export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("history", "", "history file (default: $MFELAB_HISTORY or the user config dir)")
	run := fs.String("run", "latest", "the recorded run to export (see mfelab runs), or latest")
	pattern := fs.String("pattern", "", "topic pattern (default all)")
	corr := fs.String("correlation", "", "only this correlation id")
	format := fs.String("format", "ndjson", "format: "+formatList())
	out := fs.String("o", "", "output file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mfelab export: want -o file and no other arguments\n")
		return exitUsage
	}
	f, err := history.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab export: %v\n", err)
		return exitUsage
	}
	if *pattern != "" {
		if err := bus.ValidatePattern(*pattern); err != nil {
			fmt.Fprintf(stderr, "mfelab export: %v\n", err)
			return exitUsage
		}
	}
	st, code := openHistory("mfelab export", *path, true, stderr)
	if st == nil {
		return code
	}
	defer st.Close()
	n, info, err := session.ExportRun(st, *run, *out, f, history.Query{Pattern: *pattern, CorrelationID: *corr})
	if err != nil {
		fmt.Fprintf(stderr, "mfelab export: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "exported %s of %s (%s, seed %d) from %s to %s (%s)\n", count(n, exportUnit(f)), info.ID, info.Scenario, info.Seed, st.Path(), *out, f)
	return exitOK
}

// openHistory opens the history file named by a flag (or the default), and says so when
// it had to move an unreadable one aside. readOnly is for commands that only read. On
// failure it prints why and returns nil and the exit code.
func openHistory(cmd, flagValue string, readOnly bool, stderr io.Writer) (*history.Store, int) {
	p, err := historyPath(flagValue)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, exitFail
	}
	// the command itself says, once, what happened to a damaged file or a failed write
	st, err := history.Open(p, history.Options{ReadOnly: readOnly, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		if readOnly && errors.Is(err, history.ErrCorrupt) {
			fmt.Fprintf(stderr, "%s only reads; to move the damaged file aside and start a fresh one, open it for writing: mfelab -history %s, or mfelab run <scenario> -record -history %s\n", cmd, p, p)
		}
		return nil, exitFail
	}
	if st.Recovered != "" {
		fmt.Fprintf(stderr, "%s: %s was unreadable; it was moved to %s and a new, empty history file was started\n", cmd, p, st.Recovered)
	}
	return st, exitOK
}
