package session

import (
	"fmt"
	"io"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/scenarios"
)

// Export writes the session's run to path in format f, atomically. NDJSON, CloudEvents
// and CSV hold its published messages; Mermaid draws its diagram, row for row as the
// window draws it. It returns how many messages (or, for Mermaid, arrows) it wrote.
//
// When the trace has let go of its oldest events, the export is made from the run's
// recording instead, which holds them all; a run neither held whole nor recorded cannot
// be exported whole, and says so.
func (s *Session) Export(path string, f history.Format) (int, error) {
	if s.trace.Complete() {
		return ExportTrace(s.trace, path, f)
	}
	s.mu.Lock()
	store, id := s.store, s.info.ID
	s.mu.Unlock()
	if store == nil {
		return 0, fmt.Errorf("the run's oldest events were let go from memory and it was not recorded: keep more in memory, or open a history file, and run it again")
	}
	if err := s.FlushRecording(); err != nil {
		return 0, err
	}
	n, _, err := ExportRun(store, id, path, f, history.Query{})
	return n, err
}

// ExportTrace writes t to path in format f (see Session.Export).
func ExportTrace(t *Trace, path string, f history.Format) (int, error) {
	if _, err := history.ParseFormat(string(f)); err != nil {
		return 0, err
	}
	return history.WriteFileAtomic(path, func(w io.Writer) (int, error) { return WriteTrace(t, w, f) })
}

// WriteTrace writes t to w in format f.
func WriteTrace(t *Trace, w io.Writer, f history.Format) (int, error) {
	if f == history.Mermaid {
		return t.Diagram().WriteMermaid(w)
	}
	ex, err := history.NewExporter(w, f)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, env := range t.Envelopes() {
		if err := ex.Write(env); err != nil {
			return n, err
		}
		n++
	}
	return n, ex.Close()
}

// Load reads recorded run id ("latest" for the newest) of store back as a trace, its
// diagram rebuilt exactly as the window drew it while the run was recorded. Only the
// events that pass q's topic pattern and correlation id are kept.
func Load(store *history.Store, id string, q history.Query) (*Trace, history.RunInfo, error) {
	info, err := store.Run(id)
	if err != nil {
		return nil, info, err
	}
	ns, err := store.In(info.ID)
	if err != nil {
		return nil, info, err
	}
	defer ns.Close()
	st, err := ns.Trace()
	if err != nil {
		return nil, info, fmt.Errorf("run %s: %w", info.ID, err)
	}
	if q.Pattern != "" {
		if err := bus.ValidatePattern(q.Pattern); err != nil {
			return nil, info, err
		}
	}
	events := st.Events()
	epoch := info.Epoch
	if epoch.IsZero() && len(events) > 0 {
		epoch = events[0].At
	}
	t := newTrace(epoch, info.Apps, info.Scenario == scenarios.ReplayID || info.Outcome == history.OutcomeImported)
	for _, e := range events {
		if q.Pattern != "" && !bus.MatchTopic(q.Pattern, e.Topic) {
			continue
		}
		if q.CorrelationID != "" && (e.Env == nil || e.Env.Correlation() != q.CorrelationID) {
			continue
		}
		t.add(e)
	}
	return t, info, nil
}

// ExportRun writes recorded run id of store to path in format f, with q's filters: the
// same rows, in the same form, as exporting the run from the window while it was shown.
func ExportRun(store *history.Store, id string, path string, f history.Format, q history.Query) (int, history.RunInfo, error) {
	if f == history.Mermaid {
		t, info, err := Load(store, id, q)
		if err != nil {
			return 0, info, err
		}
		n, err := ExportTrace(t, path, f)
		return n, info, err
	}
	info, err := store.Run(id)
	if err != nil {
		return 0, info, err
	}
	ns, err := store.In(info.ID)
	if err != nil {
		return 0, info, err
	}
	defer ns.Close()
	n, err := ns.ExportFile(path, f, q)
	return n, info, err
}
