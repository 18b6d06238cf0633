package bus

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const itemAddedV1 = `{"type":"object","required":["sku","qty"],"additionalProperties":false,
  "properties":{"sku":{"type":"string","minLength":1},"qty":{"type":"integer","minimum":1}}}`

const itemAddedV2 = `{"type":"object","required":["sku","qty","price"],
  "properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1},"price":{"type":"number","minimum":0}}}`

const itemAddedV3 = `{"type":"object","required":["sku","quantity","price"],
  "properties":{"sku":{"type":"string"},"quantity":{"type":"integer"},"price":{"type":"number"}}}`

func contractBus(t *testing.T, mode ContractMode) (*Bus, *App, *App) {
	t.Helper()
	b := New(Options{Contracts: mode})
	c := b.Contracts()
	for sv, doc := range map[string]string{"cart.item-added@1": itemAddedV1, "cart.item-added@2": itemAddedV2, "cart.item-added@3": itemAddedV3} {
		if err := c.Register(sv, []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	// v1 -> v2 adds a price; v2 -> v3 renames qty to quantity.
	c.RegisterUpcaster("cart.item-added", 1, func(p json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			return nil, err
		}
		m["price"] = 0
		return json.Marshal(m)
	})
	c.RegisterUpcaster("cart.item-added", 2, func(p json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			return nil, err
		}
		m["quantity"] = m["qty"]
		delete(m, "qty")
		return json.Marshal(m)
	})
	return b, b.MustRegister(AppConfig{Name: "catalog"}), b.MustRegister(AppConfig{Name: "checkout"})
}

func TestStrictContractsRejectBadPayloads(t *testing.T) {
	b, catalog, _ := contractBus(t, ContractStrict)
	tests := []struct {
		name    string
		sv      string
		payload string
		problem string // empty: accepted
	}{
		{"a valid v1 payload is published", "cart.item-added@1", `{"sku":"A","qty":2}`, ""},
		{"a missing required field is rejected", "cart.item-added@1", `{"sku":"A"}`, `/: required property "qty" is missing`},
		{"a retyped field is rejected", "cart.item-added@1", `{"sku":"A","qty":"2"}`, "/qty: want integer, got string"},
		{"an extra field breaks a closed schema", "cart.item-added@1", `{"sku":"A","qty":2,"x":1}`, `property "x" is not allowed`},
		{"a value under the minimum is rejected", "cart.item-added@1", `{"sku":"A","qty":0}`, "/qty: 0 is less than minimum 1"},
		{"an unknown version is rejected", "cart.item-added@9", `{}`, "no schema is registered"},
		{"a malformed version is rejected", "cart.item-added", `{}`, "want name@N"},
		{"version zero is rejected", "cart.item-added@0", `{}`, "whole number from 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := catalog.Send(Msg{Topic: "cart.item.added", Payload: json.RawMessage(tt.payload), SchemaVersion: tt.sv})
			if tt.problem == "" {
				if err != nil || env == nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrContract) || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("got %v, want a contract error containing %q", err, tt.problem)
			}
		})
	}
	_ = b
}

func TestWarnModePublishesAndTraces(t *testing.T) {
	b, catalog, _ := contractBus(t, ContractWarn)
	rec := record(b)
	env, err := catalog.Send(Msg{Topic: "cart.item.added", Payload: json.RawMessage(`{"sku":""}`), SchemaVersion: "cart.item-added@1"})
	if err != nil || env == nil {
		t.Fatalf("warn mode must publish: %v", err)
	}
	warnings := rec.kinds(TraceContractWarning)
	if len(warnings) != 1 || !strings.Contains(warnings[0].Reason, "minLength") || !strings.Contains(warnings[0].Reason, `"qty" is missing`) {
		t.Fatalf("warnings = %+v", warnings)
	}
	b.Contracts().SetMode(ContractOff)
	catalog.Send(Msg{Topic: "cart.item.added", Payload: json.RawMessage(`{}`), SchemaVersion: "cart.item-added@1"})
	if len(rec.kinds(TraceContractWarning)) != 1 {
		t.Fatal("mode off still warned")
	}
}

