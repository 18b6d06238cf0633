package bus

import (
	"math"
	"time"
)

type eventKind uint8

const (
	evDelivery eventKind = iota + 1
	evTimer
	// evFanout is the deliveries of one publish to several subscriptions, all due at the
	// same bus time: one queue entry for them all, taken apart a delivery at a time.
	evFanout
)

// event is one thing the loop will do: deliver an envelope to a subscription, or fire a
// timer. Events run in (at, seq) order: bus time first, then the order they were scheduled.
type event struct {
	at      int64
	seq     uint64
	attempt int32
	kind    eventKind
	replay  bool
	env     *Envelope
	sub     *Subscription
	tc      *topicCounter
	timer   *Timer
	fan     *fanout // evFanout only
}

// fanout is the subscriptions a publish still has to reach, in subscription order. subs
// is a route the trie no longer changes (see trie.route), so no copy is made of it.
type fanout struct {
	subs []*Subscription
	next int
}

func (e *event) before(o *event) bool {
	return e.at < o.at || (e.at == o.at && e.seq < o.seq)
}

// eventQueue orders events by (at, seq). Most events arrive in that order already: a
// delivery is due now or after a fixed latency, and a burst of publishes schedules a run of
// them. Those go to a FIFO lane, where scheduling and taking are O(1); an event that would
// land before the lane's last one goes to a binary min-heap instead, and taking compares
// the two heads. Both hold events by value, so scheduling allocates nothing once they have
// grown.
//
// A fan-out entry stands for several deliveries with consecutive sequence numbers at one
// bus time. No other event can fall between them, so taking them one by one from the
// entry, which keeps its place until the last is taken, runs them in the same order as
// separate events would: a queue of 2.5M pending deliveries to 10 subscribers holds 250k
// entries.
type eventQueue struct {
	h       []event   // min-heap
	lane    eventRing // in (at, seq) order
	seq     uint64
	pending int // deliveries and timers, a fan-out counting each delivery left
}

func (q *eventQueue) len() int { return q.pending }

