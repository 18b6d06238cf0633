package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunExportTestWritesAGoTest(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		code     int
		file     string
		contains []string
	}{
		{"the package comes from the directory", []string{"run", "checkout-orchestrated", "-quiet", "-set", "fail=ship", "-export-test", filepath.Join(dir, "flows", "x_test.go")},
			exitOK, filepath.Join(dir, "flows", "x_test.go"), []string{"package flows\n", "func TestCheckoutOrchestratedSeed42FailShip(t *testing.T)", "Kind: session.ArrowErrorReply"}},
		{"-test-package names the package", []string{"run", "rpc-pricing", "-quiet", "-seed", "7", "-export-test", filepath.Join(dir, "y_test.go"), "-test-package", "pricing_test"},
			exitOK, filepath.Join(dir, "y_test.go"), []string{"package pricing_test\n", "func TestRpcPricingSeed7(t *testing.T)"}},
		{"a package name that is no Go name is refused before the run", []string{"run", "rpc-pricing", "-export-test", filepath.Join(dir, "z_test.go"), "-test-package", "my-tests"},
			exitUsage, "", []string{"not a Go package name"}},
		{"a directory that cannot be written is named", []string{"run", "rpc-pricing", "-quiet", "-export-test", filepath.Join(dir, "missing", "deeper", "z_test.go")},
			exitFail, "", []string{"export-test", "missing"}},
	}
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d (want %d)\n%s\n%s", code, tt.code, out, errOut)
			}
			text := out + errOut
			if tt.file != "" {
				data, err := os.ReadFile(tt.file)
				if err != nil {
					t.Fatal(err)
				}
				text = string(data)
				if !strings.Contains(out, "wrote the run as a Go test to "+tt.file) {
					t.Fatalf("output does not name the file:\n%s", out)
				}
			}
			for _, want := range tt.contains {
				if !strings.Contains(text, want) {
					t.Fatalf("lacks %q:\n%s", want, text)
				}
			}
		})
	}
}
