package session

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// Trace is a run's trace, held once: every trace event in the order the bus emitted it,
// the diagram rows drawn from them, and an index of the published messages. The bus
// appends to it from its tap (with the bus locked, so appending never waits on anything
// but the trace's own short lock); front ends read it from any goroutine.
//
// Events are kept in a compact form (about 40 bytes each, the envelope shared with the
// bus) and expanded on reading, so a million messages cost tens of megabytes, not
// gigabytes.
type Trace struct {
	mu    sync.RWMutex
	epoch time.Time

	events     Chunked[entry]
	extras     []extra          // what events hold beyond their entry, interned
	extraIndex map[extra]int32  // extra -> its index in extras
	apps       []string         // interned app names
	appIndex   map[string]int32 // name -> index in apps
	published  Chunked[int32]   // indexes of the published events, in order
	idsSorted  bool             // published IDs have only increased, so they can be searched
	diagram    *Diagram
	// record, when set, gets every event as it is added (a history recorder, which
	// never blocks).
	record func(bus.TraceEvent)
	// follow, when set, gets every event as it is added, as Event gives it, with its
	// index (see Session.RunToEndLines).
	follow func(i int, e bus.TraceEvent)

	// keep is how many of the newest messages stay in memory, with their events; older
	// events are let go and read back through pages when shown. 0 keeps everything.
	keep  int
	pages *pager
}

// A Trace keeps at least this many of its newest messages in memory whatever its limit,
// so that what a handler does next can always be tied to what it received.
const minKeep = 2 * chunkLen

// entry is one trace event, compact: the topic is the envelope's unless an extra says
// otherwise; reasons, patterns and the like live in extras.
type entry struct {
	env     *bus.Envelope
	at      int64 // nanoseconds since the epoch
	sub     uint64
	extra   int32 // index into extras, -1 for none
	app     int32
	attempt uint16
	kind    bus.TraceKind
	replay  bool
}

type extra struct {
	topic, pattern, reason, upcast string
}

func newTrace(epoch time.Time, apps []string, publishes bool) *Trace {
	t := &Trace{epoch: epoch, appIndex: map[string]int32{}, extraIndex: map[extra]int32{}, idsSorted: true, pages: newPager()}
	for _, a := range apps {
		t.intern(a)
	}
	t.diagram = newDiagram(t, apps, publishes)
	return t
}

func (t *Trace) intern(app string) int32 {
	if i, ok := t.appIndex[app]; ok {
		return i
	}
	i := int32(len(t.apps))
	t.apps = append(t.apps, app)
	t.appIndex[app] = i
	return i
}

// add appends e; it is the bus tap.
func (t *Trace) add(e bus.TraceEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	en := entry{env: e.Env, at: int64(e.At.Sub(t.epoch)), sub: e.SubscriptionID, extra: -1,
		app: t.intern(e.App), attempt: uint16(min(max(e.Attempt, 0), 1<<16-1)), kind: e.Kind, replay: e.Replay}
	x := extra{pattern: e.Pattern, reason: e.Reason, upcast: e.UpcastFrom}
	if e.Env == nil || e.Topic != e.Env.Topic {
		x.topic = e.Topic
	}
	if x != (extra{}) {
		en.extra = t.internExtra(x)
	}
	i := t.events.Len()
	t.events.Append(en)
	if e.Kind == bus.TracePublished && e.Env != nil {
		if n := t.published.Len(); n > 0 && t.idsSorted {
			last := t.events.At(int(t.published.At(n - 1))).env.ID
			t.idsSorted = compareIDs(last, e.Env.ID) < 0
		}
		t.published.Append(int32(i))
		t.trimLocked()
	}
	t.diagram.add(i, e)
	if t.record != nil {
		t.record(e)
	}
	if t.follow != nil {
		t.follow(i, t.eventLocked(i))
	}
}

// recordFrom hands every event so far to fn, then every new one as it comes, with no
// event missed or doubled in between; nil stops.
func (t *Trace) recordFrom(fn func(bus.TraceEvent)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fn != nil && t.record == nil {
		for i := range t.events.Len() {
			fn(t.eventLocked(i))
		}
	}
	t.record = fn
}

