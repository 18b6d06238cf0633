package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "mfelab/scenarios"
	"mfelab/session"
)

// withContracts is a shop where the catalog publishes items under a contract and the
// cart counts what it receives; cases change the payload, the mode and the schema.
const withContracts = `id: contracts
title: Contracts
horizon: 1s
knobs:
  - {name: mode, kind: choice, choices: [warn, strict], default: strict}
apps:
  - {name: catalog, publish: [cart.#]}
  - {name: cart, subscribe: [cart.#]}
contracts:
  mode: ${knob.mode}
  versions:
    - version: cart.item-added@1
      topics: [cart.+.added]
      schema:
        type: object
        required: [sku, quantity]
        properties:
          sku: {type: string, minLength: 1}
          quantity: {type: integer, minimum: 1}
reactions:
  - app: cart
    on: cart.+.added
    do: [{add: {items: 1}}, {set: {contract: "${msg.contract}"}}]
timeline:
  - at: 10ms
    act: the catalog adds an item
    do: [{app: catalog, publish: {topic: cart.c1.added, payload: PAYLOAD}}]
checks:
  - {name: warnings, expect: "${contracts.warnings}", equals: WARNINGS}
  - {name: rejected, expect: "${contracts.rejected}", equals: REJECTED}
  - {name: received, expect: "${apps.cart.items + 0}", equals: RECEIVED}
`

// inlineSchema is the schema of withContracts as written there.
const inlineSchema = "      schema:\n        type: object\n        required: [sku, quantity]\n        properties:\n          sku: {type: string, minLength: 1}\n          quantity: {type: integer, minimum: 1}\n"

func contractsFile(payload string, warnings, rejected, received int) string {
	return strings.NewReplacer("PAYLOAD", payload, "WARNINGS", itoa(warnings), "REJECTED", itoa(rejected), "RECEIVED", itoa(received)).
		Replace(withContracts)
}

func itoa(n int) string { return string(rune('0' + n)) }

// A payload that breaks its contract shows in the run: a warning on the trace in warn
// mode (and the message goes through), a rejection in strict mode (and it does not).
func TestAPayloadThatBreaksItsContractShowsInTheRun(t *testing.T) {
	tests := []struct {
		name, mode, payload          string
		warnings, rejected, received int
		traceHas                     string
	}{
		{"a payload that keeps its contract goes through quietly", "strict", "{sku: kb, quantity: 2}", 0, 0, 1, "delivered"},
		{"in warn mode a breaking payload goes through with a warning", "warn", "{sku: kb, quantity: 0}", 1, 0, 1, "contract-warning"},
		{"in strict mode a breaking payload is rejected", "strict", "{quantity: two}", 0, 1, 0, "rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("contracts.yaml", []byte(contractsFile(tt.payload, tt.warnings, tt.rejected, tt.received)))
			if err != nil {
				t.Fatal(err)
			}
			ses, err := session.Start(s, 1, Values{"mode": tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			ses.RunToEnd()
			if checks := ses.Checks(); !Passed(checks) {
				t.Fatalf("checks:\n%s", FormatChecks(checks))
			}
			lines := ses.Trace().Lines()
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, tt.traceHas) && strings.Contains(l, "cart.c1.added") }) {
				t.Fatalf("no %s line for cart.c1.added in the trace:\n%s", tt.traceHas, strings.Join(lines, "\n"))
			}
			if tt.warnings+tt.rejected > 0 && !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "cart.item-added@1") }) {
				t.Fatalf("the trace does not name the contract:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// A reaction reads the version a message carries as msg.contract.
func TestAReactionReadsTheContractOfWhatItReceives(t *testing.T) {
	file := strings.Replace(contractsFile("{sku: kb, quantity: 2}", 0, 0, 1), "  - {name: warnings",
		"  - {name: contract, expect: \"${apps.cart.contract}\", equals: cart.item-added@1}\n  - {name: warnings", 1)
	s, err := Parse("contracts.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	ses, err := session.Start(s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	if checks := ses.Checks(); !Passed(checks) {
		t.Fatalf("checks:\n%s", FormatChecks(checks))
	}
}

// A schema may live in a file beside the scenario file or below its directory, never
// anywhere else.
func TestASchemaFileMustStayInsideTheScenarioFilesDirectory(t *testing.T) {
	outside := t.TempDir()
	dir := t.TempDir()
	schemaJSON := `{"type":"object","required":["sku","quantity"],"properties":{"sku":{"type":"string"},"quantity":{"type":"integer","minimum":1}}}`
	schemaYAML := "type: object\nrequired: [sku, quantity]\nproperties:\n  quantity: {type: integer, minimum: 1}\n"
	for name, data := range map[string]string{
		"item.json": schemaJSON, "schemas/item.yaml": schemaYAML, "bad.yaml": "type: object\nminimum: [\n", "notes.txt": schemaJSON,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.json"), []byte(schemaJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.json"), filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, want string
	}{
		{"a JSON file beside the scenario file is read", "item.json", ""},
		{"a YAML file in a directory below is read", "schemas/item.yaml", ""},
		{"a path out of the directory is refused", "../x/item.json", `contracts.yaml:12:7: contract cart.item-added@1: file "../x/item.json": name a file in this scenario file's directory`},
		{"an absolute path is refused", filepath.Join(outside, "secret.json"), "name a file in this scenario file's directory"},
		{"a symbolic link out of the directory is refused", "link.json", `file "link.json": `},
		{"a file that is not a schema file is refused", "notes.txt", "a schema file ends in .json, .yaml or .yml"},
		{"a missing file is named", "none.json", `file "none.json": `},
		{"a mistake in a YAML schema file is reported where it is", "bad.yaml", "bad.yaml:2:10: YAML: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := strings.Replace(contractsFile("{sku: kb, quantity: 2}", 0, 0, 1), inlineSchema, "      file: "+tt.file+"\n", 1)
			path := filepath.Join(dir, "contracts.yaml")
			if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := LoadFile(path)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				ses, err := session.Start(s, 1, nil)
				if err != nil {
					t.Fatal(err)
				}
				ses.RunToEnd()
				if checks := ses.Checks(); !Passed(checks) {
					t.Fatalf("checks:\n%s", FormatChecks(checks))
				}
				return
			}
			if err == nil {
				t.Fatal("the file loaded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tt.want)
			}
			if strings.Contains(tt.name, "out of") && strings.Contains(err.Error(), "minimum") {
				t.Fatalf("the schema outside was read: %v", err)
			}
		})
	}
}

