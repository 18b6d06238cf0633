package main

// The diff command: compare two runs' flows.

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"regexp"
	"strconv"
	"strings"

	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

// scenarioPrefix starts a run spec that names a scenario to run fresh.
const scenarioPrefix = "scenario:"

// recordedRun matches what names a recorded run in the history file.
var recordedRun = regexp.MustCompile(`^(latest|run-[0-9]+)$`)

func cmdDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mfelab diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	historyFile := fs.String("history", "", "history file the recorded runs are read from (default: $MFELAB_HISTORY or the user config dir)")
	seed := seedFlag(42)
	fs.Var(&seed, "seed", "seed of the scenario runs that do not give one with @seed")
	set := setFlags{}
	fs.Var(set, "set", "knob=value for every scenario run (repeatable; a knob in the spec wins)")
	context := fs.Int("context", 3, "alike deliveries shown on each side of a difference")
	all := fs.Bool("all", false, "show every place where the flows part, not only the first")
	positional, flags := splitPositional(args, "history", "seed", "set", "context")
	if err := fs.Parse(flags); err != nil {
		return exitUsage
	}
	positional = append(positional, fs.Args()...)
	if len(positional) != 2 {
		fmt.Fprintf(stderr, "mfelab diff: want two runs, got %d\n%s", len(positional), diffUsage)
		return exitUsage
	}
	if *context < 0 {
		fmt.Fprintf(stderr, "mfelab diff: -context wants 0 or more, got %d\n", *context)
		return exitUsage
	}
	var store *history.Store
	var sides [2]session.Side
	for i, spec := range positional {
		if recordedRun.MatchString(spec) && store == nil {
			st, _ := openHistory("mfelab diff", *historyFile, true, stderr)
			if st == nil {
				return exitUsage
			}
			defer st.Close()
			store = st
		}
		sd, err := diffSide(spec, uint64(seed), scenarios.Values(set), store, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "mfelab diff: %s %s: %v\n", "AB"[i:i+1], spec, err)
			return exitUsage
		}
		sides[i] = sd
	}
	c, err := session.Compare(sides[0], sides[1])
	if err != nil {
		fmt.Fprintf(stderr, "mfelab diff: %v\n", err)
		return exitUsage
	}
	if err := c.WriteReport(stdout, session.ReportOptions{Context: *context, All: *all}); err != nil {
		fmt.Fprintf(stderr, "mfelab diff: %v\n", err)
		return exitFail
	}
	if c.Equal() {
		return exitOK
	}
	return exitFail
}

const diffUsage = `usage: mfelab diff <run> <run> [-seed N] [-set knob=value ...] [-history file] [-context N] [-all]
a run is one of:
  scenario:NAME[,knob=value...][@seed]   a fresh run of a scenario (see mfelab list)
                                         or of a scenario file (scenario:FILE.yaml,...)
  FILE.yaml, FILE.yml                    a fresh run of a scenario file
  latest, run-000003                     a run recorded in the history file (see mfelab runs)
  FILE                                   an exported NDJSON or CloudEvents log
`

// splitPositional separates the arguments that are not flags from the flags, so flags may
// come anywhere; valueFlags take the next argument as their value unless given with =.
func splitPositional(args []string, valueFlags ...string) (positional, flags []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(positional, args[i+1:]...), flags
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && i+1 < len(args) {
			for _, v := range valueFlags {
				if name == v {
					i++
					flags = append(flags, args[i])
				}
			}
		}
	}
	return positional, flags
}

// diffSide reads one run to compare: a scenario run fresh, a recorded run, or a log.
func diffSide(spec string, seed uint64, set scenarios.Values, store *history.Store, stderr io.Writer) (session.Side, error) {
	switch {
	case strings.HasPrefix(spec, scenarioPrefix):
		return scenarioSide(strings.TrimPrefix(spec, scenarioPrefix), seed, set)
	case recordedRun.MatchString(spec):
		return session.LoadSide(store, spec)
	case isYAMLFile(spec): // a scenario file, not a log: run it fresh
		return scenarioSide(spec, seed, set)
	}
	res, err := history.ReadFile(spec)
	if err != nil {
		return session.Side{}, fmt.Errorf("%w; a run is scenario:NAME[,knob=value...][@seed], a recorded run (latest, run-000003) or an exported log", err)
	}
	for _, le := range res.Errors {
		fmt.Fprintf(stderr, "mfelab diff: %s: skipped %v\n", spec, le)
	}
	ses, err := session.Replay(res.Envelopes, 0, "log "+spec)
	if err != nil {
		return session.Side{}, err
	}
	ses.RunToEnd()
	sd := ses.Side(fmt.Sprintf("%s, a log of %s", spec, count(len(res.Envelopes), "message")))
	return sd, ses.Close()
}

// scenarioSide runs a scenario spec, NAME[,knob=value...][@seed], to its end.
func scenarioSide(spec string, seed uint64, set scenarios.Values) (session.Side, error) {
	if at := strings.LastIndexByte(spec, '@'); at >= 0 {
		n, err := strconv.ParseUint(spec[at+1:], 10, 64)
		if err != nil {
			return session.Side{}, fmt.Errorf("the seed after @ must be a whole number from 0 to 18446744073709551615, got %q", spec[at+1:])
		}
		seed, spec = n, spec[:at]
	}
	parts := strings.Split(spec, ",")
	s, err := resolveScenario(parts[0])
	if err != nil {
		return session.Side{}, err
	}
	knobs := maps.Clone(set)
	if knobs == nil {
		knobs = scenarios.Values{}
	}
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return session.Side{}, fmt.Errorf("want knob=value after the scenario's name, got %q", kv)
		}
		knobs[k] = v
	}
	ses, err := session.Start(s, seed, knobs)
	if err != nil {
		return session.Side{}, err
	}
	ses.RunToEnd()
	name := fmt.Sprintf("%s, seed %d", s.ID, seed)
	if k := ses.Run().Knobs.String(); k != "" {
		name += ", " + k
	}
	sd := ses.Side(name)
	return sd, ses.Close()
}
