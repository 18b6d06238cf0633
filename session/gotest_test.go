package session

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mfelab/scenarios"
)

// finished runs scenario id with knobs to its end.
func finished(t *testing.T, id string, knobs scenarios.Values) *Session {
	t.Helper()
	s, err := scenarios.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	ses, err := Start(s, 42, knobs)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	return ses
}

// A Go test written for every scenario compiles, passes as written, and fails naming the
// first delivery that differs once a knob in it is changed: built in one scratch module
// that requires this one, as a user's project would.
func TestGoTestsOfEveryScenarioPassAndFailOnAChangedKnob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a module of generated tests")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "labtest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod := "module labtest\n\ngo 1.26\n\nrequire mfelab v0.0.0\n\nreplace mfelab => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644),
		os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)); err != nil {
		t.Fatal(err)
	}
	for _, s := range scenarios.All() {
		ses := finished(t, s.ID, nil)
		path := filepath.Join(dir, strings.ReplaceAll(s.ID, "-", "_")+"_test.go")
		if err := ses.ExportGoTest(path, ""); err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		_ = ses.Close()
	}
	goTest := func(args ...string) (string, error) {
		cmd := exec.Command(goTool, append([]string{"test", "-count=1"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := goTest("-v", "."); err != nil {
		t.Fatalf("the generated tests fail as written: %v\n%s", err, out)
	} else if n := strings.Count(out, "--- PASS: Test"); n != len(scenarios.All()) {
		t.Fatalf("%d generated tests passed, want %d:\n%s", n, len(scenarios.All()), out)
	}

	path := filepath.Join(dir, "checkout_orchestrated_test.go")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	knob := regexp.MustCompile(`"fail":\s+"none"`)
	if !knob.Match(src) {
		t.Fatalf("the checkout test does not set fail=none:\n%s", src)
	}
	if err := os.WriteFile(path, knob.ReplaceAll(src, []byte(`"fail": "charge"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := goTest("-run", "TestCheckoutOrchestrated", ".")
	if err == nil {
		t.Fatalf("the test passes with fail=charge:\n%s", out)
	}
	for _, want := range []string{
		"the flow differs from the table at delivery 4 (Flow[3]) of 7",
		"want payment.charge.reply.cart  payment -> cart  reply\n",
		"got  payment.charge.reply.cart  payment -> cart  error reply\n",
		">    4  payment.charge.reply.cart  payment -> cart  error reply",
		`check 1 is "the order ends cancelled", want "the order ends confirmed"`,
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("the failure lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteGoTestIsGofmtCleanAndNamesTheRun(t *testing.T) {
	ses := finished(t, "checkout-orchestrated", scenarios.Values{"fail": "ship"})
	var b bytes.Buffer
	if err := WriteGoTest(&b, ses, "checkout_test"); err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "x_test.go", b.Bytes(), parser.ParseComments)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if f.Name.Name != "checkout_test" || !ast.IsGenerated(f) {
		t.Fatalf("package %s, generated %v", f.Name.Name, ast.IsGenerated(f))
	}
	for _, want := range []string{
		"func TestCheckoutOrchestratedSeed42FailShip(t *testing.T) {",
		"mfelab run checkout-orchestrated -seed 42 -set fail=ship -set latency=20ms -export-test FILE",
		`"latency": "20ms",`,
		`{Topic: "shipping.create.reply.cart", From: "shipping", To: "cart", Kind: session.ArrowErrorReply},`,
		`{Name: "the payment is refunded", Pass: true},`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("the test lacks %q:\n%s", want, b.String())
		}
	}
	var again bytes.Buffer
	if err := WriteGoTest(&again, finished(t, "checkout-orchestrated", scenarios.Values{"fail": "ship"}), "checkout_test"); err != nil || again.String() != b.String() {
		t.Fatalf("a second run writes another test (%v)", err)
	}
}

func TestWriteGoTestRefusesRunsItCannotRepeat(t *testing.T) {
	unfinished := func() *Session {
		s, _ := scenarios.Get("rpc-pricing")
		ses, _ := Start(s, 1, nil)
		ses.Step()
		return ses
	}
	changed := func() *Session {
		ses := finished(t, "rpc-pricing", nil)
		ses.Intervene("took pricing down")
		return ses
	}
	replay := func() *Session {
		ses := finished(t, "rpc-pricing", nil)
		r, err := Replay(ses.Trace().Envelopes(), 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		r.RunToEnd()
		return r
	}
	tests := []struct {
		name string
		ses  func() *Session
		pkg  string
		says string
	}{
		{"a run that is not over", unfinished, "x_test", "run it to its end first"},
		{"a run changed by hand", changed, "x_test", "took pricing down"},
		{"a replayed log", replay, "x_test", "run its scenario and export that"},
		{"a package name that is no identifier", func() *Session { return finished(t, "rpc-pricing", nil) }, "my-tests", "not a Go identifier"},
		{"a package name that is a keyword", func() *Session { return finished(t, "rpc-pricing", nil) }, "func", "not a Go identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			err := WriteGoTest(&bytes.Buffer{}, tt.ses(), tt.pkg)
			if !errors.Is(err, ErrNoGoTest) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want ErrNoGoTest saying %q", err, tt.says)
			}
		})
	}
}

func TestTestPackageFollowsTheDirectory(t *testing.T) {
	write := func(dir, name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	mk := func(name string) string {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	withPkg := mk("shop")
	write(withPkg, "shop.go", "package checkout\n")
	write(withPkg, "a_test.go", "package checkout\n")
	onlyTests := mk("only")
	write(onlyTests, "z_test.go", "package flows_test\n")
	broken := mk("broken")
	write(broken, "x.go", "this is not Go")
	tests := []struct {
		name, dir, want string
	}{
		{"a directory with a package gets its external test package", withPkg, "checkout_test"},
		{"a directory with only tests gets their package", onlyTests, "flows_test"},
		{"an empty directory gets its own name", mk("regress"), "regress"},
		{"a name with dashes and capitals is made an identifier", mk("My-Flows"), "myflows"},
		{"a name that starts with a digit loses the digit", mk("2flows"), "flows"},
		{"a name that is a keyword falls back on labtest", mk("func"), "labtest"},
		{"a name with nothing usable falls back on labtest", mk("---"), "labtest"},
		{"a file that does not parse is passed over", broken, "broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TestPackage(tt.dir); got != tt.want {
				t.Fatalf("TestPackage(%s) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

// The Go names of the arrow kinds are the constants' own names, in order.
func TestGoNamesAreTheArrowKindConstants(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "diagram.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if d, ok := n.(*ast.GenDecl); ok && d.Tok == token.CONST {
			for _, s := range d.Specs {
				for _, id := range s.(*ast.ValueSpec).Names {
					if strings.HasPrefix(id.Name, "Arrow") && id.Name != "ArrowKinds" {
						names = append(names, id.Name)
					}
				}
			}
		}
		return true
	})
	if len(names) != int(ArrowKinds) {
		t.Fatalf("diagram.go declares %d kinds, ArrowKinds is %d", len(names), ArrowKinds)
	}
	for k := range ArrowKinds {
		if k.GoName() != names[k] {
			t.Fatalf("kind %d is %s in diagram.go, GoName says %s", k, names[k], k.GoName())
		}
	}
}
