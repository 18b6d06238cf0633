package scenarios

import (
	"reflect"
	"slices"
	"testing"
)

// The published JSON Schema names exactly the keys the loader takes in the contracts
// section, so an editor completes what the loader accepts and nothing else.
func TestTheSchemaAgreesWithTheLoaderOnTheContractsKeys(t *testing.T) {
	s := readSchema(t)
	for name, typ := range map[string]reflect.Type{
		"contracts": reflect.TypeFor[fileContracts](), "contract": reflect.TypeFor[fileContract](),
	} {
		def, ok := s.Defs[name]
		if !ok {
			t.Errorf("the schema has no $defs/%s", name)
			continue
		}
		var want []string
		for i := range typ.NumField() {
			if tag := typ.Field(i).Tag.Get("yaml"); tag != "" {
				want = append(want, tag)
			}
		}
		slices.Sort(want)
		if got := sortedKeys(def.Properties); !slices.Equal(got, want) {
			t.Errorf("%s: the schema has %v, the loader takes %v", name, got, want)
		}
	}
}
