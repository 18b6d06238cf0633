package asyncapi_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mfelab/scenarios"
	"mfelab/scenarios/asyncapi"
	"mfelab/session"
)

var update = flag.Bool("update", false, "rewrite the golden scenario files under testdata")

// shopDocs are the example documents of docs/asyncapi, named as from the repository's
// root so the golden file does not depend on where the test runs.
func shopDocs(t testing.TB) []asyncapi.Source {
	t.Helper()
	var out []asyncapi.Source
	for _, name := range []string{"cart.yaml", "payment.yaml", "shipping.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "docs", "asyncapi", name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, asyncapi.Source{Name: "docs/asyncapi/" + name, Data: data})
	}
	return out
}

func importShop(t *testing.T) []byte {
	t.Helper()
	out, err := asyncapi.Import(shopDocs(t), asyncapi.Options{ID: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The example documents import as the reviewed golden file, byte for byte, every time.
func TestTheShopDocumentsImportAsTheGoldenFile(t *testing.T) {
	got := importShop(t)
	golden := filepath.Join("testdata", "shop.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./scenarios/asyncapi -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs from %s:\n got  %s\n want %s", i+1, golden, gl[i], wl[i])
			}
		}
		t.Fatalf("the output has %d lines, %s %d", len(gl), golden, len(wl))
	}
	if again := importShop(t); !bytes.Equal(again, got) {
		t.Fatal("two imports of the same documents differ")
	}
}

// run loads a scenario file's bytes and runs it to its end under knobs.
func run(t *testing.T, file []byte, knobs scenarios.Values) (*session.Session, []scenarios.Check) {
	t.Helper()
	s, err := scenarios.Parse("shop.yaml", file)
	if err != nil {
		t.Fatalf("the imported file does not load:\n%v", err)
	}
	ses, err := session.Start(s, 42, knobs)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	return ses, ses.Checks()
}

// The imported file loads, and runs green under every knob combination it declares:
// every example keeps its contract and every app hears what its document receives.
func TestTheImportedScenarioChecksAndRuns(t *testing.T) {
	file := importShop(t)
	s, err := scenarios.Parse("shop.yaml", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, knobs := range s.Combinations() {
		t.Run(knobs.String(), func(t *testing.T) {
			ses, checks := run(t, file, knobs)
			if !scenarios.Passed(checks) {
				t.Fatalf("checks:\n%s", scenarios.FormatChecks(checks))
			}
			lines := ses.Trace().Lines()
			for _, want := range []string{"payment.o-1001.result          payment -> shipping", "shop.orders.placed             cart -> payment"} {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
					t.Fatalf("no delivery %q in the trace:\n%s", want, strings.Join(lines, "\n"))
				}
			}
		})
	}
}

// A payload that breaks a schema imported from the documents is caught: rejected in
// strict mode, so its receivers never hear it, and let through with a warning in warn
// mode; either way the contract check fails and says what is wrong.
func TestAPayloadBreakingAnImportedSchemaIsCaught(t *testing.T) {
	good := "\n          payload: {orderId: o-1001, paymentId: p-77}\n" // the timeline's, not the comment's
	file := importShop(t)
	if !bytes.Contains(file, []byte(good)) {
		t.Fatalf("the imported file has no %q", good)
	}
	broken := bytes.Replace(file, []byte(good), []byte("\n          payload: {orderId: o-1001, paymentId: 77}\n"), 1)
	tests := []struct {
		mode, traceHas string
		cartHears      string
	}{
		{"strict", "rejected", "got 2, want 3"},
		{"warn", "contract-warning", ""},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ses, checks := run(t, broken, scenarios.Values{"contract-mode": tt.mode})
			byName := map[string]scenarios.Check{}
			for _, c := range checks {
				byName[c.Name] = c
			}
			contract := byName["every payload keeps its contract"]
			if contract.Pass || !strings.Contains(contract.Detail, "payment.payment-succeeded@1") || !strings.Contains(contract.Detail, "paymentId") {
				t.Fatalf("the contract check:\n%s", scenarios.FormatChecks(checks))
			}
			if cart := byName["cart hears 3 messages"]; (tt.cartHears == "") != cart.Pass || !strings.Contains(cart.Detail, tt.cartHears) {
				t.Fatalf("cart's check:\n%s", scenarios.FormatChecks(checks))
			}
			lines := ses.Trace().Lines()
			if !slices.ContainsFunc(lines, func(l string) bool {
				return strings.Contains(l, tt.traceHas) && strings.Contains(l, "payment.o-1001.result")
			}) {
				t.Fatalf("no %s of payment.o-1001.result in the trace:\n%s", tt.traceHas, strings.Join(lines, "\n"))
			}
		})
	}
}

// doc is a small valid document; cases change one thing in it.
const doc = `asyncapi: 3.0.0
info:
  title: Cart Service
  version: 1.0.0
channels:
  items:
    address: cart/{cartId}/items
    messages:
      added:
        $ref: '#/components/messages/Added'
operations:
  add:
    action: send
    channel:
      $ref: '#/channels/items'
components:
  messages:
    Added:
      payload:
        $ref: '#/components/schemas/Line'
  schemas:
    Line:
      type: object
      required: [sku]
      properties:
        sku: {type: string}
`

