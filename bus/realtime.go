package bus

import (
	"context"
	"math"
	"sync"
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
	reset  bool // speed changed: re-anchor wall and bus time
	cancel context.CancelFunc
	done   chan struct{}
	wall   func() time.Time
}

// maxIdleSleep bounds how long the driver sleeps when idle, which is also how coarse bus
// time gets for publishes from outside the loop.
const maxIdleSleep = 20 * time.Millisecond

// StartRealtime starts a driver at the given speed (clamped to MinSpeed..MaxSpeed, or
// Instant). Stop it before stepping by hand; both take the loop lock, so they never overlap.
func (b *Bus) StartRealtime(speed float64) *Realtime {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Realtime{b: b, speed: clampSpeed(speed), cancel: cancel, done: make(chan struct{}), wall: time.Now}
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
	r.reset = true
	r.mu.Unlock()
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
		r.mu.Lock()
		speed, reset := r.speed, r.reset
		r.reset = false
		r.mu.Unlock()
		if reset {
			wall0, bus0 = r.wall(), b.nowPub.Load()
		}

		b.loopMu.Lock()
		b.mu.Lock()
		next, has := b.queue.peek()
		var nextAt int64
		if has {
			nextAt = next.at
		}
		var sleep time.Duration
		if speed == Instant {
			b.mu.Unlock()
			if has {
				b.stepLocked()
				b.loopMu.Unlock()
				continue
			}
			sleep = maxIdleSleep
		} else {
			target := bus0 + int64(float64(r.wall().Sub(wall0))*speed)
			if has && nextAt <= target {
				b.mu.Unlock()
				b.stepLocked()
				b.loopMu.Unlock()
				continue
			}
			// Idle bus time flows with the wall clock, but never past the next event.
			if has && target > nextAt {
				target = nextAt
			}
			b.setNow(target)
			b.mu.Unlock()
			sleep = maxIdleSleep
			if has {
				sleep = min(sleep, time.Duration(float64(nextAt-target)/speed))
			}
		}
		b.loopMu.Unlock()

		timer.Reset(sleep)
		select {
		case <-ctx.Done():
		case <-b.wake:
		case <-timer.C:
		}
	}
}
