// Package bustest helps tests of code built on the bus: a trace recorder that renders each
// trace event as one short line, so a test can assert the exact sequence of what happened.
package bustest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"mfelab/bus"
)

// Recorder keeps a bus's trace as lines "+<ms> <kind> <app> <topic> [#attempt] [reason]".
type Recorder struct {
	b      *bus.Bus
	mu     sync.Mutex
	lines  []string
	kinds  map[bus.TraceKind]bool
	cancel func()
}

// Record starts recording b's trace. With kinds given, only those kinds are kept.
func Record(b *bus.Bus, kinds ...bus.TraceKind) *Recorder {
	r := &Recorder{b: b}
	if len(kinds) > 0 {
		r.kinds = map[bus.TraceKind]bool{}
		for _, k := range kinds {
			r.kinds[k] = true
		}
	}
	r.cancel = b.Tap(r.add)
	return r
}

func (r *Recorder) add(e bus.TraceEvent) {
	if r.kinds != nil && !r.kinds[e.Kind] {
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "+%d %s %s %s", e.At.Sub(r.b.Epoch())/time.Millisecond, e.Kind, e.App, e.Topic)
	if e.Attempt > 1 {
		fmt.Fprintf(&sb, " #%d", e.Attempt)
	}
	if e.Reason != "" {
		sb.WriteString(" [" + e.Reason + "]")
	}
	r.mu.Lock()
	r.lines = append(r.lines, sb.String())
	r.mu.Unlock()
}

// Lines returns what was recorded so far.
func (r *Recorder) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.lines = nil
	r.mu.Unlock()
}

// Stop ends recording.
func (r *Recorder) Stop() { r.cancel() }

// Diff returns "" when got equals want, else both listed side by side for a failure message.
func Diff(got, want []string) string {
	if slices.Equal(got, want) {
		return ""
	}
	var sb strings.Builder
	for i := range max(len(got), len(want)) {
		g, w := "", ""
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := "  "
		if g != w {
			mark = "!="
		}
		fmt.Fprintf(&sb, "%s got  %s\n   want %s\n", mark, g, w)
	}
	return sb.String()
}
