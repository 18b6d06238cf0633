package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mfelab/bus"
)

// Options change how StartWith builds a run. The zero value is Start's run: every app
// here, on a bus of its own.
type Options struct {
	// Remote names apps that another process serves (StartApps, `mfelab app`). The run
	// registers them as remote apps (bus.App.Remote) for a bridge to publish through and
	// wires none of their handlers; checks that read their state are skipped. Only the
	// scenario's Detachable apps may be remote.
	Remote []string
	// Origin labels the remote apps (bus.AppConfig.Origin): where they run, say the NATS
	// server's URL. Default "another process".
	Origin string
	// Bus adjusts the options the run's bus is made with; natsbridge.LiveOptions for a bus
	// that joins other processes.
	Bus func(bus.Options) bus.Options
	// Observe are called with the run after its bus and world exist and before the
	// scenario sets up, as Start's observe funcs are.
	Observe []func(*Run)
	// Stream, for a scenario that can (Scenario.StreamText), keeps its story going for
	// this long instead of telling it once: the orchestrated checkout places an order
	// every second, its charge through a breaker. It is meant for a joined run, where an
	// app in another process can go away and come back while orders keep coming; the
	// scenario's checks become the stream's. Zero: the story is told once, as in Start.
	Stream time.Duration
}

const defaultOrigin = "another process"

// ErrPlacement marks a request to run an app somewhere the scenario cannot run it.
var ErrPlacement = errors.New("cannot run the app there")

// PlacementError says which app cannot run in another process, and which can.
type PlacementError struct {
	Scenario string
	App      string
	// Unknown says the scenario has no app of that name (Apps lists its apps); otherwise
	// the app exists but its wiring cannot be split from the rest of the run.
	Unknown    bool
	Apps       []string
	Detachable []string
}

func (e *PlacementError) Error() string {
	can := "none can"
	if len(e.Detachable) > 0 {
		can = "these can: " + strings.Join(e.Detachable, ", ")
	}
	if e.App == "" {
		return fmt.Sprintf("scenario %s: name an app to run in its own process; %s", e.Scenario, can)
	}
	if e.Unknown {
		return fmt.Sprintf("scenario %s has no app %q; its apps are %s", e.Scenario, e.App, strings.Join(e.Apps, ", "))
	}
	return fmt.Sprintf("scenario %s: app %q cannot run in another process; %s", e.Scenario, e.App, can)
}

// Unwrap makes a PlacementError an ErrPlacement.
func (e *PlacementError) Unwrap() error { return ErrPlacement }

// appNames lists the scenario's apps in panel order.
func (s *Scenario) appNames() []string {
	specs := s.Apps
	if specs == nil {
		specs = labApps()
	}
	names := make([]string, len(specs))
	for i, a := range specs {
		names[i] = a.Name
	}
	return names
}

// placement checks that every app in names is one of the scenario's detachable apps and
// returns the set of apps served elsewhere: names, or with serve every other app.
func (s *Scenario) placement(names []string, serve bool) (map[string]bool, error) {
	all := s.appNames()
	if serve && len(names) == 0 {
		return nil, &PlacementError{Scenario: s.ID, Apps: all, Detachable: slices.Clone(s.Detachable)}
	}
	named := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(all, n) {
			return nil, &PlacementError{Scenario: s.ID, App: n, Unknown: true, Apps: all, Detachable: slices.Clone(s.Detachable)}
		}
		if !slices.Contains(s.Detachable, n) {
			return nil, &PlacementError{Scenario: s.ID, App: n, Apps: all, Detachable: slices.Clone(s.Detachable)}
		}
		named[n] = true
	}
	if !serve {
		return named, nil
	}
	remote := map[string]bool{}
	for _, n := range all {
		if !named[n] {
			remote[n] = true
		}
	}
	return remote, nil
}

// StartApps serves the named apps of scenario s on b, for a run of s in another process
// (StartWith with these apps in Options.Remote): it wires only their handlers, as s would
// in a run of its own, with the knobs set applied to them (their latency, their injected
// failures). The scenario's other apps are registered as remote apps labelled origin, for
// a bridge to publish through. The run neither acts nor checks (Drives is false): the run
// it serves does both. b is typically made with natsbridge.LiveOptions and joined to NATS
// with the patterns Bridged returns.
func StartApps(s *Scenario, set Values, b *bus.Bus, apps []string, origin string, observe ...func(*Run)) (*Run, error) {
	if b == nil {
		return nil, errors.New("scenarios: StartApps needs a bus")
	}
	knobs, err := s.Resolve(set)
	if err != nil {
		return nil, err
	}
	remote, err := s.placement(apps, true)
	if err != nil {
		return nil, err
	}
	return start(s, knobs, b, remote, origin, true, observe)
}

// Drives reports whether the run plays the scenario (its acts and checks) rather than
// only serving some of its apps for a run elsewhere (StartApps).
func (r *Run) Drives() bool { return !r.serves }

// Remote lists the apps of the run that another process serves, in panel order.
func (r *Run) Remote() []string {
	var out []string
	for _, a := range r.World.list {
		if a.Remote() {
			out = append(out, a.Name)
		}
	}
	return out
}

// Local lists the apps of the run wired in this process, in panel order.
func (r *Run) Local() []string {
	var out []string
	for _, a := range r.World.list {
		if !a.Remote() {
			out = append(out, a.Name)
		}
	}
	return out
}

// Bridged returns the topic patterns a bridge joining this run to the processes that
// serve its remote apps must send (export) and bring in (imp), from the apps' ACLs: a run
// that drives sends what its remote apps may subscribe to and brings in what they may
// publish; a run that serves apps sends what they may publish and brings in what they may
// subscribe to. Both are nil when every app is local.
func (r *Run) Bridged() (export, imp []string) {
	var pub, sub []string
	for _, a := range r.World.list {
		if a.Remote() != r.Drives() {
			continue
		}
		cfg := a.Conn.Config()
		pub = appendNew(pub, cfg.Publish)
		sub = appendNew(sub, cfg.Subscribe)
	}
	if r.Drives() {
		return sub, pub
	}
	return pub, sub
}

// appendNew appends the patterns of add not yet in to.
func appendNew(to, add []string) []string {
	for _, p := range add {
		if !slices.Contains(to, p) {
			to = append(to, p)
		}
	}
	return to
}

// expectOf declares an expected outcome that reads app's state: when app runs in another
// process its state is not here, so the check is reported as skipped.
func (r *Run) expectOf(app, name string, fn func() (bool, string)) {
	if a := r.World.App(app); a != nil && a.Remote() && !r.serves {
		r.checks = append(r.checks, func() Check {
			return Check{Name: name, Pass: true, Skipped: true, Detail: "not checked here: " + app + " runs in another process"}
		})
		return
	}
	r.Expect(name, fn)
}
