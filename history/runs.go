package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bRuns is the top-level bucket of run records: run ID -> RunInfo JSON. It is not a
// namespace (it has no meta bucket), so Namespaces does not list it.
var bRuns = []byte("runs")

// Outcomes of a run.
const (
	OutcomeRecording = "recording" // being recorded
	OutcomePassed    = "passed"    // finished and every check passed
	OutcomeFailed    = "failed"    // finished and a check failed
	OutcomeStopped   = "stopped"   // left before it finished
	OutcomeImported  = "imported"  // a log read from a file
	OutcomeUnknown   = "unknown"   // recorded before runs had records
	// OutcomeInterrupted: the program recording it stopped (was killed, crashed) before it
	// could write the run's end; what it had committed is there.
	OutcomeInterrupted = "interrupted"
)

// ErrNoRun means no run has the ID asked for.
var ErrNoRun = errors.New("no such run")

// RunInfo describes one recorded run. Its messages live in the namespace named by ID.
type RunInfo struct {
	ID       string `json:"id"`
	Scenario string `json:"scenario"`
	// File is the scenario file the run's scenario was loaded from (an absolute path), ""
	// for a built-in scenario: time travel loads it again to rerun the run.
	File  string            `json:"file,omitempty"`
	Title string            `json:"title,omitempty"`
	Knobs map[string]string `json:"knobs,omitempty"`
	Seed  uint64            `json:"seed"`
	// Apps are the run's apps in the order its diagram draws their lifelines.
	Apps []string `json:"apps,omitempty"`
	// Epoch is the bus time the run started at.
	Epoch time.Time `json:"epoch,omitzero"`
	// Origin says where a run that is not a fresh run of its scenario came from.
	Origin  string    `json:"origin,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Outcome string    `json:"outcome"`
	Failed  []string  `json:"failed,omitempty"` // the checks that failed
	// Changed lists what was changed by hand while the run went on.
	Changed  []string `json:"changed,omitempty"`
	Messages uint64   `json:"messages"`
	// Error is why recording stopped early, if it did.
	Error string `json:"error,omitempty"`
}

// KnobText renders the knobs as "k=v k=v", sorted by name.
func (r RunInfo) KnobText() string {
	var parts []string
	for _, k := range slices.Sorted(mapsKeys(r.Knobs)) {
		parts = append(parts, k+"="+r.Knobs[k])
	}
	return strings.Join(parts, " ")
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// NewRun records a new run: it gives info an ID (run-000001, run-000002, … in the order
// runs are made) and a namespace of its own, and returns the info as stored and a handle
// on that namespace to record into. Two runs never share a namespace, so messages with
// equal IDs in two runs are both kept.
func (s *Store) NewRun(info RunInfo) (RunInfo, *Store, error) {
	if s.closed.Load() {
		return info, nil, ErrClosed
	}
	if s.opts.ReadOnly {
		return info, nil, fmt.Errorf("history: %s was opened read-only: %w", s.path, ErrReadOnly)
	}
	if info.Outcome == "" {
		info.Outcome = OutcomeRecording
	}
	if info.Started.IsZero() {
		info.Started = time.Now().UTC()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bRuns)
		if err != nil {
			return err
		}
		for {
			n, err := b.NextSequence()
			if err != nil {
				return err
			}
			info.ID = fmt.Sprintf("run-%06d", n)
			if b.Get([]byte(info.ID)) == nil && tx.Bucket([]byte(info.ID)) == nil {
				break
			}
		}
		return putRun(b, info)
	})
	if err != nil {
		return info, nil, fmt.Errorf("history: record a new run in %s: %w", s.path, err)
	}
	v, err := s.In(info.ID)
	if err != nil {
		return info, nil, err
	}
	return info, v, nil
}

func putRun(b *bolt.Bucket, info RunInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return b.Put([]byte(info.ID), data)
}

// UpdateRun replaces the record of run info.ID (its outcome, end, message count).
func (s *Store) UpdateRun(info RunInfo) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRuns)
		if b == nil || b.Get([]byte(info.ID)) == nil {
			return fmt.Errorf("%w: %q", ErrNoRun, info.ID)
		}
		return putRun(b, info)
	})
	if err != nil {
		return fmt.Errorf("history: update run %s in %s: %w", info.ID, s.path, err)
	}
	return nil
}

// DeleteRun removes run id, its record and every message and event it holds, in one
// transaction: a run that should never have been kept (an import cancelled half way)
// leaves nothing behind. Close any handle on the run's namespace first.
func (s *Store) DeleteRun(id string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("history: %s was opened read-only: %w", s.path, ErrReadOnly)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRuns)
		if b == nil || b.Get([]byte(id)) == nil {
			return fmt.Errorf("%w: %q", ErrNoRun, id)
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		if tx.Bucket([]byte(id)) != nil {
			return tx.DeleteBucket([]byte(id))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: delete run %s from %s: %w", id, s.path, err)
	}
	return nil
}

// Runs lists the recorded runs, newest first, with the number of messages each holds.
// Namespaces written without a run record (by older versions) are listed after them,
// with outcome "unknown".
func (s *Store) Runs() ([]RunInfo, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var out []RunInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		seen := map[string]bool{}
		if b := tx.Bucket(bRuns); b != nil {
			c := b.Cursor()
			for k, v := c.Last(); k != nil; k, v = c.Prev() {
				var info RunInfo
				if err := json.Unmarshal(v, &info); err != nil {
					return fmt.Errorf("run record %q is unreadable: %w", k, err)
				}
				if ns := tx.Bucket(k); ns != nil && ns.Bucket(bMeta) != nil {
					info.Messages = readUint(ns.Bucket(bMeta).Get(kCount))
				}
				seen[info.ID] = true
				out = append(out, info)
			}
		}
		var legacy []RunInfo
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			meta := b.Bucket(bMeta)
			if meta == nil || seen[string(name)] {
				return nil
			}
			n := readUint(meta.Get(kCount))
			if n == 0 {
				return nil
			}
			legacy = append(legacy, RunInfo{ID: string(name), Scenario: string(name), Outcome: OutcomeUnknown, Messages: n})
			return nil
		})
		out = append(out, legacy...)
		return err
	})
	return out, err
}

// Run finds a run by ID; "latest" is the newest run.
func (s *Store) Run(id string) (RunInfo, error) {
	runs, err := s.Runs()
	if err != nil {
		return RunInfo{}, err
	}
	if id == "latest" {
		if len(runs) == 0 {
			return RunInfo{}, fmt.Errorf("%w: %s holds no recorded runs", ErrNoRun, s.path)
		}
		return runs[0], nil
	}
	for _, r := range runs {
		if r.ID == id {
			return r, nil
		}
	}
	var ids []string
	for i, r := range runs {
		if i == 5 {
			ids = append(ids, "…")
			break
		}
		ids = append(ids, r.ID)
	}
	hint := "it holds no runs"
	if len(ids) > 0 {
		hint = "its newest: " + strings.Join(ids, ", ") + " (mfelab runs lists them all)"
	}
	return RunInfo{}, fmt.Errorf("%w %q in %s; %s", ErrNoRun, id, s.path, hint)
}

// closeInterrupted marks the runs still "recording" as interrupted. A writable Open holds
// the file's only lock, so no one can be recording them: the program that was stopped
// before it wrote their end.
func (s *Store) closeInterrupted() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRuns)
		if b == nil {
			return nil
		}
		var stale []RunInfo
		if err := b.ForEach(func(_, v []byte) error {
			var info RunInfo
			if json.Unmarshal(v, &info) == nil && info.Outcome == OutcomeRecording {
				stale = append(stale, info)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, info := range stale {
			info.Outcome = OutcomeInterrupted
			if ns := tx.Bucket([]byte(info.ID)); ns != nil && ns.Bucket(bMeta) != nil {
				info.Messages = readUint(ns.Bucket(bMeta).Get(kCount))
			}
			if err := putRun(b, info); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: mark interrupted runs in %s: %w", s.path, err)
	}
	return nil
}
