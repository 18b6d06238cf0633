package scenarios_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"mfelab/bus"
	. "mfelab/scenarios"
)

func TestPlacingAppsInAnotherProcess(t *testing.T) {
	checkout, err := Get("checkout-orchestrated")
	if err != nil {
		t.Fatal(err)
	}
	rpcPricing, err := Get("rpc-pricing")
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name     string
		s        *Scenario
		apps     []string
		contains string
	}{
		{"an unknown app is refused with the scenario's apps", checkout, []string{"paymnt"}, `no app "paymnt"; its apps are host, catalog`},
		{"an app the saga runs in is refused with the ones that can go", checkout, []string{Cart}, "these can: inventory, payment, shipping, notifications"},
		{"a scenario without detachable apps says none can", rpcPricing, []string{Catalog}, "none can"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := StartWith(tt.s, 1, nil, Options{Remote: tt.apps})
			var pe *PlacementError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPlacement) || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("StartWith: %v, want a *PlacementError saying %q", err, tt.contains)
			}
			if _, err := StartApps(tt.s, nil, bus.New(bus.Options{}), tt.apps, ""); !errors.Is(err, ErrPlacement) {
				t.Fatalf("StartApps: %v, want ErrPlacement", err)
			}
		})
	}
	t.Run("serving no app is refused", func(t *testing.T) {
		if _, err := StartApps(checkout, nil, bus.New(bus.Options{}), nil, ""); !errors.Is(err, ErrPlacement) {
			t.Fatalf("StartApps: %v, want ErrPlacement", err)
		}
	})

	t.Run("a run with payment remote keeps a remote stand-in for it and skips its checks", func(t *testing.T) {
		r, err := StartWith(checkout, 1, nil, Options{Remote: []string{Payment}, Origin: "nats://x"})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Remote(); !slices.Equal(got, []string{Payment}) {
			t.Errorf("Remote() = %v", got)
		}
		if a := r.Bus.App(Payment); a == nil || !a.Remote() || a.Origin() != "nats://x" {
			t.Errorf("the payment app on the bus is %+v, want a remote one from nats://x", a)
		}
		export, imp := r.Bridged()
		if !slices.Contains(export, "payment.#") || !slices.Equal(imp, []string{"payment.#", "load.payment.#"}) {
			t.Errorf("Bridged() = %v, %v", export, imp)
		}
		var skipped []string
		for _, c := range r.Checks() {
			if c.Skipped {
				skipped = append(skipped, c.Name)
			}
		}
		if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "the payment is") {
			t.Errorf("skipped checks %q, want the payment's only", skipped)
		}
	})

	t.Run("serving payment wires it alone and neither acts nor checks", func(t *testing.T) {
		b := bus.New(bus.Options{})
		r, err := StartApps(checkout, Values{"fail": "charge"}, b, []string{Payment}, "nats://x")
		if err != nil {
			t.Fatal(err)
		}
		if r.Drives() || len(r.Checks()) != 0 {
			t.Errorf("Drives() = %v with %d checks, want a run that only serves", r.Drives(), len(r.Checks()))
		}
		if acts, _ := r.Acts(); len(acts) != 0 {
			t.Errorf("acts %v scheduled", acts)
		}
		if got := r.Local(); !slices.Equal(got, []string{Payment}) {
			t.Errorf("Local() = %v", got)
		}
		if n := r.World.App(Payment).Faults.State().FailNext["payment.charge"]; n != 1 {
			t.Errorf("the fail=charge knob did not reach payment: fail-next %d", n)
		}
		export, imp := r.Bridged()
		if !slices.Equal(export, []string{"payment.#", "load.payment.#"}) || !slices.Contains(imp, "payment.#") {
			t.Errorf("Bridged() = %v, %v", export, imp)
		}
		if b.Pending() != 0 {
			t.Errorf("%d events pending on a run that only serves", b.Pending())
		}
	})
}
