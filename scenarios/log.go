package scenarios

import (
	"context"

	"mfelab/bus"
)

// watchHandlers makes fn run on the loop after every handler, for figures that follow
// the run (a projection's lag). Taps cannot do this: they must not call back into the bus.
func (r *Run) watchHandlers(fn func()) {
	r.afterHandlers = append(r.afterHandlers, fn)
}

// installHooks puts the run's after-handler hooks and its message counter on the bus.
func (r *Run) installHooks() {
	r.Bus.Use(func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, d bus.Delivery) error {
			err := next(ctx, d)
			for _, fn := range r.afterHandlers {
				fn()
			}
			return err
		}
	})
	r.Bus.Tap(func(e bus.TraceEvent) {
		if e.Kind == bus.TracePublished {
			r.published.Add(1)
		}
	})
}

// Published is how many messages the run has published so far.
func (r *Run) Published() int { return int(r.published.Load()) }
