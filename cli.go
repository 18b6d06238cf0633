package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/scenarios"
)

// Exit codes: 0 all checks passed, 1 a check failed or the work failed, 2 bad usage.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// cli runs a headless command and returns the exit code.
func cli(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch args[0] {
	case "list":
		return cmdList(stdout)
	case "run":
		return cmdRun(args[1:], stdin, stdout, stderr)
	case "replay":
		return cmdReplay(args[1:], stdout, stderr)
	case "export":
		return cmdExport(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "mfelab: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

const usage = `usage:
  mfelab                      open the desktop app (-history file to choose the store)
  mfelab list                 list the scenarios and their knobs
  mfelab run <scenario> [-seed N] [-set knob=value ...] [-step] [-quiet]
                              [-export file -format ndjson|cloudevents|csv|mermaid]
                              run a scenario headless; exit 0 only when every check passes
  mfelab replay <file>        replay an exported NDJSON or CloudEvents log through a fresh bus
                              and print the rebuilt state
  mfelab export [-history file] [-pattern p] [-correlation id] -format f -o file
                              export the persisted history
  mfelab -version
`

func cmdList(stdout io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, s := range scenarios.All() {
		fmt.Fprintf(tw, "%s\t%s\n", s.ID, s.Title)
		for _, k := range s.Knobs {
			fmt.Fprintf(tw, "\t  -set %s=%s\t%s (default %s)\n", k.Name, k.Range(), k.Label, k.Default)
		}
	}
	tw.Flush()
	return exitOK
}

// setFlags collects repeated -set knob=value.
type setFlags scenarios.Values

func (s setFlags) String() string { return scenarios.Values(s).String() }
func (s setFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want knob=value, got %q", v)
	}
	s[k] = val
	return nil
}

// splitFirst takes the first non-flag argument out, so flags may come before or after it.
func splitFirst(args []string) (string, []string) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			if i > 0 && !strings.Contains(args[i-1], "=") && isValueFlag(args[i-1]) {
				continue
			}
			return a, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
	}
	return "", args
}

func isValueFlag(f string) bool {
	switch strings.TrimLeft(f, "-") {
	case "seed", "set", "export", "format", "history", "pattern", "correlation", "o":
		return true
	}
	return false
}

func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	id, rest := splitFirst(args)
	fs := flag.NewFlagSet("mfelab run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 42, "random seed: the same seed and knobs give the same log")
	set := setFlags{}
	fs.Var(set, "set", "knob=value (repeatable)")
	step := fs.Bool("step", false, "pause after each event: Enter steps, c then Enter runs to the end")
	quiet := fs.Bool("quiet", false, "print only the checks")
	export := fs.String("export", "", "write the event log to this file")
	format := fs.String("format", "ndjson", "export format: "+formatList())
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	if id == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mfelab run: want one scenario, got %q %q\n%s", id, fs.Args(), scenarioList())
		return exitUsage
	}
	s, err := scenarios.Get(id)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab run: %v\n", err)
		return exitUsage
	}
	f, err := history.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab run: %v\n", err)
		return exitUsage
	}
	r, err := scenarios.Start(s, *seed, scenarios.Values(set))
	if err != nil {
		fmt.Fprintf(stderr, "mfelab run: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s (seed %d, %s)\n\n", s.Title, *seed, r.Knobs)
	printed := 0
	flush := func() {
		for _, e := range r.Log.Events(printed) {
			if !*quiet {
				fmt.Fprintln(stdout, r.Log.Format(e))
			}
			printed++
		}
	}
	if *step {
		in := bufio.NewScanner(stdin)
		for r.Step() {
			flush()
			fmt.Fprint(stdout, "-- Enter: next event, c: run to the end -- ")
			if !in.Scan() {
				fmt.Fprintln(stdout)
				break
			}
			if strings.TrimSpace(in.Text()) == "c" {
				break
			}
		}
	}
	r.RunToEnd()
	flush()
	checks := r.Checks()
	if !*quiet {
		fmt.Fprintf(stdout, "\nState\n%s", indent(scenarios.FormatSnapshots(r.World.Snapshots())))
		if dls := r.DLQ.List(); len(dls) > 0 {
			fmt.Fprintf(stdout, "\nDead letters\n")
			for _, e := range dls {
				fmt.Fprintf(stdout, "  #%d %s -> %s after %d attempt(s): %s\n", e.Envelope.Seq, e.Topic, e.Subscriber, e.Attempts, e.Reason)
			}
		}
	}
	fmt.Fprintf(stdout, "\nOutcome checks\n%s", indent(scenarios.FormatChecks(checks)))
	if *export != "" {
		n, err := history.ExportTrace(*export, f, r.Log.Events(0))
		if err != nil {
			fmt.Fprintf(stderr, "mfelab run: export: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "\nexported %d messages to %s (%s)\n", n, *export, f)
	}
	if !scenarios.Passed(checks) {
		return exitFail
	}
	return exitOK
}

func indent(s string) string {
	var out strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			out.WriteString("  " + line)
		}
	}
	return out.String()
}

func formatList() string {
	names := make([]string, len(history.Formats))
	for i, f := range history.Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

func scenarioList() string {
	var sb strings.Builder
	sb.WriteString("scenarios:\n")
	for _, s := range scenarios.All() {
		fmt.Fprintf(&sb, "  %s\n", s.ID)
	}
	return sb.String()
}

func cmdReplay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mfelab replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("quiet", false, "print only the rebuilt state")
	file, rest := splitFirst(args)
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	if file == "" {
		fmt.Fprintf(stderr, "mfelab replay: want the file to replay\n")
		return exitUsage
	}
	res, err := history.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab replay: %v\n", err)
		return exitFail
	}
	for _, le := range res.Errors {
		fmt.Fprintf(stderr, "mfelab replay: %s: skipped %v\n", file, le)
	}
	r, err := scenarios.Replay(res.Envelopes)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab replay: %v\n", err)
		return exitFail
	}
	r.RunToEnd()
	if !*quiet {
		for _, line := range r.Log.Lines() {
			fmt.Fprintln(stdout, line)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "Replayed %d messages (%d lines skipped)\n\nRebuilt state\n%s", len(res.Envelopes), len(res.Errors),
		indent(scenarios.FormatSnapshots(r.World.Snapshots())))
	checks := r.Checks()
	if !scenarios.Passed(checks) {
		fmt.Fprintf(stdout, "\n%s", scenarios.FormatChecks(checks))
		return exitFail
	}
	return exitOK
}

func cmdExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mfelab export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("history", "", "history file (default: $MFELAB_HISTORY or the user config dir)")
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
	p, err := historyPath(*path)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab export: %v\n", err)
		return exitFail
	}
	st, err := history.Open(p, history.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "mfelab export: %v\n", err)
		return exitFail
	}
	defer st.Close()
	n, err := st.ExportFile(*out, f, history.Query{Pattern: *pattern, CorrelationID: *corr})
	if err != nil {
		fmt.Fprintf(stderr, "mfelab export: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "exported %d messages from %s to %s (%s)\n", n, p, *out, f)
	return exitOK
}

// historyPath is the -history flag, or else MFELAB_HISTORY, or else the default file.
func historyPath(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return history.DefaultPath()
}