func TestUpcastingOnDeliveryForOldAndNewConsumers(t *testing.T) {
	b, catalog, checkout := contractBus(t, ContractStrict)
	got := map[string]string{}
	for _, accept := range []string{"", "cart.item-added@1", "cart.item-added@2", "cart.item-added@3"} {
		var opts []SubOption
		if accept != "" {
			opts = append(opts, Accept(accept))
		}
		mustSub(t, checkout, "cart.item.added", func(_ context.Context, d Delivery) error {
			got[accept+" <- "+d.UpcastFrom] = d.SchemaVersion + " " + string(d.Payload)
			return nil
		}, opts...)
	}
	catalog.Send(Msg{Topic: "cart.item.added", Payload: json.RawMessage(`{"sku":"A","qty":2}`), SchemaVersion: "cart.item-added@1"})
	b.RunUntilIdle()
	want := map[string]string{
		" <- ":                                   `cart.item-added@1 {"sku":"A","qty":2}`,
		"cart.item-added@1 <- ":                  `cart.item-added@1 {"sku":"A","qty":2}`,
		"cart.item-added@2 <- cart.item-added@1": `cart.item-added@2 {"price":0,"qty":2,"sku":"A"}`,
		"cart.item-added@3 <- cart.item-added@1": `cart.item-added@3 {"price":0,"quantity":2,"sku":"A"}`,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("consumer %q got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("deliveries: %v", got)
	}
}

func TestANewerVersionThanTheConsumerKnowsIsADeadLetter(t *testing.T) {
	b, catalog, checkout := contractBus(t, ContractStrict)
	ran := false
	mustSub(t, checkout, "cart.item.added", func(context.Context, Delivery) error { ran = true; return nil },
		Accept("cart.item-added@1"))
	catalog.Send(Msg{Topic: "cart.item.added", Payload: json.RawMessage(`{"sku":"A","qty":2,"price":1}`), SchemaVersion: "cart.item-added@2"})
	b.RunUntilIdle()
	dls := b.DeadLetters()
	if ran || len(dls) != 1 || !strings.Contains(dls[0].Reason, "downcasting is not supported") {
		t.Fatalf("ran=%v dead letters=%+v", ran, dls)
	}
	if !errors.Is(dls[0].Err, ErrContract) {
		t.Fatalf("dead letter error %v is not a contract error", dls[0].Err)
	}
}

func TestAFailingUpcasterIsADeadLetterNotACrash(t *testing.T) {
	b, catalog, checkout := contractBus(t, ContractOff)
	b.Contracts().RegisterUpcaster("cart.item-added", 1, func(json.RawMessage) (json.RawMessage, error) { panic("bad upcaster") })
	mustSub(t, checkout, "cart.item.added", func(context.Context, Delivery) error { return nil }, Accept("cart.item-added@2"))
	catalog.Send(Msg{Topic: "cart.item.added", Payload: json.RawMessage(`{}`), SchemaVersion: "cart.item-added@1"})
	b.RunUntilIdle()
	if dls := b.DeadLetters(); len(dls) != 1 || !strings.Contains(dls[0].Reason, "upcaster panicked: bad upcaster") {
		t.Fatalf("dead letters = %+v", dls)
	}
}

func TestSchemaKeywords(t *testing.T) {
	tests := []struct {
		name, schema, doc string
		problems          []string
	}{
		{"enum accepts a listed value", `{"enum":["a",1]}`, `1`, nil},
		{"enum rejects others", `{"enum":["a",1]}`, `"b"`, []string{`/: "b" is not one of ["a",1]`}},
		{"type lists allow either", `{"type":["string","null"]}`, `null`, nil},
		{"integer rejects fractions", `{"type":"integer"}`, `1.5`, []string{"/: want integer, got number"}},
		{"integer accepts 2.0", `{"type":"integer"}`, `2.0`, nil},
		{"maximum", `{"maximum":3}`, `4`, []string{"/: 4 is greater than maximum 3"}},
		{"maxLength counts characters", `{"maxLength":2}`, `"éé"`, nil},
		{"pattern", `{"pattern":"^SKU-[0-9]+$"}`, `"SKU-x"`, []string{`/: "SKU-x" does not match pattern "^SKU-[0-9]+$"`}},
		{"items check every element with its index",
			`{"type":"array","items":{"type":"object","required":["id"]}}`, `[{"id":1},{}]`,
			[]string{`/1: required property "id" is missing`}},
		{"additionalProperties as a schema",
			`{"additionalProperties":{"type":"number"}}`, `{"a":1,"b":"x"}`, []string{"/b: want number, got string"}},
		{"pointers escape slashes", `{"properties":{"a/b":{"type":"string"}}}`, `{"a/b":1}`, []string{"/a~1b: want string, got integer"}},
		{"a non-JSON payload", `{}`, `{`, []string{"payload is not JSON: unexpected EOF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := CompileSchema([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			got := s.Validate([]byte(tt.doc))
			if strings.Join(got, "|") != strings.Join(tt.problems, "|") {
				t.Fatalf("problems %q, want %q", got, tt.problems)
			}
		})
	}
}

func TestCompileSchemaRejectsWhatItCannotCheck(t *testing.T) {
	for schema, want := range map[string]string{
		`{"oneOf":[]}`:           "schema at /oneOf: 0 items are fewer than minItems 1",
		`{"type":"float"}`:       `"float" is not one of`,
		`{"pattern":"("}`:        `schema at /pattern: "(" is not a valid regex`,
		`{"minLength":-1}`:       "schema at /minLength: -1 is less than minimum 0",
		`[]`:                     "schema at /: want boolean or object, got array",
		`{"properties":{"a":1}}`: "at /properties/a",
		`nope`:                   "schema is not JSON",
	} {
		_, err := CompileSchema([]byte(schema))
		checkErr(t, err, want)
	}
}

func FuzzSchemaValidate(f *testing.F) {
	f.Add([]byte(itemAddedV2), []byte(`{"sku":"A","qty":2,"price":1}`))
	f.Add([]byte(`{"items":{"enum":[1,"a",null]}}`), []byte(`[1,"a",null,{}]`))
	f.Fuzz(func(t *testing.T, schema, doc []byte) {
		s, err := CompileSchema(schema)
		if err != nil {
			return
		}
		s.Validate(doc) // must not panic, whatever the input
	})
}

func TestRealtimeDriverPacesByWallClock(t *testing.T) {
	b := New(Options{})
	a := b.MustRegister(AppConfig{Name: "a"})
	done := make(chan time.Duration, 1)
	mustSub(t, a, "t", func(context.Context, Delivery) error {
		done <- b.Elapsed()
		return nil
	})
	b.After(200*time.Millisecond, func() { a.Publish("t", nil) })
	r := b.StartRealtime(MaxSpeed) // 200ms of bus time in about 20ms of wall time
	defer r.Stop()
	select {
	case at := <-done:
		if at != 200*time.Millisecond {
			t.Fatalf("delivered at bus time %v, want 200ms", at)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the driver never ran the timer")
	}
	// Outside publishes while the driver runs are delivered too.
	r.SetSpeed(Instant)
	if r.Speed() != Instant {
		t.Fatalf("speed %v", r.Speed())
	}
	a.Publish("t", nil)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("an outside publish was not delivered by the driver")
	}
}

func TestClampSpeed(t *testing.T) {
	for in, want := range map[float64]float64{0: MinSpeed, 0.1: MinSpeed, 1: 1, 50: MaxSpeed, Instant: Instant} {
		if got := clampSpeed(in); got != want {
			t.Errorf("clampSpeed(%v) = %v, want %v", in, got, want)
		}
	}
}
