package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffExitCodesAndOutput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	logShip, logCharge := filepath.Join(dir, "ship.ndjson"), filepath.Join(dir, "charge.ndjson")
	for _, args := range [][]string{
		{"run", "checkout-orchestrated", "-quiet", "-set", "fail=ship", "-export", logShip, "-record", "-history", db},
		{"run", "checkout-orchestrated", "-quiet", "-set", "fail=charge", "-export", logCharge, "-record", "-history", db},
	} {
		if code, out, errOut := runCLI(t, "", args...); code != exitOK {
			t.Fatalf("%v: exit %d %s %s", args, code, out, errOut)
		}
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"a scenario run matches itself", []string{"diff", "scenario:rpc-pricing", "scenario:rpc-pricing"}, exitOK,
			[]string{"The flows match: the same 6 deliveries", "every check passes in both"}},
		{"the two checkout sagas differ from the first delivery on",
			[]string{"diff", "scenario:checkout-orchestrated", "scenario:checkout-choreographed", "-set", "fail=ship"}, exitFail,
			[]string{"The flows part at the first delivery: A has inventory.reserve from cart to inventory (a\nrequest) where B has order.created",
				"only in A         10 deliveries", "In A every delivery goes to or from cart"}},
		{"knobs and seeds in a spec win over the flags",
			[]string{"diff", "scenario:checkout-orchestrated,fail=ship@7", "scenario:checkout-orchestrated@7", "-set", "fail=charge", "-seed", "3"}, exitFail,
			[]string{"A  checkout-orchestrated, seed 7, fail=ship", "B  checkout-orchestrated, seed 7, fail=charge"}},
		{"two recorded runs are compared by id and as the latest",
			[]string{"diff", "run-000001", "latest", "-history", db}, exitFail,
			[]string{"A  run-000001: checkout-orchestrated, seed 42, fail=ship", "reply / error reply" /* the charge */}},
		{"a recorded run matches a fresh run of its scenario",
			[]string{"diff", "-history", db, "run-000001", "scenario:checkout-orchestrated,fail=ship"}, exitOK, []string{"The flows match"}},
		{"a log is compared by the messages published",
			[]string{"diff", logShip, logCharge}, exitFail,
			[]string{"compared by the messages\nthey published", "A has shipping.create published by cart where\nB has inventory.release published by cart"}},
		{"a log matches a fresh run of what it logged",
			[]string{"diff", logShip, "scenario:checkout-orchestrated,fail=ship"}, exitOK, []string{"the same 21 messages", "not known for A"}},
		{"-all shows every place where the flows part",
			[]string{"diff", "-all", "scenario:retry-dlq-idempotency", "scenario:retry-dlq-idempotency,failures=0"}, exitFail, []string{"   (-: only in A"}},
		{"a scenario file runs like the Go scenario it rewrites, fresh by scenario: or by its name",
			[]string{"diff", "scenario:checkout-choreographed,fail=ship", "scenario:scenarios/files/checkout-choreographed.yaml@42", "-set", "fail=ship"}, exitOK,
			[]string{"The flows match"}},
		{"a scenario file named alone is run, not read as a log",
			[]string{"diff", "scenarios/files/checkout-orchestrated.yaml", "scenario:checkout-orchestrated"}, exitOK, []string{"The flows match"}},
		{"one run is not enough", []string{"diff", "scenario:rpc-pricing"}, exitUsage, []string{"want two runs, got 1", "a run is one of"}},
		{"an unknown scenario lists the scenarios", []string{"diff", "scenario:nope", "scenario:load"}, exitUsage, []string{"the scenarios are: checkout-orchestrated"}},
		{"a bad knob value says what the knob takes", []string{"diff", "scenario:load,apps=99", "scenario:load"}, exitUsage, []string{"want 1 to 8"}},
		{"a malformed knob in a spec is refused", []string{"diff", "scenario:load,apps", "scenario:load"}, exitUsage, []string{"want knob=value"}},
		{"a bad seed in a spec says what a seed is", []string{"diff", "scenario:load@x", "scenario:load"}, exitUsage, []string{"whole number"}},
		{"a missing log names the file and what a run may be", []string{"diff", filepath.Join(dir, "nope.ndjson"), "scenario:load"}, exitUsage,
			[]string{"nope.ndjson", "no such file", "a run is scenario:NAME"}},
		{"an unknown recorded run lists the newest", []string{"diff", "run-000009", "latest", "-history", db}, exitUsage, []string{"no such run", "run-000002"}},
		{"a negative context is refused", []string{"diff", "-context", "-1", "scenario:load", "scenario:load"}, exitUsage, []string{"-context"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.contains {
				if !strings.Contains(out+errOut, want) {
					t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", want, out, errOut)
				}
			}
		})
	}
}
