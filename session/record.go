package session

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/scenarios"
)

// Record starts recording the session into store as a run of its own, from its first
// event (those before this call included) to StopRecording or Close. The run's record
// holds the scenario, knobs, seed, start and, once stopped, the end, outcome and message
// count. Recording never slows the run: see history.Recorder.
func (s *Session) Record(store *history.Store) (history.RunInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec != nil {
		return s.info, nil
	}
	r := s.run
	info := history.RunInfo{Scenario: r.Scenario.ID, Title: r.Scenario.Title, Seed: r.Seed, Origin: s.origin,
		Apps: s.trace.Diagram().Apps(), Epoch: s.trace.Epoch()}
	if src := r.Scenario.Source; src != "" {
		if abs, err := filepath.Abs(src); err == nil {
			src = abs
		}
		info.File = src
	}
	if len(r.Knobs) > 0 {
		info.Knobs = map[string]string(r.Knobs)
	}
	info, ns, err := store.NewRun(info)
	if err != nil {
		return info, fmt.Errorf("%w: %w", ErrRecording, err)
	}
	s.info, s.ns, s.recErr, s.recReported = info, ns, nil, false
	s.rec = ns.NewRecorder()
	s.trace.recordFrom(s.rec.Record)
	// events the trace lets go of are read back from the recording
	id := info.ID
	s.store = store
	s.trace.pages.setSource(func(from, to int) ([]bus.TraceEvent, error) { return store.RunEvents(id, from, to) })
	return info, nil
}

// Recording reports whether the session is being recorded, and as which run.
func (s *Session) Recording() (history.RunInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info, s.rec != nil
}

// FlushRecording waits until everything so far is in the file (for a reader of the file
// while the run goes on), and reports a failure of the recording.
func (s *Session) FlushRecording() error {
	s.mu.Lock()
	rec := s.rec
	s.mu.Unlock()
	if rec == nil {
		return nil
	}
	if err := rec.Flush(); err != nil {
		return fmt.Errorf("%w: %w", ErrRecording, err)
	}
	return nil
}

// RecordingErr is the failure that stopped the recording, if one did, every time it is
// asked (see RecordingFailure for once).
func (s *Session) RecordingErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec != nil && s.recErr == nil {
		s.recErr = s.rec.Err()
	}
	return s.recErr
}

// RecordingFailure returns, once, the write failure that stopped the recording: a front
// end shows it when it happens, and not again on every refresh.
func (s *Session) RecordingFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec == nil && s.recErr == nil {
		return nil
	}
	if s.rec != nil && s.recErr == nil {
		s.recErr = s.rec.Err()
	}
	if s.recErr == nil || s.recReported {
		return nil
	}
	s.recReported = true
	return s.recErr
}

// StopRecording ends the recording: what was recorded is written out and the run's record
// gets its end, outcome and message count. A failure of the recording is returned (and
// is in the run's record), since the file then lacks the run's end.
func (s *Session) StopRecording() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec == nil {
		return nil
	}
	s.trace.recordFrom(nil)
	err := s.rec.Close()
	info := s.info
	info.Ended = time.Now().UTC()
	info.Outcome = history.OutcomeStopped
	info.Changed = slices.Clone(s.changes)
	if s.run.Finished() && s.run.Scenario.ID != scenarios.ReplayID {
		info.Outcome = history.OutcomePassed
		for _, c := range s.run.Checks() {
			if !c.Pass {
				info.Outcome = history.OutcomeFailed
				info.Failed = append(info.Failed, c.Name)
			}
		}
	}
	if err != nil {
		info.Error = fmt.Sprintf("recording stopped early (%d events not recorded): %v", s.rec.Dropped(), err)
		if s.recErr == nil {
			s.recErr = err
		}
	}
	if st, serr := s.ns.Stats(); serr == nil {
		info.Messages = st.Stored
	}
	uerr := s.ns.UpdateRun(info)
	cerr := s.ns.Close()
	s.rec, s.ns, s.info = nil, nil, info
	if err = errors.Join(err, uerr, cerr); err != nil {
		return fmt.Errorf("%w: %w", ErrRecording, err)
	}
	return nil
}
