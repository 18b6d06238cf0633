package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
	"mfelab/history"
	"mfelab/scenarios"
)

// Session is one run from start to finish: a scenario with its knobs and seed, or a
// replay of a recorded log. Every front end drives and reads a run through it, so the
// window, the command line and the exports cannot disagree about what happened.
//
// Driving (Step, StepAct, Play, Pause, RunToEnd) may be called from any goroutine but not
// from two at once; reading (Trace, State, Checks) may happen from any goroutine at any
// time.
type Session struct {
	run    *scenarios.Run
	trace  *Trace
	untap  func() // detaches the trace from the bus
	origin string
	bridge *natsbridge.Bridge // set when the bus is joined to other processes (StartRemote)
	// signal counts what happened to the run and tells a listener (see Notify).
	signal changeSignal

	mu      sync.Mutex // guards rt, speed and the recording fields
	rt      *bus.Realtime
	speed   float64
	rec     *history.Recorder
	ns      *history.Store
	store   *history.Store // the file the session was recorded into
	info    history.RunInfo
	changes []string // what was changed by hand while the run went on
	// recErr is the failure that stopped the recording; reported once through RecordingError.
	recErr      error
	recReported bool
}

// Start makes a fresh, paused session of scenario s.
func Start(s *scenarios.Scenario, seed uint64, knobs scenarios.Values) (*Session, error) {
	ses := &Session{speed: 1}
	r, err := scenarios.Start(s, seed, knobs, ses.observe(false))
	if err != nil {
		return nil, err
	}
	ses.run = r
	return ses, nil
}

// Replay makes a session that publishes a recorded log again (see scenarios.Replay),
// stepped until upTo of its messages are out, and paused there. origin says where the log
// came from, for the status line.
func Replay(envs []*bus.Envelope, upTo int, origin string) (*Session, error) {
	return ReplayFrom(scenarios.Envelopes(envs), upTo, origin)
}

// observe attaches the trace to a run's bus before the scenario sets up.
func (s *Session) observe(publishes bool) func(*scenarios.Run) {
	return func(r *scenarios.Run) {
		var apps []string
		for _, a := range r.World.Apps() {
			apps = append(apps, a.Name)
		}
		s.trace = newTrace(r.Bus.Epoch(), apps, publishes)
		s.untap = r.Bus.Tap(s.observed)
	}
}

// Run is the scenario run underneath: its world, dead letters, breakers and sagas.
func (s *Session) Run() *scenarios.Run { return s.run }

// Scenario is what runs.
func (s *Session) Scenario() *scenarios.Scenario { return s.run.Scenario }

// Trace is the run's trace and diagram.
func (s *Session) Trace() *Trace { return s.trace }

// Origin says where a run that is not a fresh run of its scenario came from ("" if it is).
func (s *Session) Origin() string { return s.origin }

// IsReplay reports whether the session replays a log.
func (s *Session) IsReplay() bool { return s.run.Scenario.ID == scenarios.ReplayID }

// Step runs one bus event (a delivery or a timer) due before the horizon. A joined
// session runs on the wall clock and cannot be stepped: Step does nothing.
func (s *Session) Step() bool {
	if s.Joined() {
		return false
	}
	s.Pause()
	return s.run.Step()
}

// StepAct runs to the next scripted act and what it sets off at that moment; for a
// joined session it does nothing, as Step.
func (s *Session) StepAct() bool {
	if s.Joined() {
		return false
	}
	s.Pause()
	return s.run.StepAct()
}

// RunToEnd runs everything up to the horizon, as fast as it goes. A joined session plays
// on the wall clock until it settles (see Settle), and RunToEnd returns how many trace
// events that added.
func (s *Session) RunToEnd() int {
	if s.Joined() {
		return s.settleJoined(context.Background(), s.run.End())
	}
	s.Pause()
	return s.runUntil(s.run.End())
}

