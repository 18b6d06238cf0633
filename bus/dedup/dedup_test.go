package dedup

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/bustest"
)

func TestDuplicatesAreAbsorbed(t *testing.T) {
	tests := []struct {
		name    string
		window  time.Duration
		publish []string // message ids; "" publishes without one
		gap     time.Duration
		want    []string
		dups    uint64
	}{
		{"a repeated message id runs once", time.Minute, []string{"m1", "m2", "m1", "m1"}, 0, []string{"m1", "m2"}, 2},
		{"messages without an id are all distinct", time.Minute, []string{"", "", ""}, 0, []string{"", "", ""}, 0},
		{"a key is forgotten after the window", time.Second, []string{"m1", "m1", "m1"}, 600 * time.Millisecond, []string{"m1", "m1"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.New(bus.Options{Seed: 1})
			pay := b.MustRegister(bus.AppConfig{Name: "payment"})
			notif := b.MustRegister(bus.AppConfig{Name: "notifications"})
			f := New(b, Options{Window: tt.window})
			var got []string
			_, _ = notif.Subscribe("payment.processed", func(_ context.Context, d bus.Delivery) error {
				got = append(got, d.Meta.Headers[HeaderMessageID])
				return nil
			}, bus.WithMiddleware(f.Middleware()))
			for _, id := range tt.publish {
				m := bus.Msg{Topic: "payment.processed"}
				if id != "" {
					m.Headers = map[string]string{HeaderMessageID: id}
				}
				if _, err := pay.Send(m); err != nil {
					t.Fatal(err)
				}
				b.RunUntilIdle()
				b.RunFor(tt.gap)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("handled %q, want %q", got, tt.want)
			}
			if s := f.Stats(); s.Duplicates != tt.dups {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestAFailedDeliveryIsNotRemembered(t *testing.T) {
	b := bus.New(bus.Options{})
	pub := b.MustRegister(bus.AppConfig{Name: "p"})
	sub := b.MustRegister(bus.AppConfig{Name: "s"})
	f := New(b, Options{})
	n := 0
	_, _ = sub.Subscribe("x", func(_ context.Context, d bus.Delivery) error {
		n++
		if d.Attempt == 1 {
			return bus.RetryAfter(fmt.Errorf("busy"), time.Millisecond)
		}
		return nil
	}, bus.WithMiddleware(f.Middleware()))
	_, _ = pub.Publish("x", nil)
	b.RunUntilIdle()
	if n != 2 || f.Stats().Duplicates != 0 || f.Stats().Passed != 1 {
		t.Fatalf("ran %d times, stats %+v", n, f.Stats())
	}
}

func TestMaxKeysBoundsMemory(t *testing.T) {
	b := bus.New(bus.Options{})
	pub := b.MustRegister(bus.AppConfig{Name: "p"})
	sub := b.MustRegister(bus.AppConfig{Name: "s"})
	f := New(b, Options{MaxKeys: 10})
	_, _ = sub.Subscribe("x", func(context.Context, bus.Delivery) error { return nil }, bus.WithMiddleware(f.Middleware()))
	for range 100 {
		_, _ = pub.Publish("x", nil)
	}
	b.RunUntilIdle()
	if s := f.Stats(); s.Remembered != 10 || s.Passed != 100 {
		t.Fatalf("stats %+v", s)
	}
}

func TestDuplicateTraceOnABus(t *testing.T) {
	b := bus.New(bus.Options{})
	pub := b.MustRegister(bus.AppConfig{Name: "payment"})
	sub := b.MustRegister(bus.AppConfig{Name: "notifications"})
	var absorbed []uint64
	f := New(b, Options{OnDuplicate: func(d bus.Delivery) { absorbed = append(absorbed, d.Seq) }})
	_, _ = sub.Subscribe("payment.processed", func(_ context.Context, d bus.Delivery) error {
		_, err := d.Publish("notification.shown", nil)
		return err
	}, bus.WithMiddleware(f.Middleware()))
	rec := bustest.Record(b)
	for range 2 {
		_, _ = pub.Send(bus.Msg{Topic: "payment.processed", Headers: map[string]string{HeaderMessageID: "pay-1"}})
	}
	b.RunUntilIdle()
	want := []string{
		"+0 published payment payment.processed",
		"+0 published payment payment.processed",
		"+0 delivered notifications payment.processed",
		"+0 published notifications notification.shown",
		"+0 delivered notifications payment.processed",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
	if fmt.Sprint(absorbed) != "[2]" {
		t.Fatalf("absorbed %v", absorbed)
	}
}
