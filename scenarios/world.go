package scenarios

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"mfelab/bus"
)

// ErrInjected is what every failure injected by a fault knob wraps.
var ErrInjected = errors.New("injected fault")

// Field is one line of an app's state as a panel shows it.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Faults are an app's fault switches: down, fail the next N calls (of one operation or
// any), fail with probability P (drawn from a seeded stream), and added latency (the
// app's bus latency). Safe from any goroutine: the UI flips them while a run goes on.
type Faults struct {
	app *bus.App

	mu       sync.Mutex
	down     bool
	failNext map[string]int // op ("" = any) -> calls left to fail
	failProb float64
	rng      *rand.Rand
	injected int
}

// FaultState is a snapshot of the switches.
type FaultState struct {
	Down     bool           `json:"down"`
	FailNext map[string]int `json:"failNext,omitempty"`
	FailProb float64        `json:"failProb,omitempty"`
	Latency  time.Duration  `json:"latency,omitempty"`
	Injected int            `json:"injected"`
}

// SetDown takes the app down or brings it back up.
func (f *Faults) SetDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

// FailNext makes the next n calls of op fail ("" for any operation).
func (f *Faults) FailNext(op string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n <= 0 {
		delete(f.failNext, op)
		return
	}
	f.failNext[op] = n
}

// SetFailProb makes each call fail with probability p.
func (f *Faults) SetFailProb(p float64) { f.mu.Lock(); f.failProb = min(max(p, 0), 1); f.mu.Unlock() }

// SetLatency adds latency to every delivery to the app.
func (f *Faults) SetLatency(d time.Duration) { f.app.SetLatency(d) }

// State returns the switches.
func (f *Faults) State() FaultState {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn := map[string]int{}
	for k, v := range f.failNext {
		fn[k] = v
	}
	return FaultState{Down: f.down, FailNext: fn, FailProb: f.failProb, Latency: f.app.Latency(), Injected: f.injected}
}

// Check is called by the app before it does op: it returns the injected failure, if any.
func (f *Faults) Check(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := f.app.Name()
	fail := func(why string) error {
		f.injected++
		return fmt.Errorf("%s %s: %w (%s)", name, op, ErrInjected, why)
	}
	if f.down {
		return fail("app is down")
	}
	for _, key := range []string{op, ""} {
		if n := f.failNext[key]; n > 0 {
			f.failNext[key] = n - 1
			return fail("fail-next")
		}
	}
	// draw on every call, so the sequence of outcomes depends only on the seed and the calls
	if p := f.rng.Float64(); p < f.failProb {
		return fail(fmt.Sprintf("failure probability %.2f", f.failProb))
	}
	return nil
}

// App is a simulated microfrontend: a bus app with a small state of its own, a read-only
// view of that state for its panel, and fault switches.
type App struct {
	Name   string
	Title  string
	Role   string
	Conn   *bus.App
	Faults *Faults

	mu    sync.Mutex
	state map[string]string
	order []string // keys in the order first set, so panels do not jump around
	flash []string // recent activity lines, newest last
}

// Remote reports whether the app runs in another process: this bus has a stand-in for
// it, which a bridge publishes through; its handlers are not wired here and its state
// here stays empty.
func (a *App) Remote() bool { return a.Conn.Remote() }

// Set records a state field.
func (a *App) Set(key, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.state[key]; !ok {
		a.order = append(a.order, key)
	}
	a.state[key] = value
}

// Delete removes a state field.
func (a *App) Delete(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.state[key]; ok {
		delete(a.state, key)
		a.order = slices.DeleteFunc(a.order, func(k string) bool { return k == key })
	}
}

// Get reads a state field.
func (a *App) Get(key string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state[key]
}

// Add adds delta to a numeric state field and returns the new value.
func (a *App) Add(key string, delta int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, _ := strconv.Atoi(a.state[key])
	n += delta
	if _, ok := a.state[key]; !ok {
		a.order = append(a.order, key)
	}
	a.state[key] = strconv.Itoa(n)
	return n
}

// Int reads a numeric state field.
func (a *App) Int(key string) int {
	n, _ := strconv.Atoi(a.Get(key))
	return n
}

// Note appends an activity line (kept to the last 20).
func (a *App) Note(line string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flash = append(a.flash, line)
	if len(a.flash) > 20 {
		a.flash = slices.Delete(a.flash, 0, len(a.flash)-20)
	}
}

// Snapshot is an app's state at one moment, for a panel or the CLI.
type Snapshot struct {
	Name   string     `json:"name"`
	Title  string     `json:"title"`
	Fields []Field    `json:"fields"`
	Notes  []string   `json:"notes,omitempty"`
	Faults FaultState `json:"faults"`
	// Origin says where the app runs when it runs in another process (see App.Remote).
	Origin string `json:"origin,omitempty"`
}

// Snapshot copies the app's state.
func (a *App) Snapshot() Snapshot {
	a.mu.Lock()
	s := Snapshot{Name: a.Name, Title: a.Title, Notes: slices.Clone(a.flash), Origin: a.Conn.Origin()}
	for _, k := range a.order {
		s.Fields = append(s.Fields, Field{Key: k, Value: a.state[k]})
	}
	a.mu.Unlock()
	s.Faults = a.Faults.State()
	return s
}

// The microfrontends' names.
const (
	Host          = "host"
	Catalog       = "catalog"
	Cart          = "cart"
	Inventory     = "inventory"
	Payment       = "payment"
	Shipping      = "shipping"
	Notifications = "notifications"
	Dashboard     = "dashboard"
)