// maxInterned bounds the distinct extras interned; past it (reasons that name IDs, say)
// each is kept as it comes.
const maxInterned = 1 << 16

func (t *Trace) internExtra(x extra) int32 {
	if i, ok := t.extraIndex[x]; ok {
		return i
	}
	i := int32(len(t.extras))
	t.extras = append(t.extras, x)
	if len(t.extraIndex) < maxInterned {
		t.extraIndex[x] = i
	}
	return i
}

// trimLocked lets go of the oldest events once more than keep messages are held.
func (t *Trace) trimLocked() {
	if t.keep <= 0 {
		return
	}
	held := t.published.Len() - t.published.First()
	if held < max(t.keep, minKeep)+chunkLen {
		return // let go a chunk at a time
	}
	oldest := t.published.Len() - max(t.keep, minKeep)
	t.events.DropBefore(int(t.published.At(oldest)))
	t.published.DropBefore(oldest)
}

// SetKeep sets how many of the newest messages stay in memory (0: all). Older events are
// read back from the run's recording when shown, or are shown as let go when the run is
// not recorded.
func (t *Trace) SetKeep(messages int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keep = max(messages, 0)
	t.trimLocked()
}

// Held is the index of the oldest event still in memory.
func (t *Trace) Held() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.events.First()
}

func compareIDs(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) }

// Len is the number of events so far.
func (t *Trace) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.events.Len()
}

// Messages is the number of published messages so far.
func (t *Trace) Messages() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.published.Len()
}

// Epoch is the bus time the run started at; event times are offsets from it.
func (t *Trace) Epoch() time.Time { return t.epoch }

// Event returns event i as the bus emitted it (without Err, whose text is in Reason). An
// event no longer in memory is read back from the run's recording; when that cannot be
// done it comes back as Gone.
func (t *Trace) Event(i int) bus.TraceEvent {
	t.mu.RLock()
	if i >= t.events.First() {
		defer t.mu.RUnlock()
		return t.eventLocked(i)
	}
	t.mu.RUnlock()
	return t.pages.event(i)
}

// Gone is the Kind of an event that was let go from memory and cannot be read back.
const Gone bus.TraceKind = 0

func (t *Trace) eventLocked(i int) bus.TraceEvent {
	en := t.events.At(i)
	e := bus.TraceEvent{Kind: en.kind, At: t.epoch.Add(time.Duration(en.at)), Env: en.env, App: t.apps[en.app],
		SubscriptionID: en.sub, Attempt: int(en.attempt), Replay: en.replay}
	if en.env != nil {
		e.Topic = en.env.Topic
	}
	if en.extra >= 0 {
		x := t.extras[en.extra]
		e.Pattern, e.Reason, e.UpcastFrom = x.pattern, x.reason, x.upcast
		if x.topic != "" || en.env == nil {
			e.Topic = x.topic
		}
	}
	return e
}

