package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
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
	case "runs":
		return cmdRuns(args[1:], stdout, stderr)
	case "diff":
		return cmdDiff(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "app":
		return cmdApp(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "import-asyncapi":
		return cmdImportAsyncAPI(args[1:], stdout, stderr)
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
  mfelab run <scenario|file.yaml> [-seed N] [-set knob=value ...] [-step] [-quiet]
                              [-export file [-format ndjson|cloudevents|csv|mermaid]]
                              [-record [-history file]]
                              [-export-test file_test.go [-test-package name]]
                              run a scenario headless; exit 0 only when every check passes.
                              -export-test keeps the run as a Go test: same knobs and seed,
                              same checks, same flow delivery for delivery.
                              A scenario ending in .yaml or .yml, or holding a /, is a
                              scenario file (docs/scenario-format.md)
  mfelab run <scenario> -nats URL -remote APP[,APP...] [-user U -password P] [-seed N] [-set ...]
                              run it with APP served by another process (mfelab app), on
                              the wall clock; an APP that does not answer makes its calls
                              time out
  mfelab check <file.yaml>... validate scenario files without running them; exit 0 when
                              all are valid, 2 with file:line:col: what is wrong
  mfelab import-asyncapi <spec.yaml>... [-o out.yaml] [-id name] [-title text]
                              write a scenario file from AsyncAPI 3.0 documents, one per
                              application: apps, topics, ACLs, contracts and an example of
                              each message; exit 2 with file:line:col: what is wrong
  mfelab replay <file>        replay an exported NDJSON or CloudEvents log through a fresh bus
                              and print the rebuilt state
  mfelab runs [-history file] list the recorded runs, newest first
  mfelab export [-history file] [-run id|latest] [-pattern p] [-correlation id]
                [-format f] -o file
                              export one recorded run (the newest unless -run says)
  mfelab diff <run> <run> [-seed N] [-set knob=value ...] [-history file] [-context N] [-all]
                              compare two runs' flows: where they first part, then a summary;
                              exit 0 when they match, 1 when they differ, 2 on bad input.
                              A run is scenario:NAME[,knob=value...][@seed] (run fresh),
                              latest or run-000003 (recorded), or an exported log file
  mfelab serve [-listen host:port] [-websocket host:port] [-acl [-password p]]
                              run a NATS server that buses in other processes join
  mfelab app <APP> [-nats URL] [-scenario ID] [-set knob=value ...] [-user U -password P] [-quiet]
                              serve one app of a scenario (default checkout-orchestrated) in
                              this process, joined to NATS, until Ctrl-C; prints each
                              message it handles
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
	case "seed", "set", "export", "format", "history", "pattern", "correlation", "o", "run", "export-test", "test-package",
		"nats", "remote", "user", "password", "scenario":
		return true
	}
	return false
}

