package eventsource

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/bustest"
)

type order struct {
	Status string   `json:"status"`
	Lines  []string `json:"lines"`
	Paid   float64  `json:"paid"`
}

func applyOrder(o order, e Event) (order, error) {
	switch e.Type {
	case "order.created":
		o.Status = "created"
	case "order.line-added":
		var l struct{ SKU string }
		if err := e.Decode(&l); err != nil {
			return o, err
		}
		o.Lines = append(o.Lines, l.SKU)
	case "order.paid":
		var p struct{ Amount float64 }
		if err := e.Decode(&p); err != nil {
			return o, err
		}
		o.Paid += p.Amount
		o.Status = "paid"
	case "order.shipped":
		o.Status = "shipped"
	default:
		return o, fmt.Errorf("unknown event type %q", e.Type)
	}
	return o, nil
}

func newRepo(t *testing.T, b *bus.Bus, every int, opts Options) (*Store, *Repository[order]) {
	t.Helper()
	s := NewStore(b, opts)
	r, err := NewRepository(s, RepositoryOptions[order]{Initial: func() order { return order{} }, Apply: applyOrder, SnapshotEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	return s, r
}

// lifecycle appends one event per 10ms of bus time: created, 3 lines, paid, shipped.
func lifecycle(t *testing.T, b *bus.Bus, s *Store) {
	t.Helper()
	evs := []New{{"order.created", nil}, {"order.line-added", map[string]string{"SKU": "A"}},
		{"order.line-added", map[string]string{"SKU": "B"}}, {"order.line-added", map[string]string{"SKU": "C"}},
		{"order.paid", map[string]float64{"Amount": 30}}, {"order.shipped", nil}}
	for i, e := range evs {
		if _, err := s.Append("order-1", i, e); err != nil {
			t.Fatal(err)
		}
		b.RunFor(10 * time.Millisecond)
	}
}

func TestTimeTravel(t *testing.T) {
	for _, every := range []int{0, 2, 4} {
		t.Run(fmt.Sprintf("snapshot every %d", every), func(t *testing.T) {
			b := bus.New(bus.Options{})
			s, r := newRepo(t, b, every, Options{})
			_, _ = s.Append("other", NoStream, New{"order.created", nil}) // seq 1 belongs to another stream
			lifecycle(t, b, s)
			tests := []struct {
				name    string
				load    func() (order, int, error)
				status  string
				lines   int
				version int
			}{
				{"now", func() (order, int, error) { return r.Load("order-1") }, "shipped", 3, 6},
				{"at version 3", func() (order, int, error) { return r.StateAtVersion("order-1", 3) }, "created", 2, 3},
				{"at global position 5", func() (order, int, error) { return r.StateAtSeq("order-1", 5) }, "created", 3, 4},
				{"at time +45ms", func() (order, int, error) { return r.StateAt("order-1", b.Epoch().Add(45*time.Millisecond)) }, "paid", 3, 5},
				{"before it began", func() (order, int, error) { return r.StateAtVersion("order-1", 0) }, "", 0, 0},
				{"now, again (from a snapshot when there is one)", func() (order, int, error) { return r.Load("order-1") }, "shipped", 3, 6},
			}
			for _, tt := range tests {
				o, v, err := tt.load()
				if err != nil || o.Status != tt.status || len(o.Lines) != tt.lines || v != tt.version {
					t.Fatalf("%s: %+v v%d %v", tt.name, o, v, err)
				}
			}
		})
	}
}

func TestSnapshotsShortenReplays(t *testing.T) {
	b := bus.New(bus.Options{})
	s, r := newRepo(t, b, 4, Options{})
	lifecycle(t, b, s)
	if _, _, err := r.Load("order-1"); err != nil { // replays 6, snapshots at 4
		t.Fatal(err)
	}
	before := r.Stats()
	if _, _, err := r.Load("order-1"); err != nil { // replays 2 from the snapshot
		t.Fatal(err)
	}
	after := r.Stats()
	if before.Replayed != 6 || after.Replayed-before.Replayed != 2 || after.FromSnapshot != 1 || after.Snapshots != 1 {
		t.Fatalf("before %+v after %+v", before, after)
	}
}

func TestOptimisticConcurrency(t *testing.T) {
	b := bus.New(bus.Options{})
	s, r := newRepo(t, b, 0, Options{})
	if _, err := s.Append("o", NoStream, New{"order.created", nil}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append("o", NoStream, New{"order.created", nil})
	var ce *ConcurrencyError
	if !errors.As(err, &ce) || ce.Expected != 0 || ce.Actual != 1 || !errors.Is(err, ErrConcurrency) {
		t.Fatalf("second create: %v", err)
	}
	// two writers load version 1; the second to append loses
	_, err = r.Execute("o", func(o order, v int) ([]New, error) {
		if _, err := s.Append("o", v, New{"order.paid", map[string]float64{"Amount": 5}}); err != nil {
			t.Fatal(err)
		}
		return []New{{"order.shipped", nil}}, nil
	})
	if !errors.Is(err, ErrConcurrency) {
		t.Fatalf("racing execute: %v", err)
	}
	if v := s.Version("o"); v != 2 {
		t.Fatalf("version %d, want 2 (the loser wrote nothing)", v)
	}
	if _, err := s.Append("o", AnyVersion, New{"order.shipped", nil}); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownEventStopsTheRebuild(t *testing.T) {
	b := bus.New(bus.Options{})
	s, r := newRepo(t, b, 0, Options{})
	_, _ = s.Append("o", NoStream, New{"order.created", nil}, New{"order.teleported", nil})
	if _, v, err := r.Load("o"); err == nil || v != 1 {
		t.Fatalf("load: v%d %v", v, err)
	}
}

func TestAppendedEventsArePublished(t *testing.T) {
	b := bus.New(bus.Options{})
	app := b.MustRegister(bus.AppConfig{Name: "orders"})
	s, _ := newRepo(t, b, 0, Options{Publish: app})
	rec := bustest.Record(b)
	_, _ = s.Append("order-1", NoStream, New{"order.created", nil}, New{"order.paid", map[string]int{"Amount": 1}})
	want := []string{"+0 published orders events.order.created", "+0 published orders events.order.paid"}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
	if got := s.ReadAll(2, 1); len(got) != 1 || got[0].Type != "order.paid" || got[0].Seq != 2 || got[0].Version != 2 {
		t.Fatalf("ReadAll %+v", got)
	}
}
