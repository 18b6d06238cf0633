// Package breaker is a circuit breaker on bus time.
//
// A breaker is Closed (calls pass, outcomes are counted), Open (calls are refused with
// *OpenError until the open timeout passes) or HalfOpen (a few trial calls pass; enough
// successes close it, one failure opens it again). Two rules trip it open:
// ConsecutiveFailures in a row, or a FailureRate over a rolling window of buckets once the
// window holds MinimumVolume calls. ForceOpen and ForceClosed pin the state
// by hand until Release.
//
// Every call gets a Ticket stamped with the breaker's generation, which changes on every
// transition; an outcome reported on a ticket from an earlier generation (a slow call that
// started before the breaker opened) is counted as stale and ignored, so it cannot close or
// re-open the circuit behind the current state's back.
//
// With a *bus.Bus as its clock the breaker also schedules the Open -> HalfOpen transition
// at the moment the timeout ends, and with an Events app it publishes each transition on
// "breaker.<name>.state", so the change is visible in the trace and the flow diagram.
// Without them it moves to HalfOpen lazily, on the first call after the timeout.
//
// All methods are safe from any goroutine.
package breaker

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"mfelab/bus"
)

// State is a breaker state.
type State uint8

// The states.
const (
	Closed State = iota
	Open
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "unknown"
}

