package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mfelab/bus"
	"mfelab/bus/contract"
)

const (
	itemAddedV1 = `{"type":"object","required":["itemId","productId","quantity","price"],"properties":{
		"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"}}}`
	itemAddedV2Additive = `{"type":"object","required":["itemId","productId","quantity","price"],"properties":{
		"itemId":{"type":"string"},"productId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"number"},
		"discount":{"type":"number"}}}`
	itemAddedV2Breaking = `{"type":"object","required":["itemId","quantity","price"],"properties":{
		"itemId":{"type":"string"},"quantity":{"type":"integer","minimum":1},"price":{"type":"string"}}}`
)

var _ = register(&Scenario{
	ID:    "versioned-contracts",
	Title: "Versioned event contracts",
	Watch: "Catalog publishes cart.item-added; Checkout (in Cart) still speaks version 1 while the Dashboard already " +
		"reads version 2. An additive v2 (a new optional discount) is accepted: Catalog publishes both versions during " +
		"the transition, each consumer receives the one it understands, and v1 messages reach the Dashboard upcast. " +
		"A breaking v2 (productId removed, price turned into a string) is refused at registration with the reasons; " +
		"if Catalog ships it anyway, strict validation rejects the messages at publish, and in warn mode they go " +
		"through with a warning and end as dead letters at the old consumer.",
	Knobs: []Knob{
		{Name: "change", Label: "Version 2 change", Kind: Choice, Default: "additive", Choices: []string{"additive", "breaking"}},
		{Name: "mode", Label: "Validation mode", Kind: Choice, Default: "strict", Choices: []string{"warn", "strict"}},
	},
	Horizon: 3 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		cat, cart, dash := w.App(Catalog), w.App(Cart), w.App(Dashboard)
		c := r.Bus.Contracts()
		mode, _ := bus.ParseContractMode(r.Knobs.Str("mode"))
		c.SetMode(mode)
		if _, err := contract.Evolve(c, "cart.item-added@1", []byte(itemAddedV1)); err != nil {
			return err
		}
		_ = c.RegisterUpcaster("cart.item-added", 1, func(p json.RawMessage) (json.RawMessage, error) {
			var m map[string]any
			if err := json.Unmarshal(p, &m); err != nil {
				return nil, err
			}
			if _, ok := m["discount"]; !ok {
				m["discount"] = 0
			}
			return json.Marshal(m)
		})
		type item struct {
			ItemID    string  `json:"itemId"`
			ProductID string  `json:"productId"`
			Quantity  int     `json:"quantity"`
			Price     float64 `json:"price"`
			Discount  float64 `json:"discount"`
		}
		consume := func(a *App, version string) bus.Handler {
			return func(_ context.Context, d bus.Delivery) error {
				var it item
				if err := json.Unmarshal(d.Payload, &it); err != nil {
					return fmt.Errorf("cannot read %s: %w", d.SchemaVersion, err)
				}
				if it.ProductID == "" {
					return errors.New("item without productId: cannot look the product up")
				}
				n := a.Add("items "+version, 1)
				a.Set("last item", fmt.Sprintf("%s x%d at %.2f (discount %.2f, %s)", it.ProductID, it.Quantity, it.Price, it.Discount, d.SchemaVersion))
				_ = n
				return nil
			}
		}
		if _, err := cart.Conn.Subscribe("cart.item-added", consume(cart, "v1"), bus.Accept("cart.item-added@1")); err != nil {
			return err
		}
		if _, err := dash.Conn.Subscribe("cart.item-added", consume(dash, "v2"), bus.Accept("cart.item-added@2")); err != nil {
			return err
		}
		var rejected []string
		publish := func(payload any, sv string) {
			if _, err := cat.Conn.Send(bus.Msg{Topic: "cart.item-added", Payload: payload, SchemaVersion: sv}); err != nil {
				rejected = append(rejected, err.Error())
				cat.Set("last publish", "rejected: "+err.Error())
			}
		}
		first := map[string]any{"itemId": "i1", "productId": "keyboard", "quantity": 1, "price": 49.90}
		r.At(0, "Catalog publishes a v1 item", func() { publish(first, "cart.item-added@1") })

		breaking := r.Knobs.Str("change") == "breaking"
		var evolveErr error
		r.At(500*time.Millisecond, "Catalog registers version 2", func() {
			schema := itemAddedV2Additive
			if breaking {
				schema = itemAddedV2Breaking
			}
			rep, err := contract.Evolve(c, "cart.item-added@2", []byte(schema))
			evolveErr = err
			if err != nil {
				cat.Set("contract v2", "refused: "+err.Error())
			} else {
				cat.Set("contract v2", fmt.Sprintf("registered (%d additive change)", len(rep.Changes)))
			}
		})
		r.At(time.Second, "Catalog ships version 2", func() {
			if !breaking {
				v1 := map[string]any{"itemId": "i2", "productId": "mouse", "quantity": 2, "price": 19.90}
				v2 := map[string]any{"itemId": "i2", "productId": "mouse", "quantity": 2, "price": 19.90, "discount": 2.0}
				if _, err := contract.PublishVersions(cat.Conn, "cart.item-added", "cart.item-added", map[int]any{1: v1, 2: v2}, 1, 2); err != nil {
					rejected = append(rejected, err.Error())
				}
				return
			}
			// the breaking payload, labelled as the old version and then as the new one
			bad := map[string]any{"itemId": "i2", "quantity": 2, "price": "19.90"}
			publish(bad, "cart.item-added@1")
			publish(bad, "cart.item-added@2")
		})

		if !breaking {
			r.Expect("version 2 is registered as an additive change", func() (bool, string) { return evolveErr == nil, fmt.Sprint(evolveErr) })
			r.Expect("Checkout received two v1 items", func() (bool, string) { return expectEq(cart.Int("items v1"), 2) })
			r.Expect("the Dashboard received two v2 items, one upcast", func() (bool, string) { return expectEq(dash.Int("items v2"), 2) })
			r.Expect("no rejections and no dead letters", func() (bool, string) {
				return expectEq(fmt.Sprintf("%d %d", len(rejected), r.DLQ.Stats().Received), "0 0")
			})
			return nil
		}
		r.Expect("version 2 is refused with its breaking changes", func() (bool, string) {
			if !errors.Is(evolveErr, contract.ErrBreaking) {
				return false, fmt.Sprint(evolveErr)
			}
			return true, evolveErr.Error()
		})
		r.Expect("Checkout still has only the first item", func() (bool, string) { return expectEq(cart.Int("items v1"), 1) })
		if r.Knobs.Str("mode") == "strict" {
			r.Expect("strict validation rejects both breaking publishes", func() (bool, string) { return expectEq(len(rejected), 2) })
		} else {
			r.Expect("in warn mode the breaking messages go through and end as dead letters", func() (bool, string) {
				return expectEq(fmt.Sprintf("rejected=%d dead=%d", len(rejected), r.DLQ.Stats().Received), "rejected=0 dead=4")
			})
		}
		return nil
	},
})
