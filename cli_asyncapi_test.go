package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mfelab import-asyncapi writes a scenario file that mfelab check accepts and mfelab run
// runs green, and reports a bad document at its line and column with exit 2.
func TestImportAsyncAPIFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "shop.yaml")
	specs := []string{"docs/asyncapi/cart.yaml", "docs/asyncapi/payment.yaml", "docs/asyncapi/shipping.yaml"}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("asyncapi: 3.0.0\ninfo:\n  title: Bad\noperations:\n  o: {action: publish}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		code        int
		out, errOut string
	}{
		{"the documents import into a file", append(append([]string{"import-asyncapi"}, specs...), "-o", out), exitOK, "shop.yaml: 3 apps from 3 documents", ""},
		{"the file passes check", []string{"check", out}, exitOK, "ok (shop, 1 knobs", ""},
		{"the file runs green", []string{"run", out, "-quiet"}, exitOK, "[ok]   every payload keeps its contract", ""},
		{"it runs green in warn mode too", []string{"run", out, "-quiet", "-set", "contract-mode=warn"}, exitOK, "cart hears 3 messages", ""},
		{"without -o the file goes to standard output", []string{"import-asyncapi", "-id", "solo", specs[0]}, exitOK, "id: solo\n", ""},
		{"a bad document is reported where it is", []string{"import-asyncapi", specs[0], bad}, exitUsage, "",
			bad + `:5:15: operation o: action "publish"; an operation's action is send or receive`},
		{"no document is bad usage", []string{"import-asyncapi", "-o", out}, exitUsage, "", "give one AsyncAPI 3.0 document per application"},
		{"a missing document is named", []string{"import-asyncapi", "no/such.yaml"}, exitUsage, "", "no/such.yaml"},
		{"a bad id is refused", []string{"import-asyncapi", "-id", "a.b", specs[0]}, exitUsage, "", `id "a.b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.out) || !strings.Contains(stderr, tt.errOut) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
		})
	}
}
