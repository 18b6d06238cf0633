package resilience

import (
	"context"
	"fmt"
	"sync"

	"mfelab/bus/async"
)

// Bulkhead limits how many operations run at once; a bounded queue holds the overflow and
// anything past it is refused with *BulkheadFullError.
type Bulkhead struct {
	name          string
	maxConcurrent int
	maxQueue      int

	mu      sync.Mutex
	running int
	queue   []func()
	stats   BulkheadStats
}

// BulkheadStats counts a bulkhead's work.
type BulkheadStats struct {
	Running, Queued                        int
	MaxConcurrent, MaxQueue                int
	Admitted, QueuedTotal, Rejected, Ended uint64
}

// BulkheadFullError is an operation refused because every slot and queue place was taken.
type BulkheadFullError struct {
	Name                    string
	MaxConcurrent, MaxQueue int
}

func (e *BulkheadFullError) Error() string {
	return fmt.Sprintf("bulkhead %s full: %d running, %d queued", e.Name, e.MaxConcurrent, e.MaxQueue)
}
func (e *BulkheadFullError) Unwrap() error { return ErrBulkheadFull }

// NewBulkhead makes a bulkhead. maxConcurrent must be at least 1; maxQueue may be 0.
func NewBulkhead(name string, maxConcurrent, maxQueue int) (*Bulkhead, error) {
	if maxConcurrent < 1 || maxQueue < 0 {
		return nil, fmt.Errorf("bulkhead %s: want maxConcurrent >= 1 and maxQueue >= 0, got %d and %d", name, maxConcurrent, maxQueue)
	}
	return &Bulkhead{name: name, maxConcurrent: maxConcurrent, maxQueue: maxQueue}, nil
}

// Enter runs start now if a slot is free, queues it otherwise, or refuses it when the queue
// is full too. start must call release exactly once when its work ends; that starts the
// next queued operation.
func (bh *Bulkhead) Enter(start func(release func())) error {
	bh.mu.Lock()
	run := func() {
		var once sync.Once
		start(func() { once.Do(bh.release) })
	}
	if bh.running < bh.maxConcurrent {
		bh.running++
		bh.stats.Admitted++
		bh.mu.Unlock()
		run()
		return nil
	}
	if len(bh.queue) < bh.maxQueue {
		bh.queue = append(bh.queue, run)
		bh.stats.QueuedTotal++
		bh.mu.Unlock()
		return nil
	}
	bh.stats.Rejected++
	bh.mu.Unlock()
	return &BulkheadFullError{Name: bh.name, MaxConcurrent: bh.maxConcurrent, MaxQueue: bh.maxQueue}
}

func (bh *Bulkhead) release() {
	bh.mu.Lock()
	bh.stats.Ended++
	if len(bh.queue) == 0 {
		bh.running--
		bh.mu.Unlock()
		return
	}
	next := bh.queue[0]
	bh.queue = bh.queue[1:]
	bh.stats.Admitted++
	bh.mu.Unlock()
	next() // the slot passes straight to the next in line
}

// Stats returns the bulkhead's counters.
func (bh *Bulkhead) Stats() BulkheadStats {
	bh.mu.Lock()
	defer bh.mu.Unlock()
	s := bh.stats
	s.Running, s.Queued, s.MaxConcurrent, s.MaxQueue = bh.running, len(bh.queue), bh.maxConcurrent, bh.maxQueue
	return s
}

// WithBulkhead runs op inside bh.
func WithBulkhead[T any](bh *Bulkhead, op Op[T]) Op[T] {
	return func(ctx context.Context) *async.Future[T] {
		out, settle := async.New[T]()
		err := bh.Enter(func(release func()) {
			op(ctx).Then(func(v T, err error) {
				release()
				settle(v, err)
			})
		})
		if err != nil {
			var zero T
			settle(zero, err)
		}
		return out
	}
}
