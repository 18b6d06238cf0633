package bus

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestImport(t *testing.T) {
	origin := New(Options{Seed: 7})
	src := origin.MustRegister(AppConfig{Name: "cart"})
	first, err := src.Send(Msg{Topic: "cart.checked-out", Payload: json.RawMessage(`{"order":1}`), SchemaVersion: "cart.checked-out@1",
		CorrelationID: "order-1", Headers: map[string]string{"tenant": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	cause := uuid.MustParse("0190c4a2-0000-7000-8000-000000000001")

	tests := []struct {
		name  string
		id    uuid.UUID
		msg   Msg
		check func(t *testing.T, env *Envelope)
	}{
		{"an imported message keeps its id, correlation, causation, trace, schema and headers", first.ID,
			Msg{Topic: first.Topic, Payload: first.Payload, SchemaVersion: first.SchemaVersion, CorrelationID: "order-1",
				CausationID: cause, TraceParent: first.Meta.TraceParent, Headers: map[string]string{"tenant": "a"}},
			func(t *testing.T, env *Envelope) {
				if env.ID != first.ID || env.Meta.CorrelationID != "order-1" || env.Meta.CausationID != cause ||
					env.Meta.TraceParent != first.Meta.TraceParent || env.SchemaVersion != first.SchemaVersion ||
					env.Meta.Headers["tenant"] != "a" || string(env.Payload) != `{"order":1}` || env.Meta.Source != "cart" {
					t.Errorf("imported %+v, want the identity of %+v", env, first)
				}
			}},
		{"an imported message without a trace context starts one from its id", first.ID,
			Msg{Topic: "cart.checked-out"},
			func(t *testing.T, env *Envelope) {
				if env.Meta.TraceParent.TraceID != env.ID || [8]byte(env.ID[8:]) != env.Meta.TraceParent.SpanID {
					t.Errorf("trace %s, want one made from id %s", env.Meta.TraceParent, env.ID)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Options{Seed: 1})
			local := b.MustRegister(AppConfig{Name: "inventory"})
			if _, err := local.Publish("inventory.ready", nil); err != nil {
				t.Fatal(err)
			}
			remote := b.MustRegister(AppConfig{Name: "cart", Origin: "nats://elsewhere"})
			var got *Envelope
			if _, err := local.Subscribe("cart.#", func(_ context.Context, d Delivery) error { got = d.Envelope; return nil }); err != nil {
				t.Fatal(err)
			}
			env, err := remote.Import(tt.id, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			b.RunUntilIdle()
			if got != env {
				t.Fatalf("delivered %v, want the imported envelope %v", got, env)
			}
			if env.Seq != 2 {
				t.Errorf("seq %d, want the local bus's next (2)", env.Seq)
			}
			tt.check(t, env)
		})
	}
}

func TestImportIsCheckedLikeAPublish(t *testing.T) {
	id := uuid.MustParse("0190c4a2-0000-7000-8000-000000000002")
	tests := []struct {
		name string
		id   uuid.UUID
		msg  Msg
		want error
	}{
		{"a message without an id is refused", uuid.UUID{}, Msg{Topic: "cart.added"}, ErrNoID},
		{"a message to a malformed topic is refused", id, Msg{Topic: "cart..added"}, ErrInvalidTopic},
		{"a message outside the remote app's ACL is refused", id, Msg{Topic: "payment.captured"}, ErrACL},
		{"a message whose payload is not JSON is refused", id, Msg{Topic: "cart.added", Payload: json.RawMessage(`{`)}, ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Options{})
			rec := record(b)
			remote := b.MustRegister(AppConfig{Name: "cart", Origin: "nats://elsewhere", Publish: []string{"cart.#"}})
			env, err := remote.Import(tt.id, tt.msg)
			if !errors.Is(err, tt.want) || env != nil {
				t.Fatalf("Import = %v, %v; want %v", env, err, tt.want)
			}
			if n := len(rec.kinds(TraceRejected)); n != 1 {
				t.Errorf("%d rejected events, want 1", n)
			}
			if st := b.Stats(); st.Published != 0 || st.Rejected != 1 {
				t.Errorf("stats %+v, want nothing published and one rejection", st)
			}
		})
	}
}

func TestRemoteApps(t *testing.T) {
	b := New(Options{})
	local := b.MustRegister(AppConfig{Name: "cart"})
	remote := b.MustRegister(AppConfig{Name: "payment", Origin: "nats://127.0.0.1:4222"})
	if local.Remote() || local.Origin() != "" {
		t.Errorf("local app reads as remote (origin %q)", local.Origin())
	}
	if !remote.Remote() || remote.Origin() != "nats://127.0.0.1:4222" {
		t.Errorf("remote app: Remote %v, Origin %q", remote.Remote(), remote.Origin())
	}
}

func TestRecordRejection(t *testing.T) {
	b := New(Options{})
	rec := record(b)
	a := b.MustRegister(AppConfig{Name: "cart"})
	env, err := a.Publish("cart.added", nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("server refused the publish")
	a.RecordRejection(env, env.Topic, refused)
	a.RecordRejection(nil, "cart.removed", nil) // nothing to record
	got := rec.kinds(TraceRejected)
	if len(got) != 1 || got[0].Env != env || got[0].App != "cart" || got[0].Reason != refused.Error() || !errors.Is(got[0].Err, refused) {
		t.Fatalf("rejections %+v, want one for %v", got, env)
	}
	if st := b.Stats(); st.Rejected != 1 || st.Published != 1 {
		t.Errorf("stats %+v, want the message published and one rejection", st)
	}
}

func TestAppConfig(t *testing.T) {
	b := New(Options{})
	cfg := AppConfig{Name: "cart", Publish: []string{"cart.#"}, Subscribe: []string{}, RateLimit: &RateLimit{PerSecond: 5, Burst: 2},
		Latency: 3 * time.Millisecond, Origin: "nats://elsewhere"}
	a := b.MustRegister(cfg)
	got := a.Config()
	tests := []struct {
		name string
		ok   bool
	}{
		{"the declaration comes back as given", got.Name == "cart" && slices.Equal(got.Publish, cfg.Publish) &&
			got.Subscribe != nil && len(got.Subscribe) == 0 && *got.RateLimit == *cfg.RateLimit && got.Latency == cfg.Latency && got.Origin == cfg.Origin},
		{"an ACL of any topic stays nil", b.MustRegister(AppConfig{Name: "free"}).Config().Publish == nil},
	}
	got.Publish[0] = "changed"
	got.RateLimit.Burst = 99
	tests = append(tests, struct {
		name string
		ok   bool
	}{"changing what came back changes nothing on the bus", a.Config().Publish[0] == "cart.#" && a.Config().RateLimit.Burst == 2})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Fail()
			}
		})
	}
}
