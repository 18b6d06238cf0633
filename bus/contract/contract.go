// Package contract evolves versioned event contracts safely. A schema is known by its
// schema version "name@N" (see bus.Contracts); Evolve registers version N only when it is
// compatible with version N-1 by the rules of Compare (additive changes only),
// and otherwise refuses it with every breaking change and what to do instead.
//
// Old and new consumers then coexist: a producer may publish both versions during a
// transition (PublishVersions), a consumer that understands version N subscribes with
// bus.Accept("name@N") and receives older messages upcast through the chain of upcasters
// (v1 -> v2 -> v3), and a consumer of an older version keeps receiving the version it
// asked for from a producer that still publishes it.
package contract

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mfelab/bus"
)

// ErrBreaking is what a refused evolution's error is, for errors.Is.
var ErrBreaking = errors.New("breaking contract change")

// BreakingChangeError is a new version refused because consumers of the previous one
// would break.
type BreakingChangeError struct {
	SchemaVersion string
	Previous      string
	Changes       []Change // the breaking ones
}

func (e *BreakingChangeError) Error() string {
	lines := make([]string, len(e.Changes))
	for i, c := range e.Changes {
		lines[i] = c.String()
	}
	return fmt.Sprintf("%s is not compatible with %s: %s", e.SchemaVersion, e.Previous, strings.Join(lines, "; "))
}

func (e *BreakingChangeError) Unwrap() error { return ErrBreaking }

// Report is what Evolve found between the previous version and the new one.
type Report struct {
	SchemaVersion, Previous string
	Changes                 []Change
}

// Evolve compiles schema for schemaVersion and registers it if version 1, or if it only
// adds to version N-1 (which must be registered). A breaking change is refused with a
// *BreakingChangeError and nothing is registered.
func Evolve(c *bus.Contracts, schemaVersion string, schema []byte) (Report, error) {
	name, v, err := bus.ParseSchemaVersion(schemaVersion)
	if err != nil {
		return Report{}, err
	}
	next, err := bus.CompileSchema(schema)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", schemaVersion, err)
	}
	rep := Report{SchemaVersion: schemaVersion}
	if v > 1 {
		rep.Previous = bus.SchemaVersion(name, v-1)
		prev := c.Schema(rep.Previous)
		if prev == nil {
			return rep, fmt.Errorf("%s: register %s first; versions evolve one at a time", schemaVersion, rep.Previous)
		}
		rep.Changes = Compare(prev, next)
		var breaking []Change
		for _, ch := range rep.Changes {
			if ch.Breaking {
				breaking = append(breaking, ch)
			}
		}
		if len(breaking) > 0 {
			return rep, &BreakingChangeError{SchemaVersion: schemaVersion, Previous: rep.Previous, Changes: breaking}
		}
	}
	return rep, c.Register(schemaVersion, schema)
}

// PublishVersions publishes one message per version (in the order given), each with its
// own payload and schema version and the header bus.HeaderContractVersions listing them
// all: how a producer serves old and new consumers during a transition. A consumer that
// accepts one of the versions receives just that one; a consumer with no declared version
// receives them all. It stops at the first error.
func PublishVersions(app *bus.App, topic, name string, payloads map[int]any, order ...int) ([]*bus.Envelope, error) {
	var out []*bus.Envelope
	vs := make([]string, len(order))
	for i, v := range order {
		vs[i] = strconv.Itoa(v)
	}
	list := strings.Join(vs, ",")
	for _, v := range order {
		p, ok := payloads[v]
		if !ok {
			return out, fmt.Errorf("publish %s: no payload for version %d", topic, v)
		}
		env, err := app.Send(bus.Msg{Topic: topic, Payload: p, SchemaVersion: bus.SchemaVersion(name, v),
			Headers: map[string]string{bus.HeaderContractVersions: list}})
		if err != nil {
			return out, err
		}
		out = append(out, env)
	}
	return out, nil
}
