// Command mfelab is MFE Lab: a desktop laboratory for event-driven communication between
// simulated microfrontends. With no arguments it opens the GUI; with a command (list, run,
// replay, export) it works headless. Run `mfelab help` for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

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
	// join and share: the bus the window joins, or shares and joins, with other processes
	join  joinFlags
	share string
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
	natsURL := fs.String("nats", "", "join the NATS server at this URL (mfelab serve prints it), with the -remote apps served by other processes (mfelab app)")
	var remote remoteFlags
	fs.Var(&remote, "remote", "with -nats or -share: the apps other processes serve, comma-separated (e.g. payment)")
	share := &shareFlag{}
	fs.Var(share, "share", "share the bus: start a NATS server on ADDR (default "+defaultShare+"; -share=ADDR, or -share ADDR) and join it, with the -remote apps served by the processes that join")
	user := fs.String("user", "", "with -nats: log in as this user (on a server started with -acl)")
	password := fs.String("password", "", "with -user: the password (default: $"+envNATSPassword+")")
	stream := fs.Duration("stream", 2*time.Minute, "with -nats or -share: keep a scenario that can going this long (the orchestrated checkout orders every second); 0 tells its story once")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if share.on && share.addr == "" && fs.NArg() > 0 && strings.Contains(fs.Arg(0), ":") {
		// -share is a switch with an optional value: "-share 0.0.0.0:4222" gives it one
		share.addr = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitUsage
		}
	}
	join, err := joinOptions(*natsURL, remote, share, *user, *password, *stream)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab: %v\n", err)
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
		scenario:        *scenario, knobs: scenarios.Values(knobs), screenshot: *screenshot, compareWith: with, width: width, height: height,
		join: join, share: share.address()}, stderr)
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

// joinFlags are the window's -nats, -remote, -user, -password and -stream flags (gui.go
// hands them to the window; a build without it has no use for them).
type joinFlags struct {
	URL            string
	Apps           []string
	User, Password string
	Stream         time.Duration
}

// defaultShare is where -share listens unless given an address.
const defaultShare = "127.0.0.1:4222"

// shareFlag is -share: a switch that may take the address to listen on.
type shareFlag struct {
	on   bool
	addr string
}

func (f *shareFlag) String() string { return f.addr }

// Set takes -share alone (the flag package passes "true") or -share=ADDR.
func (f *shareFlag) Set(v string) error {
	f.on = true
	if v != "true" {
		f.addr = v
	}
	return nil
}

// IsBoolFlag lets -share stand alone.
func (f *shareFlag) IsBoolFlag() bool { return true }

// address is where to share the bus, "" when not sharing.
func (f *shareFlag) address() string {
	if !f.on {
		return ""
	}
	if f.addr == "" {
		return defaultShare
	}
	return f.addr
}

// joinOptions checks the window's -nats, -remote, -share, -user and -password flags
// together and says what the window joins.
func joinOptions(url string, remote []string, share *shareFlag, user, password string, stream time.Duration) (joinFlags, error) {
	joined := url != "" || share.on
	switch {
	case url != "" && share.on:
		return joinFlags{}, errors.New("-nats joins another process's server and -share starts one here: give one of them")
	case !joined && (len(remote) > 0 || user != ""):
		return joinFlags{}, errors.New("-remote and -user need -nats URL (or -share)")
	case joined && len(remote) == 0:
		return joinFlags{}, errors.New("say which apps other processes serve, e.g. -remote payment (see mfelab app)")
	case stream < 0:
		return joinFlags{}, errors.New("-stream must not be negative")
	}
	if !joined {
		return joinFlags{}, nil
	}
	if password == "" && user != "" {
		password = os.Getenv(envNATSPassword)
	}
	return joinFlags{URL: url, Apps: remote, User: user, Password: password, Stream: stream}, nil
}
