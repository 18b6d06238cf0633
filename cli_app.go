package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
	"mfelab/scenarios"
	"mfelab/session"
)

// defaultNATS is the server `mfelab serve` starts unless told otherwise.
const defaultNATS = "nats://" + natsbridge.DefaultListen

// defaultAppScenario is the scenario `mfelab app` serves an app of unless told otherwise.
const defaultAppScenario = "checkout-orchestrated"

// cmdApp runs `mfelab app` until SIGINT or SIGTERM.
func cmdApp(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveApp(ctx, args, stdout, stderr)
}

// serveApp runs one of a scenario's microfrontends on a bus of its own, joined to NATS,
// answering for it in a run of the scenario elsewhere (`mfelab run ... -remote NAME`),
// until ctx ends.
func serveApp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name, rest := splitFirst(args)
	fs := flag.NewFlagSet("mfelab app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("nats", defaultNATS, "NATS server to join (`mfelab serve` prints its address)")
	scenario := fs.String("scenario", defaultAppScenario, "the scenario whose app this is, with its handlers")
	seed := seedFlag(42)
	fs.Var(&seed, "seed", "random seed for the app's injected failures")
	set := setFlags{}
	fs.Var(set, "set", "knob=value (repeatable): the scenario's knobs, as the run sets them; they apply to this app (its latency, its failures)")
	user := fs.String("user", "", "log in as this user (the app's name, on a server started with -acl)")
	password := fs.String("password", "", "with -user: the password (default: $"+envNATSPassword+")")
	quiet := fs.Bool("quiet", false, "print only what the app serves, not each message it handles")
	verbose := fs.Bool("v", false, "log the connection's events")
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	if name == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mfelab app: want one app to serve, got %q %q\n%s", name, fs.Args(), appList(*scenario))
		return exitUsage
	}
	s, err := resolveScenario(*scenario)
	if err != nil {
		printLoadError(stderr, "mfelab app", err)
		return exitUsage
	}
	if _, err := s.Resolve(scenarios.Values(set)); err != nil {
		fmt.Fprintf(stderr, "mfelab app: %v\n", err)
		return exitUsage
	}
	pw := *password
	if pw == "" && *user != "" {
		pw = os.Getenv(envNATSPassword)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	lines := newLinePrinter(stdout)
	defer lines.close()
	var handled atomic.Int64 // deliveries to the served app
	observe := func(r *scenarios.Run) {
		epoch, local := r.Bus.Epoch(), r.Local()
		r.Bus.Tap(func(e bus.TraceEvent) {
			if !slices.Contains(local, e.App) || !handledKind(e.Kind) {
				return
			}
			if e.Kind == bus.TraceDelivered {
				handled.Add(1)
			}
			if !*quiet {
				lines.print(session.FormatEvent(e, epoch))
			}
		})
	}
	sv, err := session.ServeApps(s, uint64(seed), scenarios.Values(set),
		session.RemoteOptions{URL: *url, Apps: []string{name}, User: *user, Password: pw, Logger: logger}, observe)
	if err != nil {
		fmt.Fprintf(stderr, "mfelab app: %v\n", err)
		if errors.Is(err, scenarios.ErrPlacement) {
			return exitUsage
		}
		return exitFail
	}
	r := sv.Run()
	a := r.World.App(name)
	export, imp := r.Bridged()
	lines.print(fmt.Sprintf("Serving %s (%s: %s) of %s (%s), joined to %s\n  sends   %s\n  hears   %s\n"+
		"Run the scenario with `mfelab run %s -nats %s -remote %s`. Stop with Ctrl-C.",
		name, a.Title, a.Role, s.ID, r.Knobs, sv.Bridge().URL(), strings.Join(export, " "), strings.Join(imp, " "),
		s.ID, sv.Bridge().URL(), name))
	<-ctx.Done()
	sv.Close()
	st := sv.Bridge().Stats()
	lines.print(fmt.Sprintf("Stopping %s: handled %s; %d sent, %d received.", name, count(int(handled.Load()), "message"), st.Forwarded, st.Imported))
	return exitOK
}

// handledKind says whether a trace event of kind on a served app is worth a line: what
// it was handed, what it published, and what went wrong.
func handledKind(k bus.TraceKind) bool {
	switch k {
	case bus.TraceDelivered, bus.TracePublished, bus.TraceHandlerFailed, bus.TraceDeadLettered, bus.TraceRejected:
		return true
	}
	return false
}

// appList names the apps of a scenario that `mfelab app` can serve.
func appList(id string) string {
	s, err := scenarios.Get(id)
	if err != nil || len(s.Detachable) == 0 {
		return ""
	}
	return fmt.Sprintf("apps of %s that can run on their own: %s\n", s.ID, strings.Join(s.Detachable, ", "))
}

// linePrinter prints lines from one goroutine, so that a bus tap hands a line over
// without waiting for the terminal; past a full buffer it counts what it drops.
type linePrinter struct {
	out     io.Writer
	ch      chan string
	done    chan struct{}
	mu      sync.Mutex
	dropped int
	once    sync.Once
}

func newLinePrinter(out io.Writer) *linePrinter {
	p := &linePrinter{out: out, ch: make(chan string, 4096), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for l := range p.ch {
			fmt.Fprintln(p.out, l)
		}
	}()
	return p
}

func (p *linePrinter) print(line string) {
	select {
	case p.ch <- line:
	default:
		p.mu.Lock()
		p.dropped++
		p.mu.Unlock()
	}
}

// close prints what is queued, and how many lines were dropped, and stops.
func (p *linePrinter) close() {
	p.once.Do(func() {
		close(p.ch)
		<-p.done
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.dropped > 0 {
			fmt.Fprintf(p.out, "(%d lines not printed: the terminal did not keep up)\n", p.dropped)
		}
	})
}

// remoteFlags collects repeated or comma-separated -remote app names.
type remoteFlags []string

func (r *remoteFlags) String() string { return strings.Join(*r, ",") }
func (r *remoteFlags) Set(v string) error {
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			*r = append(*r, n)
		}
	}
	return nil
}

// playJoined plays a joined session on the wall clock until it settles or ctx ends,
// calling flush as the trace grows.
func playJoined(ctx context.Context, ses *session.Session, flush func()) {
	ses.Play(1)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !ses.Settle() {
		select {
		case <-ctx.Done():
			ses.Pause()
			flush()
			return
		case <-tick.C:
			flush()
		}
	}
	flush()
}

// startJoined starts a run of s with the remote apps served by other processes, joined
// to the NATS server at url, and says so on stderr. On failure it returns the exit code:
// bad usage for knobs or apps the scenario does not take, a failure for a server it
// cannot reach.
func startJoined(s *scenarios.Scenario, seed uint64, set scenarios.Values, url string, remote []string, user, password string, stderr io.Writer) (*session.Session, int) {
	if _, err := s.Resolve(set); err != nil {
		fmt.Fprintf(stderr, "mfelab run: %v\n", err)
		return nil, exitUsage
	}
	if password == "" && user != "" {
		password = os.Getenv(envNATSPassword)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ses, err := session.StartRemote(s, seed, set, session.RemoteOptions{URL: url, Apps: remote, User: user, Password: password, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "mfelab run: %v\n", err)
		if errors.Is(err, scenarios.ErrPlacement) {
			return nil, exitUsage
		}
		return nil, exitFail
	}
	fmt.Fprintf(stderr, "joined %s: %s served by other processes (mfelab app NAME -nats %s); the run keeps to the wall clock\n",
		ses.Bridge().URL(), strings.Join(remote, ", "), ses.Bridge().URL())
	return ses, exitOK
}
