// Package scenarios holds MFE Lab's simulated microfrontends and the scenarios that make
// the event-driven patterns visible. A Scenario declares its knobs and expected outcomes;
// Start builds a fresh bus and world for one seed and set of knob values, and the returned
// Run can be stepped one bus event at a time, run to the next scripted act, or run to the
// end, and then checked. Everything runs in bus time, so a run is fast headless and the
// same seed and knobs always give the same log, byte for byte.
//
// No Fyne here: the UI renders what a Run exposes (app snapshots, the trace log, breaker
// and saga views, dead letters, checks).
package scenarios

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mfelab/bus"
	"mfelab/bus/breaker"
	"mfelab/bus/dlq"
)

// Scenario is one experiment.
type Scenario struct {
	ID    string
	Title string
	// Watch says, in a paragraph, what to look at while it runs.
	Watch string
	Knobs []Knob
	// Horizon is how much bus time a run lasts at most.
	Horizon time.Duration
	// Setup builds the run: wires the patterns, schedules the acts and declares the
	// expected outcomes.
	Setup func(r *Run) error
	// Apps are the microfrontends of the scenario's own world, in panel order; nil for
	// the lab's eight (Host, Catalog, Cart, ...). A scenario file declares its own.
	Apps []AppSpec
	// Source is the file a scenario was loaded from; "" for a built-in one.
	Source string
	// Detachable names the apps that can run in a process of their own (StartApps, for
	// `mfelab app`) while the rest of the run goes on here (StartWith, Options.Remote):
	// the scenario's Setup wires them only where they are local (App.Remote). Nil: none.
	Detachable []string
}

// Check is an expected outcome, evaluated after a run.
type Check struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail,omitempty"`
	// Skipped says the check was not evaluated here: it reads the state of an app that
	// runs in another process (Detail says which). A skipped check counts as passed.
	Skipped bool `json:"skipped,omitempty"`
}

// Act is a scripted moment of a scenario: the customer adds an item, checkout starts.
type Act struct {
	At   time.Duration
	Name string
}

// SagaView is a saga instance or choreographed conversation as the saga timeline shows it.
type SagaView struct {
	Saga        string   `json:"saga"`
	ID          string   `json:"id"`
	Style       string   `json:"style"` // orchestrated | choreographed
	Status      string   `json:"status"`
	Steps       []string `json:"steps"`
	Done        []string `json:"done"`
	Compensated []string `json:"compensated,omitempty"`
	Failed      string   `json:"failed,omitempty"`
	Errors      []string `json:"errors,omitempty"`
}

// Run is one run of a scenario.
type Run struct {
	Scenario *Scenario
	Seed     uint64
	Knobs    Values
	Bus      *bus.Bus
	World    *World
	DLQ      *dlq.Store

	afterHandlers []func()
	published     atomic.Int64
	unfed         atomic.Int64 // messages of a replay not yet scheduled on the bus

	// serves is set for a run that only serves some apps for a run elsewhere
	// (StartApps): it neither acts nor checks.
	serves bool
	// stream is how long a scenario that can keeps its story going (Options.Stream).
	stream time.Duration

	mu       sync.Mutex
	acts     []Act
	fired    int
	checks   []func() Check
	breakers []*breaker.Breaker
	sagas    []func() []SagaView
	end      time.Time
}

// Start makes a fresh run of s. Each observe func is called with the run after its bus
// and world exist and before the scenario sets up, so a tap it adds sees every trace
// event of the run.
func Start(s *Scenario, seed uint64, set Values, observe ...func(*Run)) (*Run, error) {
	return StartWith(s, seed, set, Options{Observe: observe})
}

// StartWith is Start with options: some apps may be served by another process.
func StartWith(s *Scenario, seed uint64, set Values, opts Options) (*Run, error) {
	knobs, err := s.Resolve(set)
	if err != nil {
		return nil, err
	}
	remote, err := s.placement(opts.Remote, false)
	if err != nil {
		return nil, err
	}
	bo := bus.Options{Seed: seed, IDSalt: idSalt(s.ID, knobs), RetainMax: 4096}
	if opts.Bus != nil {
		bo = opts.Bus(bo)
	}
	return start(s, knobs, bus.New(bo), remote, opts.Origin, false, opts.observers())
}

// start builds a run of s on b, with the apps in remote served elsewhere; serves says
// the run only serves its local apps for a run elsewhere.
func start(s *Scenario, knobs Values, b *bus.Bus, remote map[string]bool, origin string, serves bool, observe []func(*Run)) (*Run, error) {
	if len(remote) > 0 && origin == "" {
		origin = defaultOrigin
	}
	w, err := newWorld(b, s.Apps, remote, origin)
	if err != nil {
		return nil, err
	}
	r := &Run{Scenario: s, Seed: b.Seed(), Knobs: knobs, Bus: b, World: w, end: b.Epoch().Add(s.Horizon), serves: serves}
	r.installHooks()
	r.DLQ = dlq.Attach(b, dlq.Options{})
	for _, fn := range observe {
		fn(r)
	}
	if err := s.Setup(r); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.ID, err)
	}
	return r, nil
}

// idSalt sets a run's IDs apart from those of every other scenario and knob setting at
// the same seed, so runs recorded side by side never share an ID.
func idSalt(id string, knobs Values) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id + "\x00" + knobs.String()))
	return h.Sum64()
}