// replyTopics is the subscribe pattern for the RPC replies addressed to app.
func replyTopics(app string) []string {
	return []string{"+.+.reply." + app, "+.+.+.reply." + app}
}

// appSpecs declare each microfrontend: title, what it does, and its ACL.
var appSpecs = []struct {
	name, title, role string
	pub, sub          []string
}{
	{Host, "Host shell", "routes, the cart badge, analytics",
		[]string{"host.#", "aggregate.analytics.response", "command.#", "query.#", "load.host.#"},
		[]string{"#"}},
	{Catalog, "Catalog", "products, prices, the pricing service",
		[]string{"catalog.#", "cart.item-added", "pricing.#", "contract.#", "load.catalog.#"},
		append([]string{"pricing.#", "catalog.#"}, replyTopics(Catalog)...)},
	{Cart, "Cart / Checkout", "cart lines, checkout, orders",
		[]string{"cart.#", "order.#", "saga.#", "breaker.#", "notify.#", "inventory.reserve", "inventory.release", "inventory.stock",
			"payment.charge", "payment.refund", "shipping.create", "shipping.cancel", "pricing.calculate", "pricing.validate",
			"command.#", "query.#", "events.#", "aggregate.orders.response", "load.cart.#"},
		append([]string{"cart.#", "order.#", "inventory.#", "payment.#", "shipping.#", "events.#", "command.#", "aggregate.orders.request"}, replyTopics(Cart)...)},
	{Inventory, "Inventory", "stock per product, reservations",
		[]string{"inventory.#", "aggregate.inventory.response", "load.inventory.#"},
		[]string{"inventory.#", "order.#", "payment.#", "aggregate.inventory.request", "command.#"}},
	{Payment, "Payment", "charges and refunds",
		[]string{"payment.#", "load.payment.#"},
		[]string{"payment.#", "inventory.#", "shipping.#"}},
	{Shipping, "Shipping", "shipments",
		[]string{"shipping.#", "load.shipping.#"},
		[]string{"shipping.#", "payment.#"}},
	{Notifications, "Notifications", "what the user is told",
		[]string{"notify.#", "load.notifications.#"},
		[]string{"notify.#", "order.#", "payment.#", "shipping.#", "inventory.#"}},
	{Dashboard, "Dashboard", "figures gathered from the others",
		[]string{"aggregate.#", "dashboard.#", "query.#", "load.dashboard.#"},
		append([]string{"aggregate.+.response", "dashboard.#", "events.#", "query.#", "cart.item-added", "breaker.#", "saga.#", "load.#"}, replyTopics(Dashboard)...)},
}

// AppSpec declares a microfrontend of a scenario's own world: its name on the bus, what
// its panel says, and its ACL (the topic patterns it may publish and subscribe to).
type AppSpec struct {
	Name, Title, Role  string
	Publish, Subscribe []string
}

// labApps are the lab's eight microfrontends as AppSpecs.
func labApps() []AppSpec {
	out := make([]AppSpec, len(appSpecs))
	for i, s := range appSpecs {
		out[i] = AppSpec{Name: s.name, Title: s.title, Role: s.role, Publish: s.pub, Subscribe: s.sub}
	}
	return out
}

// World is the set of microfrontends on one bus.
type World struct {
	Bus  *bus.Bus
	apps map[string]*App
	list []*App
}

// newWorld registers specs on b, or the lab's eight microfrontends when specs is nil.
// Each app's failure-probability stream is numbered by its place in the list. The apps in
// remote are registered as remote apps (bus.AppConfig.Origin set to origin): stand-ins
// for apps another process serves, which a bridge publishes through.
func newWorld(b *bus.Bus, specs []AppSpec, remote map[string]bool, origin string) (*World, error) {
	if specs == nil {
		specs = labApps()
	}
	w := &World{Bus: b, apps: map[string]*App{}}
	for i, s := range specs {
		cfg := bus.AppConfig{Name: s.Name, Publish: s.Publish, Subscribe: s.Subscribe}
		if remote[s.Name] {
			cfg.Origin = origin
		}
		ba, err := b.Register(cfg)
		if err != nil {
			return nil, err
		}
		a := &App{Name: s.Name, Title: s.Title, Role: s.Role, Conn: ba, state: map[string]string{},
			Faults: &Faults{app: ba, failNext: map[string]int{}, rng: b.Rand(uint64(1000 + i))}}
		w.apps[s.Name] = a
		w.list = append(w.list, a)
	}
	return w, nil
}

// App returns a microfrontend by name (nil if unknown).
func (w *World) App(name string) *App { return w.apps[name] }

// Apps returns the microfrontends in panel order.
func (w *World) Apps() []*App { return slices.Clone(w.list) }

// Snapshots returns every app's state.
func (w *World) Snapshots() []Snapshot {
	out := make([]Snapshot, len(w.list))
	for i, a := range w.list {
		out[i] = a.Snapshot()
	}
	return out
}

// FormatSnapshots renders snapshots as indented text, one app per block.
func FormatSnapshots(snaps []Snapshot) string {
	var sb strings.Builder
	for _, s := range snaps {
		if len(s.Fields) == 0 && !s.Faults.Down && s.Origin == "" {
			continue
		}
		fmt.Fprintf(&sb, "%s\n", s.Title)
		if s.Origin != "" {
			fmt.Fprintf(&sb, "  (runs in another process, through %s)\n", s.Origin)
		}
		for _, f := range s.Fields {
			fmt.Fprintf(&sb, "  %-22s %s\n", f.Key, f.Value)
		}
		if s.Faults.Down {
			sb.WriteString("  (down)\n")
		}
	}
	return sb.String()
}