func (q *eventQueue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.pending++
	if e.kind == evFanout {
		left := len(e.fan.subs) - e.fan.next
		q.seq += uint64(left - 1) // one sequence number per delivery, as separate events had
		q.pending += left - 1
	}
	if q.lane.n == 0 || e.at >= q.lane.last().at {
		q.lane.push(e) // its seq is the highest yet, so the lane stays in order
		return
	}
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.h[i].before(&q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

// fromLane reports whether the first event is the lane's rather than the heap's.
func (q *eventQueue) fromLane() bool {
	return q.lane.n > 0 && (len(q.h) == 0 || q.lane.first().before(&q.h[0]))
}

func (q *eventQueue) pop() (event, bool) {
	if q.len() == 0 {
		return event{}, false
	}
	dst := q.popTo(nil)
	return dst[0], true
}

// popTo appends the first event to dst, copying it once; the queue must not be empty. A
// fan-out gives its next delivery and stays first until it has given them all.
func (q *eventQueue) popTo(dst []event) []event {
	q.pending--
	lane := q.fromLane()
	var head *event
	if lane {
		head = q.lane.first()
	} else {
		head = &q.h[0]
	}
	if head.kind == evFanout {
		f := head.fan
		dst = append(dst, event{at: head.at, seq: head.seq + uint64(f.next), attempt: head.attempt, kind: evDelivery,
			replay: head.replay, env: head.env, sub: f.subs[f.next], tc: head.tc})
		if f.next++; f.next < len(f.subs) {
			return dst
		}
	} else {
		dst = append(dst, *head)
	}
	if lane {
		q.lane.drop()
	} else {
		q.dropHeap()
	}
	return dst
}

// dropHeap removes the heap's first event.
func (q *eventQueue) dropHeap() {
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h[last] = event{} // drop references for the GC
	q.h = q.h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= last {
			break
		}
		m := l
		if r := l + 1; r < last && q.h[r].before(&q.h[l]) {
			m = r
		}
		if !q.h[m].before(&q.h[i]) {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
}

func (q *eventQueue) peek() (*event, bool) {
	switch {
	case q.fromLane():
		return q.lane.first(), true
	case len(q.h) > 0:
		return &q.h[0], true
	}
	return nil, false
}

// claimLoopLocked waits until no other goroutine runs the loop and claims it. Caller holds
// mu, and may drop it while it runs events; it hands the loop back with releaseLoopLocked,
// holding mu again.
func (b *Bus) claimLoopLocked() {
	for b.looping {
		b.loopFree.Wait()
	}
	b.looping = true
}

// releaseLoopLocked folds the loop's statistics in, so Stats is exact when a run returns,
// and hands the loop on. Caller holds mu.
func (b *Bus) releaseLoopLocked() {
	b.flushDeliveryCountsLocked()
	b.looping = false
	b.loopFree.Signal()
}

// releaseLoop is releaseLoopLocked for a deferred call; the run holds mu again by then, even
// when an event panicked (see runUnlocked).
func (b *Bus) releaseLoop() {
	b.releaseLoopLocked()
	b.mu.Unlock()
}

// runUnlocked runs events without holding mu, which handlers need to publish. It takes mu
// back on the way out, also when an event panics, so the deferred releaseLoop finds it held.
// Every handler and timer runs under this frame: onLoop looks for it. Caller holds mu.
//
//go:noinline
func (b *Bus) runUnlocked(evs []event) {
	b.inBatch = true
	b.mu.Unlock()
	defer b.endBatch()
	for i := range evs {
		b.run(&evs[i])
		evs[i] = event{} // do not pin envelopes from a reused buffer
	}
}

// endBatch takes mu back after a batch and wakes any Unsubscribe waiting for it to end.
// Once mu is taken, every delivery of the next batch sees the subscriptions ended before.
func (b *Bus) endBatch() {
	b.mu.Lock()
	b.inBatch = false
	b.batchGen++
	b.batchEnded.Broadcast() // cheap without waiters
}

// Step runs the next event (one delivery or one timer), moving bus time to it. It reports
// whether there was one.
func (b *Bus) Step() bool {
	b.mu.Lock()
	b.claimLoopLocked()
	defer b.releaseLoop()
	ev, ok := b.queue.pop()
	if !ok {
		return false
	}
	b.setNow(ev.at)
	b.batch = append(b.batch[:0], ev)
	b.runUnlocked(b.batch)
	b.batch = b.batch[:0]
	return true
}

func (b *Bus) run(ev *event) {
	switch ev.kind {
	case evDelivery:
		b.deliver(ev)
	case evTimer:
		ev.timer.fire()
	}
}

// maxBatch bounds how many events one lock acquisition takes off the queue.
const maxBatch = 256

// runBatchLocked runs the events due at the earliest scheduled bus time, if it is no later
// than until, taking them off the queue under one lock. Running them as a batch keeps the
// order: whatever they schedule is due at the same time with a later sequence, or later.
// It returns how many ran. Caller runs the loop and holds mu, which it holds again on return.
func (b *Bus) runBatchLocked(until int64) int {
	b.flushDeliveryCountsLocked()
	head, ok := b.queue.peek()
	if !ok || head.at > until {
		return 0
	}
	at := head.at
	b.setNow(at)
	batch := b.batch[:0]
	for len(batch) < maxBatch {
		next, ok := b.queue.peek()
		if !ok || next.at != at {
			break
		}
		batch = b.queue.popTo(batch)
	}
	b.runUnlocked(batch)
	b.batch = batch[:0]
	return len(batch)
}

// RunUntilIdle runs events until none is left, including those the handlers schedule, and
// returns how many ran. A handler that keeps publishing to itself keeps it running.
func (b *Bus) RunUntilIdle() int {
	b.mu.Lock()
	b.claimLoopLocked()
	defer b.releaseLoop()
	total := 0
	for {
		n := b.runBatchLocked(math.MaxInt64)
		if n == 0 {
			return total
		}
		total += n
	}
}

// RunFor runs every event due within d of bus time from now, then sets bus time to now+d.
func (b *Bus) RunFor(d time.Duration) int {
	return b.RunUntil(b.Now().Add(d))
}

// RunUntil runs every event due at or before t, then sets bus time to t (if later).
func (b *Bus) RunUntil(t time.Time) int {
	target := int64(t.Sub(b.epoch))
	b.mu.Lock()
	b.claimLoopLocked()
	defer b.releaseLoop()
	total := 0
	for {
		n := b.runBatchLocked(target)
		if n == 0 {
			b.setNow(target)
			return total
		}
		total += n
	}
}

// Pending is the number of scheduled events (deliveries and timers).
func (b *Bus) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queue.len()
}

// NextAt is the bus time of the next scheduled event, if any.
func (b *Bus) NextAt() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev, ok := b.queue.peek()
	if !ok {
		return time.Time{}, false
	}
	return b.epoch.Add(time.Duration(ev.at)), true
}

// Timer is a function scheduled on the loop by After.
type Timer struct {
	b       *Bus
	fn      func()
	stopped bool // guarded by b.mu
	fired   bool // guarded by b.mu
}

// After schedules fn to run on the loop once d of bus time has passed (d <= 0 means as soon
// as the events already due now have run). Patterns build timeouts, backoff and breaker
// windows on it, so they all run in bus time.
func (b *Bus) After(d time.Duration, fn func()) *Timer {
	if d < 0 {
		d = 0
	}
	t := &Timer{b: b, fn: fn}
	b.mu.Lock()
	b.queue.push(event{at: b.now + int64(d), kind: evTimer, timer: t})
	b.mu.Unlock()
	b.nudge()
	return t
}

// Post runs fn on the loop after the events already due now: the safe way for another
// goroutine (the UI) to change state the loop owns.
func (b *Bus) Post(fn func()) *Timer { return b.After(0, fn) }

// Stop cancels the timer. It reports whether it stopped it before it fired.
func (t *Timer) Stop() bool {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if t.fired || t.stopped {
		return false
	}
	t.stopped = true
	return true
}

func (t *Timer) fire() {
	t.b.mu.Lock()
	run := !t.stopped && !t.fired
	t.fired = true
	t.b.mu.Unlock()
	if run {
		t.fn()
	}
}