// Play runs the session against the wall clock at speed (bus.MinSpeed..bus.MaxSpeed, or
// bus.Instant) until Pause, or until it finishes; it stops at the horizon at every speed,
// where RunToEnd stops. Playing a finished session does nothing. A joined session plays
// at speed 1, whatever speed says: it shares the wall clock with other processes.
func (s *Session) Play(speed float64) {
	if s.Joined() {
		speed = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.speed = speed
	if s.rt != nil || s.run.Finished() {
		return
	}
	s.rt = s.run.Bus.StartRealtimePaced(speed, s.run.End(), s.pace)
}

// maxBacklog is how many trace events a recording may fall behind before the run waits
// for it: recording never blocks the bus, so without this a run faster than the disk
// would hold its whole trace a second time, in the recorder's queue.
const maxBacklog = 1 << 16

// pace waits, outside the bus lock, while the recording is more than maxBacklog events
// behind, until it is within half of that or ctx is done.
func (s *Session) pace(ctx context.Context) {
	s.mu.Lock()
	rec := s.rec
	s.mu.Unlock()
	if rec == nil || rec.Backlog() <= maxBacklog {
		return
	}
	for rec.Backlog() > maxBacklog/2 && ctx.Err() == nil && rec.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}

// RunFor runs d of bus time (up to the horizon), in steps that let a recording keep up;
// a joined session plays d of wall-clock time, or until it settles.
func (s *Session) RunFor(d time.Duration) {
	s.Pause()
	end := s.run.Bus.Now().Add(d)
	if end.After(s.run.End()) {
		end = s.run.End()
	}
	if s.Joined() {
		s.settleJoined(context.Background(), end)
		return
	}
	s.runUntil(end)
}

// runUntil runs to bus time end in slices, pacing between them.
func (s *Session) runUntil(end time.Time) int {
	n := 0
	for {
		next := s.run.Bus.Now().Add(paceSlice)
		if !next.Before(end) {
			return n + s.run.Bus.RunUntil(end)
		}
		n += s.run.Bus.RunUntil(next)
		s.pace(context.Background())
	}
}

// paceSlice is how much bus time runs between two looks at the recording's backlog.
const paceSlice = 50 * time.Millisecond

// SetSpeed changes the pace, now if playing, else for the next Play. A joined session
// stays at speed 1.
func (s *Session) SetSpeed(speed float64) {
	if s.Joined() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.speed = speed
	if s.rt != nil {
		s.rt.SetSpeed(speed)
	}
}

// Speed is the pace Play runs at.
func (s *Session) Speed() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.speed
}

// Pause stops playing; the event running finishes first.
func (s *Session) Pause() {
	s.mu.Lock()
	rt := s.rt
	s.rt = nil
	s.mu.Unlock()
	if rt != nil {
		rt.Stop()
	}
}

// Playing reports whether the session is running against the wall clock.
func (s *Session) Playing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rt != nil
}

// Settle stops playing once the run is finished and reports whether it is: the one rule
// for "this run is over", for every front end. A session is finished when nothing is due
// before its horizon; it then stands at its horizon, at whatever speed it was played, as
// a run to the end does.
func (s *Session) Settle() bool {
	if !s.run.Finished() {
		return false
	}
	// Seen from outside, a running loop can look idle between one event and what it
	// schedules: look again with the driver stopped.
	s.mu.Lock()
	playing, speed := s.rt != nil, s.speed
	s.mu.Unlock()
	s.Pause()
	if !s.run.Finished() {
		if playing {
			s.Play(speed)
		}
		return false
	}
	if !s.Joined() { // a joined bus keeps to the wall clock: it stays where it settled
		s.run.Bus.RunUntil(s.run.End())
	}
	return true
}

// Finished reports whether nothing is left to run before the horizon.
func (s *Session) Finished() bool { return s.run.Finished() }

// Elapsed is the bus time since the run's start.
func (s *Session) Elapsed() time.Duration { return s.run.Bus.Elapsed() }

// Checks evaluates the scenario's expected outcomes. They are meaningful once finished.
func (s *Session) Checks() []scenarios.Check { return s.run.Checks() }

// Post runs fn on the bus loop: at once when paused, between events when playing. Use it
// for anything that changes state the loop owns (forcing a breaker open).
func (s *Session) Post(fn func()) {
	if s.Playing() {
		s.run.Bus.Post(func() {
			fn()
			s.signal.bump()
		})
		return
	}
	fn()
	s.signal.bump()
}

// State is what a status line says: running, paused or finished, when, how much.
type State struct {
	Word     string // "running", "paused" or "finished"
	Elapsed  time.Duration
	Messages int
	Pending  int
}

// State reads the session's state.
func (s *Session) State() State {
	st := State{Word: "paused", Elapsed: s.Elapsed(), Messages: s.trace.Messages(), Pending: s.run.Pending()}
	switch {
	case s.Playing():
		st.Word = "running"
	case s.Finished():
		st.Word = "finished"
	}
	return st
}