// A mistake in a document is reported at its line and column with what to do about it.
func TestMistakesInAsyncAPIDocumentsAreReportedWhereTheyAre(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"an AsyncAPI 2 document is refused with how to convert it", "asyncapi: 3.0.0", "asyncapi: 2.6.0",
			"x.yaml:1:11: asyncapi: 2.6.0; only AsyncAPI 3 documents are read (the AsyncAPI CLI converts older ones: asyncapi convert)"},
		{"a file that is not AsyncAPI", "asyncapi: 3.0.0\n", "openapi: 3.1.0\n", "x.yaml:1:1: this is not an AsyncAPI document"},
		{"broken YAML", "title: Cart Service", "title: [Cart", "x.yaml:4:3: YAML: "},
		{"a reference to nothing", "'#/components/schemas/Line'", "'#/components/schemas/Lines'",
			`x.yaml:20:15: $ref "#/components/schemas/Lines": nothing is named "Lines" there`},
		{"a reference to another file", "'#/components/schemas/Line'", "'common.yaml#/Line'",
			`x.yaml:20:15: $ref "common.yaml#/Line": only references inside the document (#/...) are read`},
		{"an action that is neither send nor receive", "action: send", "action: publish",
			`x.yaml:13:13: operation add: action "publish"; an operation's action is send or receive`},
		{"an operation without a channel reference", "    channel:\n      $ref: '#/channels/items'\n", "    channel: items\n",
			"x.yaml:12:3: operation add: channel: want a $ref to one of the document's channels"},
		{"a recursive schema", "        sku: {type: string}", "        sku: {type: string}\n        next: {$ref: '#/components/schemas/Line'}",
			`x.yaml:27:22: $ref "#/components/schemas/Line": the schema contains itself; a contract cannot be recursive`},
		{"references in a circle", "    Line:\n      type: object", "    Line:\n      $ref: '#/components/schemas/Loop'\n    Loop:\n      $ref: '#/components/schemas/Line'\n    Unused:\n      type: object",
			"the references go round in a circle"},
		{"a schema the bus cannot compile", "sku: {type: string}", "sku: {type: text}",
			"x.yaml:20:9: message Added: its payload schema cannot be a contract: "},
		{"an Avro payload", "      payload:\n        $ref: '#/components/schemas/Line'", "      payload:\n        schemaFormat: application/vnd.apache.avro;version=1.9.0\n        schema: {type: record}",
			`x.yaml:20:23: message Added: schemaFormat "application/vnd.apache.avro;version=1.9.0"; only AsyncAPI and JSON Schema payloads can become contracts`},
		{"an address that makes no topic", "address: cart/{cartId}/items", "address: /", `x.yaml:6:3: channel items: address "/" has no segment a topic could be made of`},
		{"a title that makes no app name", "title: Cart Service", "title: '42'", `x.yaml:3:10: info: title "42" gives no app name`},
		{"an anchor", "  version: 1.0.0", "  version: &v 1.0.0", "x.yaml:4:12: YAML anchors, aliases and merge keys are not read; share a value with $ref instead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(doc, tt.old) {
				t.Fatalf("the document has no %q", tt.old)
			}
			_, err := asyncapi.Import([]asyncapi.Source{{Name: "x.yaml", Data: []byte(strings.Replace(doc, tt.old, tt.new, 1))}}, asyncapi.Options{})
			if err == nil {
				t.Fatal("the document imported")
			}
			if !errors.Is(err, asyncapi.ErrInvalidSpec) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// Mistakes across documents name both.
func TestMistakesAcrossDocumentsNameBoth(t *testing.T) {
	other := strings.Replace(doc, "sku: {type: string}", "sku: {type: integer}", 1)
	tests := []struct {
		name string
		docs []asyncapi.Source
		want string
	}{
		{"two documents of one application", []asyncapi.Source{{Name: "a.yaml", Data: []byte(doc)}, {Name: "b.yaml", Data: []byte(doc)}},
			`b.yaml:3:10: info: title "Cart Service" gives app cart, as a.yaml does; give one of them another title`},
		{"two senders of one message with different schemas", []asyncapi.Source{{Name: "a.yaml", Data: []byte(doc)},
			{Name: "b.yaml", Data: []byte(strings.Replace(other, "title: Cart Service", "title: Till", 1))}},
			"b.yaml:20:9: message Added: till sends it with another payload schema than cart does (a.yaml:20:9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := asyncapi.Import(tt.docs, asyncapi.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// A schema with a format imports and loads whether or not the bus checks formats: kept
// where the bus compiles it, else left out with a note saying so.
func TestASchemaWithAFormatImportsWhetherOrNotTheBusChecksFormats(t *testing.T) {
	spec := strings.Replace(doc, "sku: {type: string}", "sku: {type: string, format: uuid}", 1)
	out, err := asyncapi.Import([]asyncapi.Source{{Name: "x.yaml", Data: []byte(spec)}}, asyncapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept := bytes.Contains(out, []byte("format: uuid"))
	noted := bytes.Contains(out, []byte("format is not checked by the bus's contracts"))
	if kept == noted {
		t.Fatalf("want the format kept or left out with a note, one of them:\n%s", out)
	}
	if _, checks := run(t, out, nil); !scenarios.Passed(checks) {
		t.Fatalf("checks:\n%s", scenarios.FormatChecks(checks))
	}
}