func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	id, rest := splitFirst(args)
	fs := flag.NewFlagSet("mfelab run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := seedFlag(42)
	fs.Var(&seed, "seed", "random seed, a whole number from 0 to 18446744073709551615: the same seed and knobs give the same log")
	set := setFlags{}
	fs.Var(set, "set", "knob=value (repeatable)")
	step := fs.Bool("step", false, "pause after each event: Enter steps, c then Enter runs to the end")
	quiet := fs.Bool("quiet", false, "print only the checks")
	export := fs.String("export", "", "write the event log to this file")
	format := fs.String("format", "ndjson", "export format: "+formatList())
	record := fs.Bool("record", false, "record the run in the history file, as the desktop app does")
	historyFile := fs.String("history", "", "with -record: history file (default: $MFELAB_HISTORY or the user config dir)")
	exportTest := fs.String("export-test", "", "write the run as a Go test file that expects the same checks and flow")
	testPackage := fs.String("test-package", "", "with -export-test: the test file's package (default: name_test of the package in its directory, else the directory's name, else labtest)")
	natsURL := fs.String("nats", "", "join the NATS server at this URL, with the -remote apps served by other processes (mfelab app)")
	var remote remoteFlags
	fs.Var(&remote, "remote", "with -nats: an app another process serves (repeatable, or comma-separated)")
	natsUser := fs.String("user", "", "with -nats: log in as this user")
	natsPassword := fs.String("password", "", "with -user: the password (default: $"+envNATSPassword+")")
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	if joined := *natsURL != "" || len(remote) > 0; joined && (*natsURL == "" || len(remote) == 0 || *step || *record || *exportTest != "") {
		fmt.Fprintf(stderr, "mfelab run: -nats and -remote go together, and a run joined to other processes runs on the wall clock: it cannot -step, -record or -export-test\n")
		return exitUsage
	}
	if id == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mfelab run: want one scenario, got %q %q\n%s", id, fs.Args(), scenarioList())
		return exitUsage
	}
	s, err := resolveScenario(id)
	if err != nil {
		printLoadError(stderr, "mfelab run", err)
		return exitUsage
	}
	f, err := history.ParseFormat(*format)
	if err == nil {
		err = checkTestPackage(*testPackage)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mfelab run: %v\n", err)
		return exitUsage
	}
	var ses *session.Session
	if *natsURL != "" {
		var code int
		if ses, code = startJoined(s, uint64(seed), scenarios.Values(set), *natsURL, remote, *natsUser, *natsPassword, stderr); ses == nil {
			return code
		}
		defer func() { _ = ses.Close() }()
	} else if ses, err = session.Start(s, uint64(seed), scenarios.Values(set)); err != nil {
		fmt.Fprintf(stderr, "mfelab run: %v\n", err)
		return exitUsage
	}
	if *record {
		st, code := openHistory("mfelab run", *historyFile, false, stderr)
		if st == nil {
			return code
		}
		defer st.Close()
		info, err := ses.Record(st)
		if err != nil {
			fmt.Fprintf(stderr, "mfelab run: %v\n", err)
			return exitFail
		}
		defer func() { _ = ses.Close() }()
		fmt.Fprintf(stdout, "recording as %s in %s\n", info.ID, st.Path())
	}
	r := ses.Run()
	fmt.Fprintf(stdout, "%s (seed %d, %s)\n\n", s.Title, uint64(seed), r.Knobs)
	t := ses.Trace()
	printed := 0
	flush := func() {
		for ; printed < t.Len(); printed++ {
			if !*quiet {
				fmt.Fprintln(stdout, t.Format(printed))
			}
		}
	}
	if *step {
		in := bufio.NewScanner(stdin)
		for ses.Step() {
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
	if ses.Joined() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		playJoined(ctx, ses, flush)
		stop()
	} else {
		ses.RunToEnd()
	}
	flush()
	checks := ses.Checks()
	if !*quiet {
		fmt.Fprintf(stdout, "\nState\n%s", indent(scenarios.FormatSnapshots(r.World.Snapshots())))
		if dls := r.DLQ.List(); len(dls) > 0 {
			fmt.Fprintf(stdout, "\nDead letters\n")
			for _, e := range dls {
				fmt.Fprintf(stdout, "  #%d %s -> %s after %d attempt(s): %s\n", e.Envelope.Seq, e.Topic, e.Subscriber, e.Attempts, e.Reason)
			}
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "Outcome checks\n%s", indent(scenarios.FormatChecks(checks)))
	code := exitOK
	if !scenarios.Passed(checks) {
		code = exitFail
	}
	if *export != "" {
		n, err := ses.Export(*export, f)
		if err != nil {
			fmt.Fprintf(stderr, "mfelab run: export: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "\nexported %s to %s (%s)\n", count(n, exportUnit(f)), *export, f)
	}
	if *exportTest != "" && exportGoTest(ses, *exportTest, *testPackage, stdout, stderr) != exitOK {
		return exitFail
	}
	if *record {
		if err := ses.StopRecording(); err != nil {
			fmt.Fprintf(stderr, "mfelab run: %v\nThe run was not fully recorded; what was written before the failure is intact.\n", err)
			return exitFail
		}
		info, _ := ses.Recording()
		fmt.Fprintf(stdout, "recorded as %s: %s, %s\n", info.ID, info.Outcome, count(int(info.Messages), "message"))
	}
	return code
}

// exportUnit is what an export of format f counts.
func exportUnit(f history.Format) string {
	if f == history.Mermaid {
		return "arrow"
	}
	return "message"
}

// count renders "1 message", "2 messages".
func count(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// seedFlag reads a seed and says what a seed is when it cannot.
type seedFlag uint64

func (s *seedFlag) String() string { return strconv.FormatUint(uint64(*s), 10) }
func (s *seedFlag) Set(v string) error {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return fmt.Errorf("want a whole number from 0 to 18446744073709551615, got %q", v)
	}
	*s = seedFlag(n)
	return nil
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
	// The log is held packed and the trace only its newest events, each line printed as
	// its event happens: a log of a million messages replays in a few hundred megabytes.
	log, err := history.ReadLogFile(context.Background(), file, nil)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab replay: %v\n", err)
		return exitFail
	}
	for _, le := range log.Errors() {
		fmt.Fprintf(stderr, "mfelab replay: %s: skipped %v\n", file, le)
	}
	ses, err := session.ReplayFrom(log, 0, "replay of "+file)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab replay: %v\n", err)
		return exitFail
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if *quiet {
		ses.RunToEndLines(nil)
	} else {
		ses.RunToEndLines(func(line string) {
			out.WriteString(line)
			out.WriteByte('\n')
		})
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "Replayed %s (%s skipped)\n\nRebuilt state\n%s", count(log.Len(), "message"), count(len(log.Errors()), "line"),
		indent(scenarios.FormatSnapshots(ses.Run().World.Snapshots())))
	checks := ses.Checks()
	if !scenarios.Passed(checks) {
		fmt.Fprintf(out, "\n%s", scenarios.FormatChecks(checks))
		return exitFail
	}
	return exitOK
}

// historyPath is the -history flag, or else MFELAB_HISTORY, or else the default file.
func historyPath(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return history.DefaultPath()
}
