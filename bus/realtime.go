package bus

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Speed limits for the real-time driver. Instant means "as fast as the loop can go".
const (
	MinSpeed = 0.25
	MaxSpeed = 10
	Instant  = math.MaxFloat64
)

// Realtime drives the loop against the wall clock: an event due at bus time t runs when
// (t - start) / speed of wall time has passed, and idle bus time flows with the wall clock so
// outside publishes get sensible timestamps. It changes only when events run, never their
// order, so a run is as deterministic as its outside inputs.
type Realtime struct {
	b      *Bus
	mu     sync.Mutex
	speed  float64
	reset  atomic.Bool // speed changed: re-anchor wall and bus time
	cancel context.CancelFunc
	done   chan struct{}
	wall   func() time.Time
	end    int64                     // bus time (since the epoch) past which nothing runs
	pace   func(ctx context.Context) // see StartRealtimePaced
}

// maxIdleSleep bounds how long the driver sleeps when idle, which is also how coarse bus
// time gets for publishes from outside the loop.
const maxIdleSleep = 20 * time.Millisecond

// StartRealtime starts a driver at the given speed (clamped to MinSpeed..MaxSpeed, or
// Instant). Stop it before stepping by hand; both take the loop lock, so they never overlap.
func (b *Bus) StartRealtime(speed float64) *Realtime {
	return b.startRealtime(speed, math.MaxInt64, nil)
}

// StartRealtimeUntil is StartRealtime with a horizon: no event due after end runs, and bus
// time stops at end, at every speed, Instant included. A run driven this way stops where
// RunUntil(end) stops.
func (b *Bus) StartRealtimeUntil(speed float64, end time.Time) *Realtime {
	return b.startRealtime(speed, int64(end.Sub(b.epoch)), nil)
}

// StartRealtimePaced is StartRealtimeUntil with a pace: the driver lets go of the loop
// every few hundred events and calls pace, which may wait (until a recorder has caught
// up, say) and must return once ctx is done. The run then falls behind the wall clock
// rather than outrun what consumes its trace.
func (b *Bus) StartRealtimePaced(speed float64, end time.Time, pace func(ctx context.Context)) *Realtime {
	return b.startRealtime(speed, int64(end.Sub(b.epoch)), pace)
}

func (b *Bus) startRealtime(speed float64, end int64, pace func(context.Context)) *Realtime {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Realtime{b: b, speed: clampSpeed(speed), cancel: cancel, done: make(chan struct{}), wall: time.Now, end: end, pace: pace}
	go r.run(ctx)
	return r
}

func clampSpeed(s float64) float64 {
	switch {
	case s >= Instant || math.IsInf(s, 1):
		return Instant
	case s < MinSpeed || math.IsNaN(s):
		return MinSpeed
	case s > MaxSpeed:
		return MaxSpeed
	}
	return s
}

// SetSpeed changes the pace from now on.
func (r *Realtime) SetSpeed(speed float64) {
	r.mu.Lock()
	r.speed = clampSpeed(speed)
	r.mu.Unlock()
	r.reset.Store(true)
	r.b.nudge()
}

// Speed is the current pace.
func (r *Realtime) Speed() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.speed
}

// Stop halts the driver and waits for the event it is running to finish.
func (r *Realtime) Stop() {
	r.cancel()
	<-r.done
}

func (r *Realtime) run(ctx context.Context) {
	defer close(r.done)
	b := r.b
	wall0, bus0 := r.wall(), b.nowPub.Load()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		reset := r.reset.Swap(false)
		speed := r.Speed()
		if reset {
			wall0, bus0 = r.wall(), b.nowPub.Load()
		}

		sleep := r.runDue(ctx, speed, wall0, bus0)
		if r.pace != nil {
			r.pace(ctx) // with the loop let go: never under the bus lock
		}
		if sleep == 0 {
			continue
		}
		timer.Reset(sleep)
		select {
		case <-ctx.Done():
		case <-b.wake:
		case <-timer.C:
		}
	}
}

// runDue runs every event due by the wall clock (every queued one at Instant speed) in one
// claim of the loop, checking for a stop between batches. It returns how long to sleep
// before looking again, or 0 to look again at once.
func (r *Realtime) runDue(ctx context.Context, speed float64, wall0 time.Time, bus0 int64) time.Duration {
	b := r.b
	b.mu.Lock()
	b.claimLoopLocked()
	defer b.releaseLoop()
	for n := 0; ; n++ {
		if n%64 == 63 && (ctx.Err() != nil || r.reset.Load() || r.pace != nil) {
			return 0 // stop, re-anchor at the new speed, or let the pace have its say
		}
		until := r.end
		if speed != Instant {
			until = min(until, bus0+int64(float64(r.wall().Sub(wall0))*speed))
		}
		if b.runBatchLocked(until) > 0 {
			continue
		}
		if speed == Instant {
			if r.end != math.MaxInt64 {
				b.setNow(r.end) // everything due is done: the run stands at its horizon
			}
			return maxIdleSleep
		}
		// Idle bus time flows with the wall clock, but never past the next event.
		sleep := maxIdleSleep
		if next, has := b.queue.peek(); has {
			until = min(until, next.at)
			sleep = min(sleep, max(time.Duration(float64(next.at-until)/speed), time.Microsecond))
		}
		b.setNow(until)
		return sleep
	}
}
