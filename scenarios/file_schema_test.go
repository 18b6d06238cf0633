package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

type schemaObject struct {
	Properties map[string]json.RawMessage `json:"properties"`
	Defs       map[string]schemaObject    `json:"$defs"`
}

func readSchema(t *testing.T) schemaObject {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "scenario-format.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s schemaObject
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	return s
}

// The published JSON Schema parses, and every key an example file uses at its top level
// is in it.
func TestTheSchemaParsesAndHoldsEveryExampleFilesKeys(t *testing.T) {
	s := readSchema(t)
	paths, _ := filepath.Glob(filepath.Join("files", "*.yaml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fp := &fileParser{name: p}
		root := fp.parseYAML(data)
		if root == nil {
			t.Fatal(fp.errs)
		}
		for _, k := range root.keys {
			if _, ok := s.Properties[k.text]; !ok {
				t.Errorf("%s:%d: %s is not in the schema", p, k.pos.Line, k.text)
			}
		}
	}
}

// The schema names exactly the keys the loader takes, at the top and in every block, so
// an editor completes what the loader accepts and nothing else.
func TestTheSchemaAgreesWithTheLoaderOnEveryKey(t *testing.T) {
	s := readSchema(t)
	check := func(name string, props map[string]json.RawMessage, typ reflect.Type) {
		var want []string
		for i := range typ.NumField() {
			if tag := typ.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
				want = append(want, tag)
			}
		}
		got := sortedKeys(props)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the schema has %v, the loader takes %v", name, got, want)
		}
	}
	check("top level", s.Properties, reflect.TypeFor[fileDoc]())
	for name, typ := range map[string]reflect.Type{
		"knob": reflect.TypeFor[fileKnob](), "limits": reflect.TypeFor[fileLimits](), "fault": reflect.TypeFor[fileFault](),
		"app": reflect.TypeFor[fileApp](), "breaker": reflect.TypeFor[fileBreaker](), "retry": reflect.TypeFor[fileRetry](),
		"idempotent": reflect.TypeFor[fileDedup](), "fail": reflect.TypeFor[fileFail](), "reaction": reflect.TypeFor[fileReaction](),
		"publish": reflect.TypeFor[filePublish](), "sagaStart": reflect.TypeFor[fileSagaStart](), "force": reflect.TypeFor[fileForce](),
		"action": reflect.TypeFor[fileAction](), "fallback": reflect.TypeFor[fileFallback](), "call": reflect.TypeFor[fileCall](),
		"aggregator": reflect.TypeFor[fileAggregator](), "step": reflect.TypeFor[fileSagaStep](), "saga": reflect.TypeFor[fileSaga](),
		"entry": reflect.TypeFor[fileEntry](), "check": reflect.TypeFor[fileCheck](),
		"choreography": reflect.TypeFor[fileChoreography](), "participant": reflect.TypeFor[fileParticipant](),
	} {
		def, ok := s.Defs[name]
		if !ok {
			t.Errorf("the schema has no $defs/%s", name)
			continue
		}
		check(name, def.Properties, typ)
	}
}