// MarshalText renders the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name, so that a consumer of the breaker's transition
// events decodes the state that was published.
func (s *State) UnmarshalText(b []byte) error {
	for _, st := range []State{Closed, Open, HalfOpen} {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("breaker state %q: want closed, open or half-open", b)
}

// ErrOpen is what a refused call's error is, for errors.Is.
var ErrOpen = errors.New("circuit open")

// OpenError is a call refused because the circuit is open (or half-open with all trial
// slots taken).
type OpenError struct {
	Name    string
	State   State
	RetryIn time.Duration // until the breaker half-opens; 0 when unknown or forced
}

func (e *OpenError) Error() string {
	if e.State == HalfOpen {
		return fmt.Sprintf("breaker %s: half-open and all trial calls are taken", e.Name)
	}
	if e.RetryIn > 0 {
		return fmt.Sprintf("breaker %s: circuit open, retry in %v", e.Name, e.RetryIn)
	}
	return fmt.Sprintf("breaker %s: circuit open", e.Name)
}

func (e *OpenError) Unwrap() error { return ErrOpen }

// Timers is what the breaker needs to schedule its half-open transition; *bus.Bus has it.
type Timers interface {
	After(d time.Duration, fn func()) *bus.Timer
}

// Config sets a breaker's rules. Zero values take the defaults noted.
type Config struct {
	Name string
	// Clock tells bus time; with Events set it defaults to the events app's bus.
	Clock bus.Clock
	// Events, if set, publishes each transition as this app on "breaker.<Name>.state".
	Events *bus.App
	// ConsecutiveFailures trips after this many failures in a row (0: rule off).
	ConsecutiveFailures int
	// FailureRate trips when failures/calls in the window reach it (0: rule off), once the
	// window holds at least MinimumVolume calls (default 10).
	FailureRate   float64
	MinimumVolume int
	// Window is the rolling window (default 10s) split into Buckets (default 10).
	Window  time.Duration
	Buckets int
	// OpenTimeout is how long the circuit stays open before trial calls (default 5s).
	OpenTimeout time.Duration
	// HalfOpenMaxCalls is how many trial calls may run at once (default 1).
	HalfOpenMaxCalls int
	// SuccessThreshold is how many trial successes close the circuit (default 1).
	SuccessThreshold int
	// IsFailure decides which errors count as failures (default: any non-nil error).
	IsFailure func(error) bool
	// OnStateChange is called after each transition, outside the breaker's lock.
	OnStateChange func(Transition)
}

// Transition is one state change.
type Transition struct {
	Name   string    `json:"name"`
	From   State     `json:"from"`
	To     State     `json:"to"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Forced bool      `json:"forced,omitempty"`
}

// Breaker is a circuit breaker. Make one with New.
type Breaker struct {
	cfg    Config
	timers Timers
	bucket int64 // bucket width in ns

	mu          sync.Mutex
	state       State
	forced      bool
	gen         uint64
	openedAt    int64
	retryAt     int64
	consecutive int
	trials      int // trial calls in flight
	trialOK     int
	buckets     []bucket
	counts      Counts
	halfTimer   *bus.Timer
}

type bucket struct {
	slot            int64 // which bucket-width slot of time this counts
	calls, failures int
}

// Counts are totals since the breaker was made.
type Counts struct {
	Calls, Successes, Failures, Rejected, Stale, Transitions uint64
}

// New makes a closed breaker.
func New(cfg Config) (*Breaker, error) {
	if cfg.Clock == nil && cfg.Events != nil {
		cfg.Clock = cfg.Events.Bus()
	}
	if cfg.Clock == nil {
		return nil, errors.New("breaker: a Clock (or an Events app) is required")
	}
	if cfg.Name == "" {
		cfg.Name = "breaker"
	}
	if cfg.Events != nil {
		if err := bus.ValidateTopic(stateTopic(cfg.Name)); err != nil {
			return nil, fmt.Errorf("breaker: name: %w", err)
		}
	}
	if cfg.FailureRate < 0 || cfg.FailureRate > 1 {
		return nil, fmt.Errorf("breaker %s: FailureRate %v is outside 0..1", cfg.Name, cfg.FailureRate)
	}
	if cfg.ConsecutiveFailures < 0 || cfg.MinimumVolume < 0 || cfg.HalfOpenMaxCalls < 0 || cfg.SuccessThreshold < 0 || cfg.Buckets < 0 || cfg.Window < 0 || cfg.OpenTimeout < 0 {
		return nil, fmt.Errorf("breaker %s: negative setting", cfg.Name)
	}
	if cfg.MinimumVolume == 0 {
		cfg.MinimumVolume = 10
	}
	if cfg.Window == 0 {
		cfg.Window = 10 * time.Second
	}
	if cfg.Buckets == 0 {
		cfg.Buckets = 10
	}
	if cfg.OpenTimeout == 0 {
		cfg.OpenTimeout = 5 * time.Second
	}
	if cfg.HalfOpenMaxCalls == 0 {
		cfg.HalfOpenMaxCalls = 1
	}
	if cfg.SuccessThreshold == 0 {
		cfg.SuccessThreshold = 1
	}
	br := &Breaker{cfg: cfg, buckets: make([]bucket, cfg.Buckets), bucket: max(int64(cfg.Window)/int64(cfg.Buckets), 1)}
	for i := range br.buckets {
		br.buckets[i].slot = -1
	}
	br.timers, _ = cfg.Clock.(Timers)
	return br, nil
}

func stateTopic(name string) string { return "breaker." + name + ".state" }

// Name is the breaker's name.
func (br *Breaker) Name() string { return br.cfg.Name }

// Config returns the breaker's settings with defaults filled in (thresholds for a tile).
func (br *Breaker) Config() Config { return br.cfg }

func (br *Breaker) now() int64 { return br.cfg.Clock.Now().UnixNano() }

// Ticket is permission for one call. Report its outcome with Done, exactly once.
type Ticket struct {
	br    *Breaker
	gen   uint64
	trial bool
}

// Allow asks to make a call: a Ticket, or an *OpenError when the circuit refuses it.
func (br *Breaker) Allow() (Ticket, error) {
	var pending []Transition
	br.mu.Lock()
	now := br.now()
	pending = br.halfOpenDueLocked(now, pending)
	var t Ticket
	var err error
	switch br.state {
	case Closed:
		br.counts.Calls++
		t = Ticket{br: br, gen: br.gen}
	case HalfOpen:
		if br.trials < br.cfg.HalfOpenMaxCalls {
			br.trials++
			br.counts.Calls++
			t = Ticket{br: br, gen: br.gen, trial: true}
		} else {
			br.counts.Rejected++
			err = &OpenError{Name: br.cfg.Name, State: HalfOpen}
		}
	default:
		br.counts.Rejected++
		oe := &OpenError{Name: br.cfg.Name, State: Open}
		if !br.forced {
			oe.RetryIn = time.Duration(br.retryAt - now)
		}
		err = oe
	}
	br.mu.Unlock()
	br.announce(pending)
	return t, err
}

// Done reports the call's outcome. Outcomes from before the latest transition are stale
// and ignored.
func (t Ticket) Done(err error) {
	br := t.br
	if br == nil {
		return
	}
	failed := err != nil
	if failed && br.cfg.IsFailure != nil {
		failed = br.cfg.IsFailure(err)
	}
	var pending []Transition
	br.mu.Lock()
	if t.gen != br.gen {
		br.counts.Stale++
		br.mu.Unlock()
		return
	}
	now := br.now()
	if failed {
		br.counts.Failures++
	} else {
		br.counts.Successes++
	}
	switch br.state {
	case Closed:
		br.recordLocked(now, failed)
		if failed {
			br.consecutive++
		} else {
			br.consecutive = 0
		}
		if !br.forced {
			if reason := br.tripReasonLocked(now); reason != "" {
				pending = append(pending, br.transitionLocked(Open, reason, now, false))
			}
		}
	case HalfOpen:
		if t.trial {
			br.trials--
		}
		if failed {
			pending = append(pending, br.transitionLocked(Open, "trial call failed", now, false))
		} else if br.trialOK++; br.trialOK >= br.cfg.SuccessThreshold {
			pending = append(pending, br.transitionLocked(Closed, fmt.Sprintf("%d trial call(s) succeeded", br.trialOK), now, false))
		}
	}
	br.mu.Unlock()
	br.announce(pending)
}

// Execute runs fn if the circuit allows it and records its outcome.
func (br *Breaker) Execute(fn func() error) error {
	t, err := br.Allow()
	if err != nil {
		return err
	}
	err = fn()
	t.Done(err)
	return err
}

func (br *Breaker) recordLocked(now int64, failed bool) {
	slot := now / br.bucket
	b := &br.buckets[slot%int64(len(br.buckets))]
	if b.slot != slot {
		*b = bucket{slot: slot}
	}
	b.calls++
	if failed {
		b.failures++
	}
}

// windowLocked sums the buckets still inside the window.
func (br *Breaker) windowLocked(now int64) (calls, failures int) {
	oldest := now/br.bucket - int64(len(br.buckets)) + 1
	for _, b := range br.buckets {
		if b.slot >= oldest {
			calls += b.calls
			failures += b.failures
		}
	}
	return calls, failures
}

func (br *Breaker) tripReasonLocked(now int64) string {
	if n := br.cfg.ConsecutiveFailures; n > 0 && br.consecutive >= n {
		return fmt.Sprintf("%d consecutive failures (threshold %d)", br.consecutive, n)
	}
	if r := br.cfg.FailureRate; r > 0 && br.consecutive > 0 {
		calls, failures := br.windowLocked(now)
		if calls >= br.cfg.MinimumVolume && float64(failures) >= r*float64(calls) {
			return fmt.Sprintf("failure rate %.0f%% over %d calls (threshold %.0f%%, minimum %d)",
				100*float64(failures)/float64(calls), calls, 100*r, br.cfg.MinimumVolume)
		}
	}
	return ""
}

// transitionLocked changes state and returns the transition to announce once unlocked.
func (br *Breaker) transitionLocked(to State, reason string, now int64, forced bool) Transition {
	from := br.state
	br.state = to
	br.gen++
	br.counts.Transitions++
	br.trials, br.trialOK, br.consecutive = 0, 0, 0
	if br.halfTimer != nil {
		br.halfTimer.Stop()
		br.halfTimer = nil
	}
	switch to {
	case Open:
		br.openedAt = now
		br.retryAt = now + int64(br.cfg.OpenTimeout)
		if br.timers != nil && !forced {
			gen := br.gen
			br.halfTimer = br.timers.After(br.cfg.OpenTimeout, func() { br.halfOpenIfStill(gen) })
		}
	case Closed:
		for i := range br.buckets {
			br.buckets[i] = bucket{slot: -1}
		}
	}
	return Transition{Name: br.cfg.Name, From: from, To: to, Reason: reason, At: time.Unix(0, now).UTC(), Forced: forced}
}

// halfOpenDueLocked moves an open breaker whose timeout has passed to half-open, on the
// first look after the moment (the timer may not have run yet).
func (br *Breaker) halfOpenDueLocked(now int64, pending []Transition) []Transition {
	if br.state == Open && !br.forced && now >= br.retryAt {
		pending = append(pending, br.transitionLocked(HalfOpen, "open timeout elapsed", now, false))
	}
	return pending
}

func (br *Breaker) halfOpenIfStill(gen uint64) {
	br.mu.Lock()
	if br.gen != gen || br.state != Open || br.forced {
		br.mu.Unlock()
		return
	}
	tr := br.transitionLocked(HalfOpen, "open timeout elapsed", br.now(), false)
	br.mu.Unlock()
	br.announce([]Transition{tr})
}

func (br *Breaker) announce(ts []Transition) {
	for _, tr := range ts {
		if br.cfg.Events != nil {
			// The transition happened regardless of the publish; a refused publish (ACL,
			// rate limit) is visible as a rejected trace event on the bus.
			_, _ = br.cfg.Events.Publish(stateTopic(br.cfg.Name), tr)
		}
		if br.cfg.OnStateChange != nil {
			br.cfg.OnStateChange(tr)
		}
	}
}

// ForceOpen pins the circuit open: every call is refused until Release.
func (br *Breaker) ForceOpen() { br.force(Open) }

// ForceClosed pins the circuit closed: every call passes and no rule trips it until Release.
func (br *Breaker) ForceClosed() { br.force(Closed) }

func (br *Breaker) force(s State) {
	br.mu.Lock()
	br.forced = true
	tr := br.transitionLocked(s, "forced "+s.String(), br.now(), true)
	br.mu.Unlock()
	br.announce([]Transition{tr})
}

// Release ends a forced state and returns the breaker to closed with fresh counts.
func (br *Breaker) Release() {
	br.mu.Lock()
	if !br.forced {
		br.mu.Unlock()
		return
	}
	br.forced = false
	tr := br.transitionLocked(Closed, "released", br.now(), true)
	br.mu.Unlock()
	br.announce([]Transition{tr})
}

// State returns the current state, moving an expired Open to HalfOpen first.
func (br *Breaker) State() State { return br.Snapshot().State }

// Snapshot is everything a dashboard tile shows.
type Snapshot struct {
	Name   string
	State  State
	Forced bool
	Counts Counts
	// Consecutive is the current run of failures while closed.
	Consecutive int
	// WindowCalls and WindowFailures are the rolling window; FailureRate is their ratio.
	WindowCalls, WindowFailures int
	FailureRate                 float64
	// OpenedAt and RetryAt are set while open (RetryAt zero when forced).
	OpenedAt, RetryAt time.Time
	// TrialsInFlight and TrialSuccesses count half-open trial calls.
	TrialsInFlight, TrialSuccesses int
}

// Snapshot returns the breaker's state and counters.
func (br *Breaker) Snapshot() Snapshot {
	var pending []Transition
	br.mu.Lock()
	now := br.now()
	pending = br.halfOpenDueLocked(now, pending)
	s := Snapshot{Name: br.cfg.Name, State: br.state, Forced: br.forced, Counts: br.counts, Consecutive: br.consecutive,
		TrialsInFlight: br.trials, TrialSuccesses: br.trialOK}
	s.WindowCalls, s.WindowFailures = br.windowLocked(now)
	if s.WindowCalls > 0 {
		s.FailureRate = float64(s.WindowFailures) / float64(s.WindowCalls)
	}
	if br.state == Open {
		s.OpenedAt = time.Unix(0, br.openedAt).UTC()
		if !br.forced {
			s.RetryAt = time.Unix(0, br.retryAt).UTC()
		}
	}
	br.mu.Unlock()
	br.announce(pending)
	return s
}
