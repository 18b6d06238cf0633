package bus

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ContractMode says what the bus does with a payload that breaks its declared contract.
type ContractMode int32

const (
	// ContractOff publishes without checking payloads (SchemaVersion syntax is still checked).
	ContractOff ContractMode = iota
	// ContractWarn publishes and emits a contract-warning trace event for each violation.
	ContractWarn
	// ContractStrict rejects the publish with a *ContractError.
	ContractStrict
)

func (m ContractMode) String() string {
	switch m {
	case ContractOff:
		return "off"
	case ContractWarn:
		return "warn"
	case ContractStrict:
		return "strict"
	}
	return "ContractMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseContractMode reads "off", "warn" or "strict".
func ParseContractMode(s string) (ContractMode, error) {
	switch s {
	case "off":
		return ContractOff, nil
	case "warn":
		return ContractWarn, nil
	case "strict":
		return ContractStrict, nil
	}
	return 0, fmt.Errorf("contract mode %q: want off, warn or strict", s)
}

// ContractError is a payload that does not satisfy its schema version, or a schema version
// that cannot be honoured.
type ContractError struct {
	SchemaVersion string
	Problems      []string
}

func (e *ContractError) Error() string {
	return fmt.Sprintf("contract %s: %s", e.SchemaVersion, strings.Join(e.Problems, "; "))
}

func (e *ContractError) Unwrap() error { return ErrContract }

// Upcaster turns a payload of version N into version N+1 of the same schema.
type Upcaster func(payload json.RawMessage) (json.RawMessage, error)

// Contracts is the bus's registry of schemas per schema version and of upcasters between
// consecutive versions. Safe for concurrent use.
type Contracts struct {
	mode      atomic.Int32
	mu        sync.RWMutex
	schemas   map[string]*Schema
	upcasters map[string]map[int]Upcaster // schema name -> from version -> upcaster
}

func newContracts(mode ContractMode) *Contracts {
	c := &Contracts{schemas: map[string]*Schema{}, upcasters: map[string]map[int]Upcaster{}}
	c.mode.Store(int32(mode))
	return c
}

// Contracts is the bus's contract registry.
func (b *Bus) Contracts() *Contracts { return b.contracts }

// SetMode changes the validation mode for publishes from now on.
func (c *Contracts) SetMode(m ContractMode) { c.mode.Store(int32(m)) }

// Mode is the current validation mode.
func (c *Contracts) Mode() ContractMode { return ContractMode(c.mode.Load()) }

// ParseSchemaVersion splits "name@N" into its name (topic syntax) and version (N >= 1).
func ParseSchemaVersion(sv string) (name string, version int, err error) {
	i := strings.LastIndexByte(sv, '@')
	if i < 0 {
		return "", 0, fmt.Errorf("%w: schema version %q: want name@N, like cart.item-added@2", ErrContract, sv)
	}
	name = sv[:i]
	if err := ValidateTopic(name); err != nil {
		return "", 0, fmt.Errorf("%w: schema version %q: name: %v", ErrContract, sv, err)
	}
	version, err = strconv.Atoi(sv[i+1:])
	if err != nil || version < 1 || sv[i+1] == '+' || sv[i+1] == '0' {
		return "", 0, fmt.Errorf("%w: schema version %q: version must be a whole number from 1", ErrContract, sv)
	}
	return name, version, nil
}

// SchemaVersion formats name and version as "name@N".
func SchemaVersion(name string, version int) string { return name + "@" + strconv.Itoa(version) }

// Register compiles and stores the schema for a schema version, replacing any earlier one.
func (c *Contracts) Register(schemaVersion string, schema []byte) error {
	if _, _, err := ParseSchemaVersion(schemaVersion); err != nil {
		return err
	}
	s, err := CompileSchema(schema)
	if err != nil {
		return fmt.Errorf("%s: %w", schemaVersion, err)
	}
	c.mu.Lock()
	c.schemas[schemaVersion] = s
	c.mu.Unlock()
	return nil
}

// Schema returns the schema registered for a version, or nil.
func (c *Contracts) Schema(schemaVersion string) *Schema {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.schemas[schemaVersion]
}

// RegisterUpcaster stores the upcaster from version from of schema name to version from+1.
func (c *Contracts) RegisterUpcaster(name string, from int, up Upcaster) error {
	if err := ValidateTopic(name); err != nil {
		return fmt.Errorf("upcaster: %w", err)
	}
	if from < 1 || up == nil {
		return fmt.Errorf("upcaster for %s: want from >= 1 and a function", name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upcasters[name] == nil {
		c.upcasters[name] = map[int]Upcaster{}
	}
	c.upcasters[name][from] = up
	return nil
}

// check validates a payload on publish per the mode: it returns a warning to trace (warn
// mode) or an error to reject with (strict mode, or a malformed schema version).
func (c *Contracts) check(schemaVersion string, payload json.RawMessage) (warning string, err error) {
	if schemaVersion == "" {
		return "", nil
	}
	if _, _, err := ParseSchemaVersion(schemaVersion); err != nil {
		return "", err
	}
	mode := c.Mode()
	if mode == ContractOff {
		return "", nil
	}
	var problems []string
	if s := c.Schema(schemaVersion); s == nil {
		problems = []string{"no schema is registered for this version"}
	} else {
		problems = s.Validate(payload)
	}
	if len(problems) == 0 {
		return "", nil
	}
	cerr := &ContractError{SchemaVersion: schemaVersion, Problems: problems}
	if mode == ContractStrict {
		return "", cerr
	}
	return cerr.Error(), nil
}

// Upcast converts a payload from one schema version to a later one of the same schema by
// running the upcasters in order, validating each step's result against its version's
// schema where one is registered.
func (c *Contracts) Upcast(payload json.RawMessage, from, to string) (out json.RawMessage, err error) {
	fname, fv, err := ParseSchemaVersion(from)
	if err != nil {
		return nil, err
	}
	tname, tv, err := ParseSchemaVersion(to)
	if err != nil {
		return nil, err
	}
	if fname != tname {
		return nil, &ContractError{SchemaVersion: from, Problems: []string{fmt.Sprintf("cannot convert to a different schema %s", to)}}
	}
	if fv > tv {
		return nil, &ContractError{SchemaVersion: from, Problems: []string{fmt.Sprintf("consumer understands up to version %d; downcasting is not supported", tv)}}
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &ContractError{SchemaVersion: from, Problems: []string{fmt.Sprintf("upcaster panicked: %v", r)}}
		}
	}()
	out = payload
	for v := fv; v < tv; v++ {
		c.mu.RLock()
		up := c.upcasters[fname][v]
		next := c.schemas[SchemaVersion(fname, v+1)]
		c.mu.RUnlock()
		if up == nil {
			return nil, &ContractError{SchemaVersion: from, Problems: []string{fmt.Sprintf("no upcaster from version %d to %d", v, v+1)}}
		}
		if out, err = up(out); err != nil {
			return nil, &ContractError{SchemaVersion: from, Problems: []string{fmt.Sprintf("upcaster %d->%d: %v", v, v+1, err)}}
		}
		if !validJSON(out) {
			return nil, &ContractError{SchemaVersion: from, Problems: []string{fmt.Sprintf("upcaster %d->%d produced invalid JSON", v, v+1)}}
		}
		if next != nil {
			if problems := next.Validate(out); len(problems) > 0 {
				return nil, &ContractError{SchemaVersion: SchemaVersion(fname, v+1), Problems: problems}
			}
		}
	}
	return out, nil
}

// upcastFor returns env as the subscriber expects it: unchanged when the schema differs or
// the version already matches, otherwise a copy with the upcast payload and version.
func (c *Contracts) upcastFor(env *Envelope, accept string) (*Envelope, error) {
	ename, _, err := ParseSchemaVersion(env.SchemaVersion)
	if err != nil {
		return nil, err
	}
	aname, _, _ := ParseSchemaVersion(accept) // validated at subscribe
	if ename != aname {
		return env, nil
	}
	payload, err := c.Upcast(env.Payload, env.SchemaVersion, accept)
	if err != nil {
		return nil, err
	}
	up := *env
	up.Payload = payload
	up.SchemaVersion = accept
	return &up, nil
}

// HeaderContractVersions marks a message published in several schema versions side by side
// during a transition: it lists them ("1,2"). A subscriber that accepts version N of the
// same schema receives only the sibling that fits it best, the highest listed version up
// to N, and none of the others.
const HeaderContractVersions = "contract-versions"

// siblingVersion reports whether a sibling listed in vs fits a subscriber accepting accept
// better than the envelope's own version sv.
func siblingVersion(vs, sv, accept string) bool {
	name, v, err := ParseSchemaVersion(sv)
	if err != nil {
		return false
	}
	aname, av, _ := ParseSchemaVersion(accept)
	if aname != name {
		return false
	}
	best := 0
	for f := range strings.SplitSeq(vs, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n <= av && n > best {
			best = n
		}
	}
	return best > 0 && best != v
}
