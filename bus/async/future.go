// Package async holds Future, the one-shot result the patterns hand back instead of
// blocking: an RPC call, a gather, a saga run or a policy-wrapped operation all finish on
// the bus loop some bus time later, and the caller reacts with Then (on the loop) or Wait
// (from another goroutine while a real-time driver runs the loop).
//
// Callbacks run synchronously on whichever goroutine settles the future, in the order they
// were added, so on a bus they run on the loop and stay deterministic.
package async

import (
	"context"
	"sync"
)

// Future is a value of type T or an error, available once settled. The zero value is not
// usable; make one with New or Settled.
type Future[T any] struct {
	mu   sync.Mutex
	done bool
	val  T
	err  error
	cbs  []func(T, error)
	ch   chan struct{} // made on demand by Wait, closed on settle
}

// New makes a pending future and the function that settles it. Only the first settle
// counts; it reports whether this call was the one.
func New[T any]() (*Future[T], func(T, error) bool) {
	f := &Future[T]{}
	return f, f.settle
}

// Settled makes a future that is already done.
func Settled[T any](v T, err error) *Future[T] {
	return &Future[T]{done: true, val: v, err: err}
}

// Failed makes a future that has already failed with err.
func Failed[T any](err error) *Future[T] {
	var zero T
	return Settled(zero, err)
}

func (f *Future[T]) settle(v T, err error) bool {
	f.mu.Lock()
	if f.done {
		f.mu.Unlock()
		return false
	}
	f.done, f.val, f.err = true, v, err
	cbs := f.cbs
	f.cbs = nil
	if f.ch != nil {
		close(f.ch)
	}
	f.mu.Unlock()
	for _, cb := range cbs {
		cb(v, err)
	}
	return true
}

// Then calls fn with the result once the future settles, or at once if it has.
func (f *Future[T]) Then(fn func(T, error)) {
	f.mu.Lock()
	if !f.done {
		f.cbs = append(f.cbs, fn)
		f.mu.Unlock()
		return
	}
	v, err := f.val, f.err
	f.mu.Unlock()
	fn(v, err)
}

// Done reports whether the future has settled.
func (f *Future[T]) Done() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

// Result returns the value and error, and whether the future has settled.
func (f *Future[T]) Result() (T, error, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.val, f.err, f.done
}

// Wait blocks until the future settles or ctx ends. Never call it on the bus loop (inside
// a handler or timer): the loop would wait for itself.
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	f.mu.Lock()
	if f.done {
		f.mu.Unlock()
		return f.val, f.err
	}
	if f.ch == nil {
		f.ch = make(chan struct{})
	}
	ch := f.ch
	f.mu.Unlock()
	select {
	case <-ch:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Map returns a future of fn applied to f's value; an error passes through untouched.
func Map[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	out, settle := New[U]()
	f.Then(func(v T, err error) {
		if err != nil {
			var zero U
			settle(zero, err)
			return
		}
		settle(fn(v))
	})
	return out
}
