package bus

// Ending a subscription, and what holds once it has ended.

import (
	"reflect"
	"runtime"
)

// Unsubscribe ends the subscription. Once it returns, no delivery to the subscription
// starts, and no handler of it is running except, when called from that handler, the
// caller itself. Deliveries already scheduled show on the tap as skipped. It is idempotent
// and safe from any goroutine.
//
// Called on the loop (from a handler, a timer or a dead-letter sink) it returns at once:
// the loop runs one thing at a time, so a handler may end its own subscription or another.
// Called from another goroutine while the loop is running a batch of events, it waits for
// that batch to end, since the batch may hold a delivery to this subscription that has
// already begun. It does not hold the bus locked while it waits, but a caller that holds a
// lock a handler needs, or that a handler waits for, deadlocks. A handler on the loop of
// another bus counts as on the loop: it does not wait.
func (s *Subscription) Unsubscribe() {
	b := s.app.bus
	ended := s.active.Swap(false)
	b.mu.Lock()
	if ended {
		b.trie.remove(s)
	}
	stop := s.stop
	// The batch in progress may have checked active before the Swap; the next one starts
	// after this lock is released, so it sees active false.
	if b.inBatch && !onLoop() {
		for gen := b.batchGen; b.inBatch && b.batchGen == gen; {
			b.batchEnded.Wait()
		}
	}
	b.mu.Unlock()
	if ended && stop != nil {
		stop()
	}
}

// endOnLoop ends the subscription from the loop, which has nothing to wait for.
func (s *Subscription) endOnLoop() {
	if !s.active.Swap(false) {
		return
	}
	b := s.app.bus
	b.mu.Lock()
	b.trie.remove(s)
	stop := s.stop
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// loopFrame names the function every handler, timer and dead-letter sink runs under.
var loopFrame = reflect.TypeFor[Bus]().PkgPath() + ".(*Bus).runUnlocked"

// onLoop reports whether the caller runs on a bus's loop. Go gives goroutines no identity
// to compare, so it looks for the loop's frame on the caller's stack: a walk of the stack,
// paid only by an Unsubscribe that would otherwise wait.
func onLoop() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	for n == len(pcs) {
		pcs = make([]uintptr, 2*len(pcs))
		n = runtime.Callers(2, pcs)
	}
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function == loopFrame {
			return true
		}
		if !more {
			return false
		}
	}
}
