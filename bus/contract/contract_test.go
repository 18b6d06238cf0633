package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"mfelab/bus"
	"mfelab/bus/bustest"
)

const v1 = `{"type":"object","required":["itemId","productId","quantity","price"],"properties":{
	"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"}}}`

func TestEvolve(t *testing.T) {
	tests := []struct {
		name    string
		v2      string
		wantErr string // substring; "" means compatible
		changes string // kinds, in order
	}{
		{"an optional field is additive",
			`{"type":"object","required":["itemId","productId","quantity","price"],"properties":{"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"},"discount":{"type":"number"}}}`,
			"", "field-added"},
		{"a removed field breaks consumers",
			`{"type":"object","required":["itemId","quantity","price"],"properties":{"itemId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"}}}`,
			`field "productId" was removed`, "field-removed"},
		{"a retyped field breaks consumers",
			`{"type":"object","required":["itemId","productId","quantity","price"],"properties":{"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"string"}}}`,
			"type number became string", "type-changed"},
		{"a new required field breaks old messages",
			`{"type":"object","required":["itemId","productId","quantity","price","discount"],"properties":{"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"},"discount":{"type":"number"}}}`,
			`new field "discount" is required`, "required-field-added"},
		{"a tightened minimum breaks old messages",
			`{"type":"object","required":["itemId","productId","quantity","price"],"properties":{"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":2},"price":{"type":"number"}}}`,
			"minimum went from 1 to 2", "constraint-changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.New(bus.Options{})
			if _, err := Evolve(b.Contracts(), "cart.item-added@1", []byte(v1)); err != nil {
				t.Fatal(err)
			}
			rep, err := Evolve(b.Contracts(), "cart.item-added@2", []byte(tt.v2))
			var kinds []string
			for _, c := range rep.Changes {
				kinds = append(kinds, c.Kind)
			}
			if strings.Join(kinds, " ") != tt.changes {
				t.Fatalf("changes %v, want %s", rep.Changes, tt.changes)
			}
			if tt.wantErr == "" {
				if err != nil || b.Contracts().Schema("cart.item-added@2") == nil {
					t.Fatalf("compatible v2 refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBreaking) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if b.Contracts().Schema("cart.item-added@2") != nil {
				t.Fatal("a breaking version was registered")
			}
		})
	}
}

func TestCompareNestedAndEnums(t *testing.T) {
	old := `{"type":"object","properties":{"lines":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}},"status":{"enum":["new","paid"]}}}`
	next := `{"type":"object","properties":{"lines":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"}}}},"status":{"enum":["new","paid","shipped"]}}}`
	o, _ := bus.CompileSchema([]byte(old))
	n, _ := bus.CompileSchema([]byte(next))
	var got []string
	for _, c := range Compare(o, n) {
		got = append(got, c.String())
	}
	want := []string{
		`BREAKING became-optional at /lines/items/sku: field "sku" became optional; consumers that rely on it break`,
		`additive enum-widened at /status: now also allows "shipped"; consumers must tolerate values they do not know`,
	}
	if d := bustest.Diff(got, want); d != "" {
		t.Fatalf("changes:\n%s", d)
	}
}

func TestEvolveNeedsThePreviousVersion(t *testing.T) {
	b := bus.New(bus.Options{})
	if _, err := Evolve(b.Contracts(), "cart.item-added@3", []byte(v1)); err == nil {
		t.Fatal("v3 registered without v2")
	}
}

// Old and new consumers side by side on a bus: the v1 consumer gets v1, the v3 consumer
// gets v1 messages upcast through v2 to v3, a producer publishing both versions reaches
// each consumer once in the version it asked for, and a v3-only message sent to the v1
// consumer is a dead letter with the reason.
func TestConsumersOfDifferentVersions(t *testing.T) {
	b := bus.New(bus.Options{Contracts: bus.ContractStrict})
	c := b.Contracts()
	steps := []string{
		v1,
		`{"type":"object","required":["itemId","productId","quantity","price"],"properties":{"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"},"discount":{"type":"number"}}}`,
		`{"type":"object","required":["itemId","productId","quantity","price"],"properties":{"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"},"discount":{"type":"number"},"currency":{"type":"string"}}}`,
	}
	for i, s := range steps {
		if _, err := Evolve(c, bus.SchemaVersion("cart.item-added", i+1), []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	setField := func(k string, v any) bus.Upcaster {
		return func(p json.RawMessage) (json.RawMessage, error) {
			var m map[string]any
			if err := json.Unmarshal(p, &m); err != nil {
				return nil, err
			}
			if _, ok := m[k]; !ok {
				m[k] = v
			}
			return json.Marshal(m)
		}
	}
	_ = c.RegisterUpcaster("cart.item-added", 1, setField("discount", 0))
	_ = c.RegisterUpcaster("cart.item-added", 2, setField("currency", "EUR"))

	catalog := b.MustRegister(bus.AppConfig{Name: "catalog"})
	oldCheckout := b.MustRegister(bus.AppConfig{Name: "checkout-v1"})
	newCheckout := b.MustRegister(bus.AppConfig{Name: "checkout-v3"})
	var got []string
	record := func(_ context.Context, d bus.Delivery) error {
		got = append(got, fmt.Sprintf("%s %s %s", d.Subscriber, d.SchemaVersion, d.Payload))
		return nil
	}
	_, _ = oldCheckout.Subscribe("cart.item-added", record, bus.Accept("cart.item-added@1"))
	_, _ = newCheckout.Subscribe("cart.item-added", record, bus.Accept("cart.item-added@3"))

	item := map[string]any{"itemId": "i1", "productId": "p1", "quantity": 2, "price": 29.99}
	if _, err := catalog.Send(bus.Msg{Topic: "cart.item-added", Payload: item, SchemaVersion: "cart.item-added@1"}); err != nil {
		t.Fatal(err)
	}
	b.RunUntilIdle()
	item2 := map[string]any{"itemId": "i2", "productId": "p2", "quantity": 1, "price": 10, "discount": 5}
	if _, err := PublishVersions(catalog, "cart.item-added", "cart.item-added", map[int]any{1: item, 2: item2}, 1, 2); err != nil {
		t.Fatal(err)
	}
	b.RunUntilIdle()
	item3 := map[string]any{"itemId": "i3", "productId": "p3", "quantity": 1, "price": 10, "currency": "USD"}
	if _, err := catalog.Send(bus.Msg{Topic: "cart.item-added", Payload: item3, SchemaVersion: "cart.item-added@3"}); err != nil {
		t.Fatal(err)
	}
	b.RunUntilIdle()
	want := []string{
		`checkout-v1 cart.item-added@1 {"itemId":"i1","price":29.99,"productId":"p1","quantity":2}`,
		`checkout-v3 cart.item-added@3 {"currency":"EUR","discount":0,"itemId":"i1","price":29.99,"productId":"p1","quantity":2}`,
		`checkout-v1 cart.item-added@1 {"itemId":"i1","price":29.99,"productId":"p1","quantity":2}`,
		`checkout-v3 cart.item-added@3 {"currency":"EUR","discount":5,"itemId":"i2","price":10,"productId":"p2","quantity":1}`,
		`checkout-v3 cart.item-added@3 {"currency":"USD","itemId":"i3","price":10,"productId":"p3","quantity":1}`,
	}
	if d := bustest.Diff(got, want); d != "" {
		t.Fatalf("deliveries:\n%s", d)
	}
	dls := b.DeadLetters()
	if len(dls) != 1 || dls[0].Subscriber != "checkout-v1" || !strings.Contains(dls[0].Reason, "downcasting is not supported") {
		t.Fatalf("dead letters %+v", dls)
	}
	// strict mode refuses a payload that breaks its declared version
	bad := map[string]any{"itemId": "i4", "productId": "p4", "quantity": 0, "price": 1}
	if _, err := catalog.Send(bus.Msg{Topic: "cart.item-added", Payload: bad, SchemaVersion: "cart.item-added@1"}); !errors.Is(err, bus.ErrContract) {
		t.Fatalf("invalid payload: %v", err)
	}
}

func TestASchemaIsCompatibleWithItself(t *testing.T) {
	for _, doc := range []string{v1, `{"type":"array","items":{"enum":[1,2]}}`, `{}`} {
		s, err := bus.CompileSchema([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if ch := Compare(s, s); len(ch) != 0 {
			t.Fatalf("%s against itself: %v", doc, ch)
		}
	}
}
