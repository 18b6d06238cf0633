package breaker

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/bustest"
)

// fakeClock is a hand-moved clock for the state-machine tests.
type fakeClock struct{ t atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.t.Add(int64(d)) }

var errBoom = errors.New("boom")

// script drives a breaker: "ok", "fail", "wait <dur>", "force-open", "force-closed",
// "release"; after each step the state is checked.
type step struct {
	do    string
	state State
	err   error // the error Allow returns on this step, for ok/fail
}

func run(t *testing.T, cfg Config, steps []step) *Breaker {
	t.Helper()
	clk := &fakeClock{}
	cfg.Clock = clk
	br, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		var got error
		switch {
		case s.do == "ok" || s.do == "fail":
			got = br.Execute(func() error {
				if s.do == "fail" {
					return errBoom
				}
				return nil
			})
			if s.do == "fail" && errors.Is(got, errBoom) {
				got = nil
			}
		case strings.HasPrefix(s.do, "wait "):
			d, _ := time.ParseDuration(strings.TrimPrefix(s.do, "wait "))
			clk.Advance(d)
		case s.do == "force-open":
			br.ForceOpen()
		case s.do == "force-closed":
			br.ForceClosed()
		case s.do == "release":
			br.Release()
		default:
			t.Fatalf("bad step %q", s.do)
		}
		if !errors.Is(got, s.err) || (s.err == nil && got != nil) {
			t.Fatalf("step %d (%s): err %v, want %v", i, s.do, got, s.err)
		}
		if st := br.State(); st != s.state {
			t.Fatalf("step %d (%s): state %v, want %v", i, s.do, st, s.state)
		}
	}
	return br
}

func TestStateMachine(t *testing.T) {
	consecutive := Config{ConsecutiveFailures: 3, OpenTimeout: time.Second}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"three failures in a row open the circuit", consecutive, []step{
			{"fail", Closed, nil}, {"fail", Closed, nil}, {"fail", Open, nil}, {"ok", Open, ErrOpen},
		}},
		{"a success resets the run of failures", consecutive, []step{
			{"fail", Closed, nil}, {"fail", Closed, nil}, {"ok", Closed, nil}, {"fail", Closed, nil}, {"fail", Closed, nil},
		}},
		{"after the open timeout a trial success closes it", consecutive, []step{
			{"fail", Closed, nil}, {"fail", Closed, nil}, {"fail", Open, nil},
			{"wait 999ms", Open, nil}, {"wait 1ms", HalfOpen, nil}, {"ok", Closed, nil}, {"ok", Closed, nil},
		}},
		{"a failed trial opens it again", consecutive, []step{
			{"fail", Closed, nil}, {"fail", Closed, nil}, {"fail", Open, nil},
			{"wait 1s", HalfOpen, nil}, {"fail", Open, nil}, {"ok", Open, ErrOpen},
		}},
		{"the success threshold needs several trials", Config{ConsecutiveFailures: 1, SuccessThreshold: 2, OpenTimeout: time.Second}, []step{
			{"fail", Open, nil}, {"wait 1s", HalfOpen, nil}, {"ok", HalfOpen, nil}, {"ok", Closed, nil},
		}},
		{"the failure rate needs the minimum volume", Config{FailureRate: 0.5, MinimumVolume: 4, Window: time.Second, Buckets: 4}, []step{
			{"fail", Closed, nil}, {"fail", Closed, nil}, {"fail", Closed, nil}, {"ok", Closed, nil}, {"fail", Open, nil},
		}},
		{"the failure rate below the threshold keeps it closed", Config{FailureRate: 0.5, MinimumVolume: 4, Window: time.Second, Buckets: 4}, []step{
			{"ok", Closed, nil}, {"ok", Closed, nil}, {"ok", Closed, nil}, {"fail", Closed, nil}, {"ok", Closed, nil}, {"fail", Closed, nil},
		}},
		{"old failures roll out of the window", Config{FailureRate: 0.5, MinimumVolume: 4, Window: time.Second, Buckets: 4}, []step{
			{"fail", Closed, nil}, {"fail", Closed, nil}, {"fail", Closed, nil}, {"wait 1s", Closed, nil},
			{"ok", Closed, nil}, {"ok", Closed, nil}, {"ok", Closed, nil}, {"fail", Closed, nil},
		}},
		{"force-open refuses calls past the timeout until released", consecutive, []step{
			{"force-open", Open, nil}, {"wait 1h", Open, nil}, {"ok", Open, ErrOpen}, {"release", Closed, nil}, {"ok", Closed, nil},
		}},
		{"force-closed never trips", consecutive, []step{
			{"force-closed", Closed, nil}, {"fail", Closed, nil}, {"fail", Closed, nil}, {"fail", Closed, nil}, {"fail", Closed, nil},
			{"release", Closed, nil}, {"fail", Closed, nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, tt.cfg, tt.steps) })
	}
}

func TestHalfOpenLimitsTrialCalls(t *testing.T) {
	clk := &fakeClock{}
	br, _ := New(Config{Clock: clk, ConsecutiveFailures: 1, HalfOpenMaxCalls: 2, OpenTimeout: time.Second})
	_ = br.Execute(func() error { return errBoom })
	clk.Advance(time.Second)
	t1, err1 := br.Allow()
	t2, err2 := br.Allow()
	_, err3 := br.Allow()
	if err1 != nil || err2 != nil || !errors.Is(err3, ErrOpen) {
		t.Fatalf("allow: %v %v %v", err1, err2, err3)
	}
	var oe *OpenError
	if !errors.As(err3, &oe) || oe.State != HalfOpen {
		t.Fatalf("third trial error %v", err3)
	}
	t1.Done(nil)
	t2.Done(nil)
	if s := br.State(); s != Closed {
		t.Fatalf("state %v", s)
	}
}