// Events returns events from index from on, expanded (those no longer in memory read back
// as Event does).
func (t *Trace) Events(from int) []bus.TraceEvent {
	from = max(from, 0)
	var out []bus.TraceEvent
	if held := t.Held(); from < held {
		for i := from; i < held; i++ {
			out = append(out, t.pages.event(i))
		}
		from = held
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for i := max(from, t.events.First()); i < t.events.Len(); i++ {
		out = append(out, t.eventLocked(i))
	}
	return out
}

// Envelopes returns every published envelope held in memory, in the order published.
func (t *Trace) Envelopes() []*bus.Envelope {
	t.mu.RLock()
	defer t.mu.RUnlock()
	lo := t.firstHeldPublished()
	out := make([]*bus.Envelope, 0, t.published.Len()-lo)
	for k := lo; k < t.published.Len(); k++ {
		out = append(out, t.events.At(int(t.published.At(k))).env)
	}
	return out
}

// firstHeldPublished is the first index into published whose event is still held.
func (t *Trace) firstHeldPublished() int {
	k := t.published.First()
	for k < t.published.Len() && int(t.published.At(k)) < t.events.First() {
		k++
	}
	return k
}

// Complete reports whether every event of the run is still in memory.
func (t *Trace) Complete() bool { return t.Held() == 0 }

// Published returns the event index of the published message with that ID among those
// held in memory, or -1.
func (t *Trace) Published(id uuid.UUID) int {
	if id == (uuid.UUID{}) {
		return -1
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	lo, n := t.firstHeldPublished(), t.published.Len()
	envAt := func(k int) *bus.Envelope { return t.events.At(int(t.published.At(k))).env }
	if t.idsSorted {
		hi := n
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if compareIDs(envAt(mid).ID, id) < 0 {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo < n && envAt(lo).ID == id {
			return int(t.published.At(lo))
		}
		return -1
	}
	for k := lo; k < n; k++ {
		if envAt(k).ID == id {
			return int(t.published.At(k))
		}
	}
	return -1
}

// causedScan bounds how many later messages Caused looks through: what a handler
// publishes follows what it received closely.
const causedScan = 1 << 16

// Caused returns the event indexes of the messages published while handling id, in order.
func (t *Trace) Caused(id uuid.UUID) []int {
	from := t.Published(id)
	if from < 0 {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []int
	lo, n := t.firstHeldPublished(), t.published.Len()
	k := lo + sort.Search(n-lo, func(j int) bool { return int(t.published.At(lo+j)) > from })
	for end := min(n, k+causedScan); k < end; k++ {
		if i := int(t.published.At(k)); t.events.At(i).env.Meta.CausationID == id {
			out = append(out, i)
		}
	}
	return out
}

// Diagram is the run's flow diagram, kept in step with the trace.
func (t *Trace) Diagram() *Diagram { return t.diagram }

// Format renders event i as the one line every front end prints for it: time since the
// start, sequence number, what happened, topic, then who to whom. The topic comes before
// the apps because it is what a reader scans for and what a narrow pane must not cut off.
//
//   - 0.120s #12    delivered        inventory.reserve              cart -> inventory
func (t *Trace) Format(i int) string { return FormatEvent(t.Event(i), t.epoch) }

// FormatEvent renders e, whose times count from epoch, as Trace.Format does.
func FormatEvent(e bus.TraceEvent, epoch time.Time) string {
	if e.Kind == Gone {
		return "          (let go from memory, and the run is not recorded: keep more in memory, or record to a history file)"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%9s ", fmt.Sprintf("+%.3fs", e.At.Sub(epoch).Seconds()))
	if e.Env != nil {
		fmt.Fprintf(&sb, "#%-5d ", e.Env.Seq)
	} else {
		sb.WriteString("       ")
	}
	fmt.Fprintf(&sb, "%-16s %-30s ", e.Kind, e.Topic)
	switch e.Kind {
	case bus.TracePublished, bus.TraceRejected, bus.TraceRateLimited, bus.TraceContractWarning, bus.TraceTimedOut:
		sb.WriteString(e.App)
	default:
		if e.Env != nil {
			sb.WriteString(e.Env.Meta.Source + " -> ")
		}
		sb.WriteString(e.App)
	}
	if e.Attempt > 1 {
		fmt.Fprintf(&sb, " (attempt %d)", e.Attempt)
	}
	if e.UpcastFrom != "" {
		fmt.Fprintf(&sb, " (upcast from %s)", e.UpcastFrom)
	}
	if e.Reason != "" {
		fmt.Fprintf(&sb, "  [%s]", e.Reason)
	}
	return sb.String()
}

// Lines formats every event.
func (t *Trace) Lines() []string {
	n := t.Len()
	out := make([]string, n)
	for i := range n {
		out[i] = t.Format(i)
	}
	return out
}

// Matches reports whether event e passes a log filter: a status (0 for any), then text
// that is an app name, a correlation id or a topic pattern (empty for any).
func Matches(e bus.TraceEvent, status bus.TraceKind, text string) bool {
	if status != 0 && e.Kind != status {
		return false
	}
	if text == "" {
		return true
	}
	if e.App == text || (e.Env != nil && (e.Env.Meta.Source == text || e.Env.Correlation() == text)) {
		return true
	}
	return bus.ValidatePattern(text) == nil && bus.MatchTopic(text, e.Topic)
}
