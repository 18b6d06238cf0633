package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mfelab/bus"
	"mfelab/bus/rpc"
)

// Line is a cart line.
type Line struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// OrderRequest is what checkout sends to the services.
type OrderRequest struct {
	Order  string  `json:"order"`
	Lines  []Line  `json:"lines,omitempty"`
	Amount float64 `json:"amount,omitempty"`
}

// prices and initial stock of the catalogue, in cents to keep sums exact.
var (
	priceCents   = map[string]int{"keyboard": 4990, "mouse": 1990, "monitor": 19900}
	initialStock = map[string]int{"keyboard": 5, "mouse": 10, "monitor": 2}
	skus         = []string{"keyboard", "mouse", "monitor"}
)

func money(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

func total(lines []Line) (int, error) {
	sum := 0
	for _, l := range lines {
		p, ok := priceCents[l.SKU]
		if !ok {
			return 0, fmt.Errorf("unknown product %q", l.SKU)
		}
		sum += p * l.Qty
	}
	return sum, nil
}

func formatLines(lines []Line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprintf("%dx %s", l.Qty, l.SKU)
	}
	return strings.Join(parts, ", ")
}

// shop wires the services the checkout scenarios share: stock, payments, shipments,
// notifications, pricing. Each handler consults its app's fault switches first. A service
// whose app runs in another process (App.Remote) is left to that process.
type shop struct {
	w        *World
	reserved map[string][]Line // order -> lines held for it
}

