package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
	"mfelab/scenarios"
)

// RemoteOptions say how a run, or the apps served for one, join the other processes.
type RemoteOptions struct {
	// URL is the NATS server's (`mfelab serve` prints it); several may be given,
	// comma-separated.
	URL string
	// Apps are, for StartRemote, the apps other processes serve (see `mfelab app`); for
	// ServeApps, the apps this process serves. They must be among the scenario's
	// Detachable apps.
	Apps []string
	// User and Password log in to a server that enforces the apps' ACLs (`mfelab serve
	// -acl`): for ServeApps, as the app served.
	User, Password string
	// Logger receives the bridge's connection events (default slog.Default()).
	Logger *slog.Logger
	// Stream, for StartRemote, keeps a scenario that can (Scenario.StreamText) going for
	// this long instead of telling its story once (see scenarios.Options.Stream): the
	// checkout keeps ordering, so a remote app that goes away and comes back shows.
	Stream time.Duration
}

// ErrNoURL means a run was asked to join other processes without a server to join.
var ErrNoURL = errors.New("no NATS server URL given (start one with `mfelab serve`, which prints it)")

// ErrNoRemoteApps means StartRemote was not told which apps run elsewhere.
var ErrNoRemoteApps = errors.New("no remote app named: say which apps other processes serve")

// StartRemote makes a fresh, paused session of scenario s in which opts.Apps run in other
// processes (`mfelab app`), reached through the NATS server at opts.URL. The other apps
// are wired here as in Start; the bus sends what the remote apps may subscribe to and
// brings in what they may publish, and they show on the trace as remote apps.
//
// A joined session runs on the wall clock: Play runs at speed 1 whatever speed it is
// given, Step and StepAct do nothing, and RunToEnd plays until the run settles. Same
// seed, same log holds only for a run on its own: what arrives from the other processes,
// and when, is theirs. An app that does not answer makes the scenario's calls to it time
// out, as in a run where it is down.
func StartRemote(s *scenarios.Scenario, seed uint64, knobs scenarios.Values, opts RemoteOptions) (*Session, error) {
	if strings.TrimSpace(opts.URL) == "" {
		return nil, ErrNoURL
	}
	if len(opts.Apps) == 0 {
		return nil, ErrNoRemoteApps
	}
	ses := &Session{speed: 1}
	r, err := scenarios.StartWith(s, seed, knobs, scenarios.Options{
		Remote: opts.Apps, Origin: redactURL(opts.URL), Bus: natsbridge.LiveOptions, Stream: opts.Stream,
		Observe: []func(*scenarios.Run){ses.observe(false)},
	})
	if err != nil {
		if ses.untap != nil {
			ses.untap()
		}
		return nil, err
	}
	export, imp := r.Bridged()
	br, err := natsbridge.Connect(r.Bus, opts.URL, natsbridge.Options{
		Export: export, Import: imp, Driven: true, Name: "mfelab run " + s.ID,
		User: opts.User, Password: opts.Password, Logger: opts.Logger,
	})
	if err != nil {
		ses.untap()
		return nil, err
	}
	ses.run, ses.bridge = r, br
	return ses, nil
}

// Joined reports whether the session's bus is joined to other processes (StartRemote).
func (s *Session) Joined() bool { return s.bridge != nil }

// Bridge is the joined session's bridge to NATS (its URL, statistics and the remote apps
// it has heard from); nil for a session on its own.
func (s *Session) Bridge() *natsbridge.Bridge { return s.bridge }

// RemoteApps lists the run's apps that other processes serve, in panel order; a window
// draws their lifelines as remote.
func (s *Session) RemoteApps() []string { return s.run.Remote() }

// settleJoined plays a joined session at speed 1 until it settles, or until ctx ends,
// and returns how many trace events it added.
func (s *Session) settleJoined(ctx context.Context, until time.Time) int {
	before := s.trace.Len()
	s.Play(1)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !s.Settle() && s.run.Bus.Now().Before(until) {
		select {
		case <-ctx.Done():
			s.Pause()
			return s.trace.Len() - before
		case <-tick.C:
		}
	}
	s.Pause()
	return s.trace.Len() - before
}

// redactURL drops the credentials from each comma-separated URL in u, for labels.
func redactURL(u string) string {
	parts := strings.Split(u, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if pu, err := url.Parse(p); err == nil && pu.User != nil {
			pu.User = nil
			p = pu.String()
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

// Served is apps of a scenario served in this process for a run of it elsewhere (`mfelab
// app`): a bus of their own on the wall clock, joined to NATS, with the handlers the
// scenario gives them. It runs until Close.
type Served struct {
	run    *scenarios.Run
	bridge *natsbridge.Bridge
}

// ServeApps serves opts.Apps of scenario s, with the knobs set applied to them, joined to
// the NATS server at opts.URL, for a run started with StartRemote naming the same apps.
// Each observe func is called with the run before it is wired and joined, so a tap it
// adds sees every message handled.
func ServeApps(s *scenarios.Scenario, seed uint64, knobs scenarios.Values, opts RemoteOptions, observe ...func(*scenarios.Run)) (*Served, error) {
	if strings.TrimSpace(opts.URL) == "" {
		return nil, ErrNoURL
	}
	b := bus.New(natsbridge.LiveOptions(bus.Options{Seed: seed, RetainMax: 4096}))
	r, err := scenarios.StartApps(s, knobs, b, opts.Apps, redactURL(opts.URL), observe...)
	if err != nil {
		return nil, err
	}
	export, imp := r.Bridged()
	br, err := natsbridge.Connect(b, opts.URL, natsbridge.Options{
		Export: export, Import: imp, Name: "mfelab app " + strings.Join(opts.Apps, ","),
		User: opts.User, Password: opts.Password, Logger: opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("serving %s: %w", strings.Join(opts.Apps, ", "), err)
	}
	return &Served{run: r, bridge: br}, nil
}

// Run is the served apps' run: their world (state, fault switches) and bus.
func (sv *Served) Run() *scenarios.Run { return sv.run }

// Bridge is the served apps' bridge to NATS.
func (sv *Served) Bridge() *natsbridge.Bridge { return sv.bridge }

// Close leaves NATS and stops the bus: the served apps answer no more.
func (sv *Served) Close() { sv.bridge.Close() }