// At schedules an act at bus time at. A run that only serves apps for a run elsewhere
// (StartApps) leaves the acts to that run and schedules nothing.
func (r *Run) At(at time.Duration, name string, fn func()) {
	if r.serves {
		return
	}
	r.mu.Lock()
	r.acts = append(r.acts, Act{At: at, Name: name})
	slices.SortStableFunc(r.acts, func(a, b Act) int { return int(a.At - b.At) })
	r.mu.Unlock()
	r.Bus.After(at-r.Bus.Elapsed(), func() {
		r.mu.Lock()
		r.fired++
		r.mu.Unlock()
		fn()
	})
}

// Expect declares an expected outcome. A run that only serves apps for a run elsewhere
// (StartApps) declares none: the outcome is that run's to check.
func (r *Run) Expect(name string, fn func() (bool, string)) {
	if r.serves {
		return
	}
	r.checks = append(r.checks, func() Check {
		ok, detail := fn()
		return Check{Name: name, Pass: ok, Detail: detail}
	})
}

// AddBreaker shows a breaker on a dashboard tile.
func (r *Run) AddBreaker(b *breaker.Breaker) { r.breakers = append(r.breakers, b) }

// AddSagas shows the sagas fn reports on the saga timeline.
func (r *Run) AddSagas(fn func() []SagaView) { r.sagas = append(r.sagas, fn) }

// Breakers returns the run's breakers.
func (r *Run) Breakers() []*breaker.Breaker { return slices.Clone(r.breakers) }

// Sagas returns the run's saga instances.
func (r *Run) Sagas() []SagaView {
	var out []SagaView
	for _, fn := range r.sagas {
		out = append(out, fn()...)
	}
	return out
}

// Acts returns the scripted acts and how many have happened.
func (r *Run) Acts() ([]Act, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.acts), r.fired
}

// LastUntil makes the run last at least d of bus time, for setups whose knobs move what
// must happen later than the scenario's horizon (a longer timeout, a slower view).
func (r *Run) LastUntil(d time.Duration) {
	if end := r.Bus.Epoch().Add(d); end.After(r.end) {
		r.end = end
	}
}

// End is the bus time at which the run stops.
func (r *Run) End() time.Time { return r.end }

// Finished reports whether nothing is left to run before the horizon.
func (r *Run) Finished() bool {
	next, ok := r.Bus.NextAt()
	return !ok || next.After(r.end)
}

// Step runs one bus event (a delivery or a timer), if one is due before the horizon.
func (r *Run) Step() bool {
	if r.Finished() {
		return false
	}
	return r.Bus.Step()
}

// StepAct runs until the next scripted act has happened and everything it set off at that
// moment has been delivered; false when no act is left.
func (r *Run) StepAct() bool {
	_, before := r.Acts()
	acts, _ := r.Acts()
	if before >= len(acts) {
		return false
	}
	for !r.Finished() {
		if _, n := r.Acts(); n > before {
			break
		}
		r.Bus.Step()
	}
	r.Bus.RunUntil(r.Bus.Now()) // finish what is due at the act's moment
	return true
}

// RunToEnd runs every event up to the horizon and returns how many ran.
func (r *Run) RunToEnd() int { return r.Bus.RunUntil(r.end) }

// Checks evaluates the expected outcomes.
func (r *Run) Checks() []Check {
	out := make([]Check, len(r.checks))
	for i, fn := range r.checks {
		out[i] = fn()
	}
	return out
}

// Passed reports whether every check passes.
func Passed(checks []Check) bool {
	return !slices.ContainsFunc(checks, func(c Check) bool { return !c.Pass })
}

// FormatChecks renders checks one per line: "[ok] name", "[FAIL] name: detail", or
// "[skip] name: detail" for a check left to another process.
func FormatChecks(checks []Check) string {
	var sb strings.Builder
	for _, c := range checks {
		switch {
		case c.Skipped:
			fmt.Fprintf(&sb, "[skip] %s", c.Name)
		case c.Pass:
			fmt.Fprintf(&sb, "[ok]   %s", c.Name)
		default:
			fmt.Fprintf(&sb, "[FAIL] %s", c.Name)
		}
		if c.Detail != "" {
			fmt.Fprintf(&sb, ": %s", c.Detail)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

var registry []*Scenario

func register(s *Scenario) *Scenario {
	registry = append(registry, s)
	return s
}

// menu is the order scenarios are offered in, from the checkout sagas to the load test.
var menu = []string{"checkout-orchestrated", "checkout-choreographed", "dashboard-aggregator", "rpc-pricing",
	"circuit-breaker", "event-sourcing-cqrs", "versioned-contracts", "retry-dlq-idempotency", "load"}

// All returns every scenario in menu order.
func All() []*Scenario {
	out := slices.Clone(registry)
	rank := func(s *Scenario) int {
		if i := slices.Index(menu, s.ID); i >= 0 {
			return i
		}
		return len(menu)
	}
	slices.SortStableFunc(out, func(a, b *Scenario) int { return rank(a) - rank(b) })
	return out
}

// Get finds a scenario by ID; the error lists the valid IDs.
func Get(id string) (*Scenario, error) {
	for _, s := range registry {
		if s.ID == id {
			return s, nil
		}
	}
	var ids []string
	for _, s := range All() {
		ids = append(ids, s.ID)
	}
	return nil, fmt.Errorf("no scenario %q; the scenarios are: %s", id, strings.Join(ids, ", "))
}

// expectEq is a check that two renderings agree.
func expectEq(got, want any) (bool, string) {
	g, w := fmt.Sprint(got), fmt.Sprint(want)
	if g == w {
		return true, g
	}
	return false, fmt.Sprintf("got %s, want %s", g, w)
}