// String renders the state as the status line shows it.
func (st State) String() string {
	msgs := fmt.Sprintf("%d messages", st.Messages)
	if st.Messages == 1 {
		msgs = "1 message"
	}
	if st.Word == "finished" {
		return fmt.Sprintf("finished at +%.3fs · %s", st.Elapsed.Seconds(), msgs) // what is due after the end never runs
	}
	return fmt.Sprintf("%s at +%.3fs · %s · %d pending", st.Word, st.Elapsed.Seconds(), msgs, st.Pending)
}

// Close pauses the session, leaves NATS if joined, ends its recording, if any, writing
// the run's outcome, and detaches the trace from the bus, so that a window still holding
// on to the run's widgets for a while does not keep its whole trace alive. The trace
// stays readable.
func (s *Session) Close() error {
	s.Pause()
	if s.bridge != nil {
		s.bridge.Close()
	}
	err := s.StopRecording()
	s.untap()
	s.Notify(nil)
	return err
}

// ErrRecording marks failures of the recording, not of the run.
var ErrRecording = errors.New("recording")

// ErrDiverged means a fresh run of a recorded scenario does not retrace the recording:
// something changed it by hand while it ran (a panel taken down, a breaker forced).
var ErrDiverged = errors.New("the recorded run cannot be retraced")

// Rewind makes the session time travel gives: scenario s with the recorded knobs and seed,
// started afresh and stepped until k of its messages are out, paused there. Since a run is
// determined by its scenario, knobs and seed, every panel is then exactly as it was just
// after message k, and stepping or running on delivers as the original did. recorded is
// the run's messages as stored (one event may publish several, so a few more than k may
// be out); they must be retraced, ID, topic and payload alike, or Rewind fails with
// ErrDiverged and the caller can fall back on Replay.
func Rewind(s *scenarios.Scenario, seed uint64, knobs scenarios.Values, recorded []*bus.Envelope, k int, origin string) (*Session, error) {
	ses, err := Start(s, seed, knobs)
	if err != nil {
		return nil, err
	}
	ses.origin = origin
	k = min(max(k, 0), len(recorded))
	ses.run.StepToMessage(k)
	got := ses.trace.Envelopes()
	for i := range k {
		if i >= len(got) || !sameMessage(got[i], recorded[i]) {
			_ = ses.Close()
			at := "its end"
			if i < len(got) {
				at = fmt.Sprintf("#%d %s", got[i].Seq, got[i].Topic)
			}
			return nil, fmt.Errorf("%w: a fresh run of %s parts from the recording at message %d (recorded #%d %s, fresh %s)",
				ErrDiverged, s.ID, i+1, recorded[i].Seq, recorded[i].Topic, at)
		}
	}
	return ses, nil
}

// sameMessage reports whether a fresh run's message retraces a recorded one: the same ID
// (the seed's), topic and payload, so a scenario file changed since the recording in what
// its apps send is noticed even where the messages keep their number and order.
func sameMessage(fresh, recorded *bus.Envelope) bool {
	return fresh.ID == recorded.ID && fresh.Topic == recorded.Topic && bytes.Equal(fresh.Payload, recorded.Payload)
}

// ScenarioOfRun is the scenario a recorded run was a run of, to run it again: the built-in
// scenario of that id, or the scenario file it was loaded from, read again as it is now.
// A file that is gone, no longer valid or now holds another scenario is an error that
// says so; a file changed since in what the run does makes Rewind fail with ErrDiverged.
func ScenarioOfRun(info history.RunInfo) (*scenarios.Scenario, error) {
	if info.File == "" {
		return scenarios.Get(info.Scenario)
	}
	s, err := scenarios.LoadFile(info.File)
	if err != nil {
		return nil, err
	}
	if s.ID != info.Scenario {
		return nil, fmt.Errorf("%s now holds scenario %q, not %q, which the run was a run of", info.File, s.ID, info.Scenario)
	}
	return s, nil
}

// Intervene notes that the user changed the run by hand (took an app down, forced a
// breaker, retried a dead letter): its checks then describe the scripted run, not this
// one, and a recording of it can no longer be retraced.
func (s *Session) Intervene(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changes = append(s.changes, fmt.Sprintf("+%.3fs %s", s.run.Bus.Elapsed().Seconds(), what))
}

// Interventions lists what was changed by hand, in order, with when.
func (s *Session) Interventions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}