func newShop(w *World) (*shop, error) {
	s := &shop{w: w, reserved: map[string][]Line{}}
	if inv := w.App(Inventory); !inv.Remote() {
		for _, sku := range skus {
			inv.Set("stock "+sku, strconv.Itoa(initialStock[sku]))
		}
	}
	if cat := w.App(Catalog); !cat.Remote() {
		for _, sku := range skus {
			cat.Set("price "+sku, money(priceCents[sku]))
		}
	}
	for _, err := range []error{s.inventory(), s.payment(), s.shipping(), s.notifications(), s.pricing()} {
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// handle registers an RPC method on app whose handler first passes the fault switches.
func handle(srv *rpc.Server, a *App, method string, fn func(req OrderRequest, d bus.Delivery) (any, error)) error {
	return srv.Handle(method, func(_ context.Context, r rpc.Request) (any, error) {
		if err := a.Faults.Check(method); err != nil {
			a.Note("failed " + method)
			return nil, err
		}
		var req OrderRequest
		if err := r.Decode(&req); err != nil {
			return nil, err
		}
		return fn(req, r.Delivery)
	})
}

func (s *shop) inventory() error {
	a := s.w.App(Inventory)
	if a.Remote() {
		return nil
	}
	srv := rpc.NewServer(a.Conn)
	err := handle(srv, a, "inventory.reserve", func(req OrderRequest, _ bus.Delivery) (any, error) {
		return s.reserve(req)
	})
	if err != nil {
		return err
	}
	err = handle(srv, a, "inventory.release", func(req OrderRequest, _ bus.Delivery) (any, error) {
		return s.release(req.Order), nil
	})
	if err != nil {
		return err
	}
	return handle(srv, a, "inventory.stock", func(req OrderRequest, _ bus.Delivery) (any, error) {
		out := map[string]int{}
		for _, sku := range skus {
			out[sku] = a.Int("stock " + sku)
		}
		return out, nil
	})
}

// reserve takes an order's lines out of stock, all or nothing.
func (s *shop) reserve(req OrderRequest) (any, error) {
	a := s.w.App(Inventory)
	for _, l := range req.Lines {
		if have := a.Int("stock " + l.SKU); have < l.Qty {
			return nil, rpc.NewError("out-of-stock", "%s: %d left, %d wanted", l.SKU, have, l.Qty)
		}
	}
	for _, l := range req.Lines {
		a.Add("stock "+l.SKU, -l.Qty)
	}
	s.reserved[req.Order] = req.Lines
	a.Set("reserved "+req.Order, formatLines(req.Lines))
	a.Note("reserved " + formatLines(req.Lines) + " for " + req.Order)
	return map[string]any{"order": req.Order, "reserved": req.Lines}, nil
}

// release gives an order's reserved stock back; releasing twice does nothing.
func (s *shop) release(order string) map[string]any {
	a := s.w.App(Inventory)
	lines, ok := s.reserved[order]
	if !ok {
		return map[string]any{"order": order, "released": false}
	}
	delete(s.reserved, order)
	for _, l := range lines {
		a.Add("stock "+l.SKU, l.Qty)
	}
	a.Delete("reserved " + order)
	a.Note("released " + formatLines(lines) + " of " + order)
	return map[string]any{"order": order, "released": true}
}

func (s *shop) payment() error {
	a := s.w.App(Payment)
	if a.Remote() {
		return nil
	}
	srv := rpc.NewServer(a.Conn)
	err := handle(srv, a, "payment.charge", func(req OrderRequest, _ bus.Delivery) (any, error) {
		return s.charge(req), nil
	})
	if err != nil {
		return err
	}
	return handle(srv, a, "payment.refund", func(req OrderRequest, _ bus.Delivery) (any, error) {
		return s.refund(req), nil
	})
}

func (s *shop) charge(req OrderRequest) any {
	a := s.w.App(Payment)
	a.Set("payment "+req.Order, "captured "+money(int(req.Amount*100+0.5)))
	a.Note("charged " + req.Order)
	return map[string]any{"order": req.Order, "status": "captured"}
}

func (s *shop) refund(req OrderRequest) any {
	a := s.w.App(Payment)
	a.Set("payment "+req.Order, "refunded")
	a.Note("refunded " + req.Order)
	return map[string]any{"order": req.Order, "status": "refunded"}
}

func (s *shop) shipping() error {
	a := s.w.App(Shipping)
	if a.Remote() {
		return nil
	}
	srv := rpc.NewServer(a.Conn)
	err := handle(srv, a, "shipping.create", func(req OrderRequest, _ bus.Delivery) (any, error) {
		return s.ship(req), nil
	})
	if err != nil {
		return err
	}
	return handle(srv, a, "shipping.cancel", func(req OrderRequest, _ bus.Delivery) (any, error) {
		a.Set("shipment "+req.Order, "cancelled")
		return map[string]any{"order": req.Order, "shipment": "cancelled"}, nil
	})
}

func (s *shop) ship(req OrderRequest) any {
	a := s.w.App(Shipping)
	a.Set("shipment "+req.Order, "scheduled")
	a.Note("scheduled shipment of " + req.Order)
	return map[string]any{"order": req.Order, "shipment": "scheduled"}
}

// notifications shows every notify.* message.
func (s *shop) notifications() error {
	a := s.w.App(Notifications)
	if a.Remote() {
		return nil
	}
	_, err := a.Conn.Subscribe("notify.#", func(_ context.Context, d bus.Delivery) error {
		if err := a.Faults.Check("notify"); err != nil {
			return err
		}
		var n struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(d.Payload, &n)
		a.Add("shown", 1)
		a.Set("last", n.Message)
		a.Note(n.Message)
		return nil
	})
	return err
}

// pricing is served by the catalog: totals and order validation.
func (s *shop) pricing() error {
	a := s.w.App(Catalog)
	if a.Remote() {
		return nil
	}
	srv := rpc.NewServer(a.Conn)
	err := handle(srv, a, "pricing.calculate", func(req OrderRequest, _ bus.Delivery) (any, error) {
		cents, err := total(req.Lines)
		if err != nil {
			return nil, rpc.NewError("unknown-product", "%v", err)
		}
		a.Add("quotes", 1)
		return map[string]any{"total": money(cents), "lines": len(req.Lines)}, nil
	})
	if err != nil {
		return err
	}
	return handle(srv, a, "pricing.validate", func(req OrderRequest, _ bus.Delivery) (any, error) {
		var problems []string
		for _, l := range req.Lines {
			if _, ok := priceCents[l.SKU]; !ok {
				problems = append(problems, "unknown product "+l.SKU)
			}
			if l.Qty < 1 || l.Qty > 10 {
				problems = append(problems, fmt.Sprintf("%s: quantity %d outside 1..10", l.SKU, l.Qty))
			}
		}
		if len(problems) > 0 {
			slices.Sort(problems)
			return nil, rpc.NewError("invalid-order", "%s", strings.Join(problems, "; "))
		}
		return map[string]any{"valid": true}, nil
	})
}

// addToCart publishes the cart events for lines and records them in the cart's state.
func addToCart(w *World, order string, lines []Line) {
	cart := w.App(Cart)
	for _, l := range lines {
		_, _ = cart.Conn.Publish("cart.item-added", map[string]any{"order": order, "sku": l.SKU, "qty": l.Qty})
		cart.Add("line "+l.SKU, l.Qty)
	}
	cents, _ := total(lines)
	cart.Set("total", money(cents))
	w.App(Host).Set("cart badge", strconv.Itoa(len(lines)))
}
