package bus

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// AppConfig declares an app (a microfrontend) on the bus.
type AppConfig struct {
	// Name is the app's identity: the Source of what it publishes.
	Name string
	// Publish lists the patterns the app may publish to. Nil means any topic; an empty,
	// non-nil slice means none.
	Publish []string
	// Subscribe lists the patterns the app may subscribe within: a subscription's pattern
	// must be covered by one of them. Nil means any; empty non-nil means none.
	Subscribe []string
	// RateLimit caps how fast the app may publish; nil means no limit.
	RateLimit *RateLimit
	// Latency delays every delivery to this app's handlers, in bus time.
	Latency time.Duration
	// Origin says where a remote app runs: set for an app that lives in another process
	// and publishes here through a bridge (see App.Import), empty for the bus's own apps.
	// It is a label to show (a server URL, a process), not an address the bus uses.
	Origin string
}

// RateLimit is a token bucket in bus time: PerSecond tokens are added per second up to
// Burst, and each publish takes one.
type RateLimit struct {
	PerSecond float64
	Burst     int
	// Drop makes an over-limit publish return (nil, nil) after a rate-limited trace event;
	// otherwise it returns a *RateLimitError. Either way the message is not published.
	Drop bool
}

// App is a registered app: the handle through which it publishes and subscribes.
type App struct {
	bus    *Bus
	name   string
	origin string
	pub    []string
	sub    []string

	// guarded by bus.mu
	limit  *RateLimit
	tokens float64
	filled int64 // bus time (ns) the bucket was last refilled

	latency atomic.Int64

	published uint64 // guarded by bus.mu: publishes already hold it
	received  uint64 // guarded by bus.mu, folded in from unflushed (see deliveryCounts)
	failures  atomic.Uint64

	unflushed uint64 // deliveries not yet in received; the loop's, not guarded by mu
}

// Register adds an app. Patterns are validated; a duplicate name is an error.
func (b *Bus) Register(cfg AppConfig) (*App, error) {
	if err := ValidateTopic(cfg.Name); err != nil {
		return nil, fmt.Errorf("app name: %w", err)
	}
	for _, p := range slices.Concat(cfg.Publish, cfg.Subscribe) {
		if err := ValidatePattern(p); err != nil {
			return nil, fmt.Errorf("app %q ACL: %w", cfg.Name, err)
		}
	}
	if rl := cfg.RateLimit; rl != nil && (rl.PerSecond <= 0 || rl.Burst < 1) {
		return nil, fmt.Errorf("app %q rate limit: want PerSecond > 0 and Burst >= 1, got %g and %d", cfg.Name, rl.PerSecond, rl.Burst)
	}
	a := &App{bus: b, name: cfg.Name, origin: cfg.Origin, pub: clonePatterns(cfg.Publish), sub: clonePatterns(cfg.Subscribe)}
	a.latency.Store(int64(cfg.Latency))
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.apps[cfg.Name]; dup {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateApp, cfg.Name)
	}
	a.setRateLimitLocked(cfg.RateLimit, b.now)
	b.apps[cfg.Name] = a
	b.appOrder = append(b.appOrder, a)
	return a, nil
}

// MustRegister is Register for app tables known to be valid; it panics on error.
func (b *Bus) MustRegister(cfg AppConfig) *App {
	a, err := b.Register(cfg)
	if err != nil {
		panic(err)
	}
	return a
}

// App returns the registered app with that name, or nil.
func (b *Bus) App(name string) *App {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.apps[name]
}

// Apps returns the registered apps in registration order.
func (b *Bus) Apps() []*App {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.appOrder)
}

func clonePatterns(p []string) []string {
	if p == nil {
		return nil
	}
	return append([]string{}, p...)
}

// Name is the app's name.
func (a *App) Name() string { return a.name }

// Config returns the app's declaration as it stands now (rate limit and latency included),
// with fresh slices: what it may publish and subscribe to can be handed on, to make NATS
// permissions of an app's ACL, say.
func (a *App) Config() AppConfig {
	a.bus.mu.Lock()
	var rl *RateLimit
	if a.limit != nil {
		c := *a.limit
		rl = &c
	}
	a.bus.mu.Unlock()
	return AppConfig{Name: a.name, Publish: clonePatterns(a.pub), Subscribe: clonePatterns(a.sub),
		RateLimit: rl, Latency: a.Latency(), Origin: a.origin}
}

// Origin is where a remote app runs (AppConfig.Origin); empty for the bus's own apps.
func (a *App) Origin() string { return a.origin }

// Remote reports whether the app lives in another process and publishes here through a
// bridge.
func (a *App) Remote() bool { return a.origin != "" }

// Bus is the bus the app is registered on.
func (a *App) Bus() *Bus { return a.bus }

// SetLatency changes the delay of deliveries to this app from now on (a fault knob).
func (a *App) SetLatency(d time.Duration) { a.latency.Store(int64(d)) }

// Latency is the current delivery delay to this app.
func (a *App) Latency() time.Duration { return time.Duration(a.latency.Load()) }

// SetRateLimit replaces the app's rate limit; nil removes it. The bucket starts full.
func (a *App) SetRateLimit(rl *RateLimit) error {
	if rl != nil && (rl.PerSecond <= 0 || rl.Burst < 1) {
		return fmt.Errorf("app %q rate limit: want PerSecond > 0 and Burst >= 1, got %g and %d", a.name, rl.PerSecond, rl.Burst)
	}
	a.bus.mu.Lock()
	defer a.bus.mu.Unlock()
	a.setRateLimitLocked(rl, a.bus.now)
	return nil
}

func (a *App) setRateLimitLocked(rl *RateLimit, now int64) {
	if rl != nil {
		c := *rl
		rl = &c
		a.tokens = float64(rl.Burst)
		a.filled = now
	}
	a.limit = rl
}

// takeToken refills the bucket to now and takes one token if there is one. Caller holds
// bus.mu.
func (a *App) takeToken(now int64) bool {
	rl := a.limit
	if rl == nil {
		return true
	}
	if now > a.filled {
		a.tokens += float64(now-a.filled) / float64(time.Second) * rl.PerSecond
		if a.tokens > float64(rl.Burst) {
			a.tokens = float64(rl.Burst)
		}
		a.filled = now
	}
	if a.tokens < 1 {
		return false
	}
	a.tokens--
	return true
}

func (a *App) mayPublish(topic string) bool {
	if a.pub == nil {
		return true
	}
	for _, p := range a.pub {
		if MatchTopic(p, topic) {
			return true
		}
	}
	return false
}

func (a *App) maySubscribe(pattern string) bool {
	if a.sub == nil {
		return true
	}
	for _, p := range a.sub {
		if PatternCovers(p, pattern) {
			return true
		}
	}
	return false
}

// AppStats are an app's counters.
type AppStats struct {
	Published uint64 // messages it published
	Received  uint64 // deliveries to its handlers
	Failures  uint64 // deliveries its handlers failed (error or panic)
}

// Stats returns the app's counters.
func (a *App) Stats() AppStats {
	a.bus.mu.Lock()
	published, received := a.published, a.received
	a.bus.mu.Unlock()
	return AppStats{Published: published, Received: received, Failures: a.failures.Load()}
}