func TestStaleResultIsIgnored(t *testing.T) {
	clk := &fakeClock{}
	br, _ := New(Config{Clock: clk, ConsecutiveFailures: 1, OpenTimeout: time.Second})
	slow, _ := br.Allow() // starts while closed
	_ = br.Execute(func() error { return errBoom })
	clk.Advance(time.Second)
	trial, _ := br.Allow() // half-open trial
	slow.Done(nil)         // the slow call's success must not close the circuit
	if s := br.Snapshot(); s.State != HalfOpen || s.Counts.Stale != 1 {
		t.Fatalf("snapshot %+v", s)
	}
	trial.Done(errBoom)
	if s := br.State(); s != Open {
		t.Fatalf("state %v", s)
	}
}

func TestSnapshotForATile(t *testing.T) {
	clk := &fakeClock{}
	br, _ := New(Config{Clock: clk, FailureRate: 0.9, MinimumVolume: 100, OpenTimeout: time.Second})
	for i := range 10 {
		_ = br.Execute(func() error {
			if i%4 == 0 {
				return errBoom
			}
			return nil
		})
	}
	s := br.Snapshot()
	if s.WindowCalls != 10 || s.WindowFailures != 3 || s.FailureRate != 0.3 || s.Counts.Calls != 10 || s.Counts.Failures != 3 {
		t.Fatalf("snapshot %+v", s)
	}
	if cfg := br.Config(); cfg.MinimumVolume != 100 || cfg.Window != 10*time.Second || cfg.Buckets != 10 {
		t.Fatalf("config defaults %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{}, {Clock: &fakeClock{}, FailureRate: 2}, {Clock: &fakeClock{}, OpenTimeout: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// On a bus the breaker half-opens exactly when the timeout ends and publishes each
// transition; the trace shows the whole closed -> open -> half-open -> closed cycle.
func TestTransitionsOnABus(t *testing.T) {
	b := bus.New(bus.Options{Seed: 1})
	events := b.MustRegister(bus.AppConfig{Name: "inventory-proxy"})
	watcher := b.MustRegister(bus.AppConfig{Name: "dashboard"})
	var seen []string
	_, _ = watcher.Subscribe("breaker.#", func(_ context.Context, d bus.Delivery) error {
		seen = append(seen, string(d.Payload))
		return nil
	})
	br, err := New(Config{Name: "inventory", Events: events, ConsecutiveFailures: 2, OpenTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rec := bustest.Record(b, bus.TracePublished)
	fail := func() error { return errBoom }
	_ = br.Execute(fail)
	_ = br.Execute(fail)
	b.RunFor(time.Second)
	if err := br.Execute(fail); !errors.Is(err, ErrOpen) {
		t.Fatalf("call while open: %v", err)
	}
	b.RunUntilIdle() // the half-open timer fires at +2s
	if s := br.State(); s != HalfOpen {
		t.Fatalf("state %v after the timeout", s)
	}
	_ = br.Execute(func() error { return nil })
	b.RunUntilIdle()
	want := []string{
		"+0 published inventory-proxy breaker.inventory.state",
		"+2000 published inventory-proxy breaker.inventory.state",
		"+2000 published inventory-proxy breaker.inventory.state",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
	wantPayloads := []string{
		`{"name":"inventory","from":"closed","to":"open","reason":"2 consecutive failures (threshold 2)","at":"2026-01-01T00:00:00Z"}`,
		`{"name":"inventory","from":"open","to":"half-open","reason":"open timeout elapsed","at":"2026-01-01T00:00:02Z"}`,
		`{"name":"inventory","from":"half-open","to":"closed","reason":"1 trial call(s) succeeded","at":"2026-01-01T00:00:02Z"}`,
	}
	if d := bustest.Diff(seen, wantPayloads); d != "" {
		t.Fatalf("payloads:\n%s", d)
	}
	if c := br.Snapshot().Counts; c.Rejected != 1 || c.Transitions != 3 {
		t.Fatalf("counts %+v", c)
	}
}

func BenchmarkExecuteClosed(b *testing.B) {
	bb := bus.New(bus.Options{})
	br, _ := New(Config{Clock: bb, ConsecutiveFailures: 5, FailureRate: 0.5})
	fn := func() error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Execute(fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecuteOpen(b *testing.B) {
	bb := bus.New(bus.Options{})
	br, _ := New(Config{Clock: bb})
	br.ForceOpen()
	fn := func() error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Execute(fn)
	}
}

func TestATransitionReadsBackAsPublished(t *testing.T) {
	in := Transition{Name: "inventory", From: HalfOpen, To: Open, Reason: "trial failed"}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Transition
	if err := json.Unmarshal(data, &out); err != nil || out.From != HalfOpen || out.To != Open {
		t.Fatalf("%s read back as %+v (%v)", data, out, err)
	}
	if err := json.Unmarshal([]byte(`{"to":"ajar"}`), &out); err == nil {
		t.Fatal("an unknown state was accepted")
	}
}