// Mistakes in the contracts section are reported where they are, with what to do.
func TestMistakesInContractsAreReportedWhereTheyAre(t *testing.T) {
	base := contractsFile("{sku: kb, quantity: 2}", 0, 0, 1)
	tests := []struct {
		name, old, new, want string
	}{
		{"a version without its number", "cart.item-added@1", "cart.item-added", "contracts.yaml:12:7: a contract needs version: name@N"},
		{"a mode that is not one", "mode: ${knob.mode}", "mode: loose", `contracts.yaml:10:9: contracts: contract mode "loose": want off, warn or strict`},
		{"a topic that is not a pattern", "topics: [cart.+.added]", "topics: [cart.#.added]", `topic "cart.#.added"`},
		{"a schema the bus cannot compile", "sku: {type: string, minLength: 1}", "sku: {type: text, minLength: 1}", `contracts.yaml:15:9: contract cart.item-added@1: `},
		{"a schema that is not a mapping", inlineSchema, "      schema: [object]\n", "contracts.yaml:14:15: contract cart.item-added@1: schema: want a JSON Schema"},
		{"both an inline schema and a file", "      schema:\n", "      file: item.json\n      schema:\n", "one of them"},
		{"a publish naming a contract nobody declared", "quantity: 2}}", "quantity: 2}, contract: cart.item-added@9}", `contract "cart.item-added@9" is not declared`},
		{"a version declared twice", "reactions:", "    - {version: cart.item-added@1, schema: {type: object}}\nreactions:", "cart.item-added@1 is declared twice"},
		{"two versions on one topic and a publish that does not choose", "reactions:",
			"    - {version: cart.item-added@2, topics: [cart.#], schema: {type: object}}\nreactions:",
			"publish cart.c1.added: the topic carries cart.item-added@1 and cart.item-added@2; say which with contract:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("the base file has no %q", tt.old)
			}
			file := strings.Replace(base, tt.old, tt.new, 1)
			_, err := Parse("contracts.yaml", []byte(file))
			if err == nil {
				t.Fatal("the file loaded")
			}
			if !errors.Is(err, ErrInvalidScenarioFile) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// Where several versions share a topic, a publish that names one carries it.
func TestAPublishNamesItsVersionWhereSeveralShareATopic(t *testing.T) {
	file := strings.Replace(contractsFile("{sku: kb, quantity: 2}, contract: cart.item-added@1", 0, 0, 1), "reactions:",
		"    - {version: cart.item-removed@1, topics: [cart.#], schema: {type: object, required: [removed]}}\nreactions:", 1)
	s, err := Parse("contracts.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	ses, err := session.Start(s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	if checks := ses.Checks(); !Passed(checks) {
		t.Fatalf("checks:\n%s", FormatChecks(checks))
	}
}

// A topic computed at run time that several versions share, with no version named, fails
// the run's own check and says what to do, instead of guessing a version.
func TestAComputedTopicThatSeveralVersionsShareFailsTheRun(t *testing.T) {
	file := strings.Replace(contractsFile("{sku: kb, quantity: 2}", 0, 0, 0), "reactions:",
		"    - {version: cart.item-removed@1, topics: [cart.#], schema: {type: object}}\nreactions:", 1)
	file = strings.Replace(file, "topic: cart.c1.added", `topic: '${"cart.c1." + "added"}'`, 1)
	s, err := Parse("contracts.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	ses, err := session.Start(s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	checks := ses.Checks()
	last := checks[len(checks)-1]
	if last.Pass || !strings.Contains(last.Detail, "carries cart.item-added@1 and cart.item-removed@1; name one with contract:") {
		t.Fatalf("checks:\n%s", FormatChecks(checks))
	}
}
