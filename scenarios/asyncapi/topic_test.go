package asyncapi

import (
	"strings"
	"testing"
)

func TestNamesAsTeamsWriteThemBecomeTheLabsNames(t *testing.T) {
	tests := []struct{ in, kebab, app string }{
		{"ItemAdded", "item-added", "item-added"},
		{"Cart Service", "cart-service", "cart"},
		{"HTTPRequestSent", "http-request-sent", "http-request-sent"},
		{"order_placed v2", "order-placed-v2", "order-placed-v2"},
		{"Payments API", "payments-api", "payments"},
		{"Service", "service", "service"},
		{"42 Things", "42-things", ""},
		{"  ", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := kebab(tt.in, false); got != tt.kebab {
				t.Errorf("kebab(%q) = %q, want %q", tt.in, got, tt.kebab)
			}
			if got := appName(tt.in); got != tt.app {
				t.Errorf("appName(%q) = %q, want %q", tt.in, got, tt.app)
			}
		})
	}
	if got := kebab("cart.ItemAdded", true); got != "cart.item-added" {
		t.Errorf("kebab with dots kept = %q", got)
	}
}

func TestChannelAddressesBecomeTopics(t *testing.T) {
	param := func(key, val string) *node {
		return &node{kind: kMap, keys: []string{key}, vals: []*node{{kind: kList, items: []*node{{kind: kScalar, val: val}}}}}
	}
	tests := []struct {
		name, addr       string
		params           map[string]*node
		pattern, example string
		notes            int
	}{
		{"slashes separate segments", "cart/items", nil, "cart.items", "cart.items", 0},
		{"dots separate segments", "cart.item.added", nil, "cart.item.added", "cart.item.added", 0},
		{"a leading slash is dropped", "/orders/placed", nil, "orders.placed", "orders.placed", 0},
		{"a parameter is + and its example", "cart/{cartId}/items", map[string]*node{"cartId": param("examples", "c-42")}, "cart.+.items", "cart.c-42.items", 0},
		{"a parameter's default comes first", "cart/{cartId}", map[string]*node{"cartId": {kind: kMap, keys: []string{"default"}, vals: []*node{{kind: kScalar, val: "c-1"}}}}, "cart.+", "cart.c-1", 0},
		{"a parameter without example is its name", "user/{id}/signedup", nil, "user.+.signedup", "user.id.signedup", 0},
		{"a parameter inside a segment takes the segment", "user-{id}/events", nil, "+.events", "user-id.events", 1},
		{"characters a topic cannot hold become -", "smartylighting/streetlights/1/0/event:lighting", nil,
			"smartylighting.streetlights.1.0.event-lighting", "smartylighting.streetlights.1.0.event-lighting", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mapAddress(tt.addr, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if m.pattern != tt.pattern || m.example != tt.example || len(m.notes) != tt.notes {
				t.Fatalf("got %q, %q, notes %v; want %q, %q and %d notes", m.pattern, m.example, m.notes, tt.pattern, tt.example, tt.notes)
			}
		})
	}
	for _, bad := range []string{"", "/", "//", strings.Repeat("segment/", 200)} {
		if m, err := mapAddress(bad, nil); err == nil {
			t.Errorf("mapAddress(%.20q) = %q, want an error", bad, m.pattern)
		}
	}
}
