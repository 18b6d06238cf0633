package asyncapi_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"mfelab/scenarios"
	"mfelab/scenarios/asyncapi"
)

// FuzzImport feeds the importer any document: it must never panic, and a file it writes
// must load as a scenario and run a bounded number of events without panicking either.
func FuzzImport(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "docs", "asyncapi", "*.yaml"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{"", "asyncapi: 3.0.0", "{", "asyncapi: 3.0.0\ninfo: {title: A}\n", doc,
		"asyncapi: 3.0.0\ninfo: {title: A}\nchannels: {c: {address: 'a/{x}', messages: {m: {payload: {type: string, const: '${x}'}}}}}\noperations: {o: {action: send, channel: {$ref: '#/channels/c'}}}\n",
		"asyncapi: 3.0.0\ninfo: {title: A}\nchannels: {c: {$ref: '#/channels/c'}}\n",
		"asyncapi: 3.0.0\ninfo: {title: A}\ncomponents: {schemas: {a: {$ref: '#/components/schemas/a'}}}\n",
		"asyncapi: 3.0.0\ninfo: {title: 'A\n# b'}\nchannels: {c: {address: \"x\\ny\", messages: {m: {name: \"n\\n\", payload: {type: object, examples: [{k: '${'}]}}}}}\noperations: {o: {action: send, channel: {$ref: '#/channels/c'}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := asyncapi.Import([]asyncapi.Source{{Name: "fuzz.yaml", Data: data}}, asyncapi.Options{})
		if err != nil {
			return
		}
		s, err := scenarios.Parse("fuzz-out.yaml", out)
		if err != nil {
			t.Fatalf("the file written does not load:\n%v\n--- file:\n%s", err, out)
		}
		r, err := scenarios.Start(s, 1, nil)
		if err != nil {
			t.Fatalf("the file written does not set up: %v\n--- file:\n%s", err, out)
		}
		deadline := time.Now().Add(2 * time.Second)
		for i := 0; i < 5000 && r.Step() && time.Now().Before(deadline); i++ {
		}
		if checks := r.Checks(); !scenarios.Passed(checks) {
			t.Fatalf("the file written fails its own checks:\n%s\n--- file:\n%s", scenarios.FormatChecks(checks), out)
		}
	})
}
