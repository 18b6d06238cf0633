package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"mfelab/bus"
)

// A scenario file's contracts: section. It declares schema versions with their JSON
// Schemas, the bus's validation mode and which topics publish which version, and registers
// them on each run's bus through the bus's public registry (Contracts.Register), so the
// bus itself checks every publish that carries a version: a warning on the trace in warn
// mode, a rejection in strict mode.

type fileContracts struct {
	Pos      Pos
	Mode     tmpl           `yaml:"mode"`
	Versions []fileContract `yaml:"versions"`
}

type fileContract struct {
	Pos     Pos
	Version string   `yaml:"version"`
	Topics  []string `yaml:"topics"`
	Schema  *ynode   `yaml:"schema"`
	File    string   `yaml:"file"`
}

// contractSet is a compiled contracts: section, shared by every run of the scenario and
// never changed after compiling.
type contractSet struct {
	mode     tmpl
	versions []contractVersion
}

type contractVersion struct {
	version string
	topics  []string
	schema  []byte // JSON, read once when the file is loaded
}

// maxContractProblems bounds the problems a run keeps for checks to read.
const maxContractProblems = 20

// schemaExts are the files a contract's file: may name: schemas, nothing else.
var schemaExts = []string{".json", ".yaml", ".yml"}

// compileContracts checks the contracts: section, reads the schema files it names and
// compiles every schema, so a mistake in a schema shows when the file is loaded, not in
// the middle of a run.
func (c *compiler) compileContracts() {
	fc := c.doc.Contracts
	if fc == nil {
		return
	}
	cs := &contractSet{mode: fc.Mode}
	if fc.Mode.set {
		c.checkTmpl(fc.Mode, rootsSetup)
		if s, ok := fc.Mode.t.literal(); ok {
			if _, err := bus.ParseContractMode(s); err != nil {
				c.errAt(fc.Mode.pos, "contracts: %v", err)
			}
		}
	}
	if len(fc.Versions) == 0 {
		c.errAt(fc.Pos, "contracts: list the schema versions under versions:, each with version:, schema: or file:, and topics:")
	}
	if len(fc.Versions) > maxBlocks {
		c.errAt(fc.Pos, "contracts: %d versions; at most %d are allowed", len(fc.Versions), maxBlocks)
		return
	}
	for _, v := range fc.Versions {
		what := "contract " + v.Version
		if _, _, err := bus.ParseSchemaVersion(v.Version); err != nil {
			c.errAt(v.Pos, "a contract needs version: name@N, such as cart.item-added@2 (got %q)", v.Version)
			continue
		}
		if slices.ContainsFunc(cs.versions, func(x contractVersion) bool { return x.version == v.Version }) {
			c.errAt(v.Pos, "%s is declared twice", what)
			continue
		}
		for _, t := range v.Topics {
			if err := bus.ValidatePattern(t); err != nil {
				c.errAt(v.Pos, "%s: topic %q: %v", what, t, err)
			}
		}
		var doc []byte
		switch {
		case (v.Schema == nil) == (v.File == ""):
			c.errAt(v.Pos, "%s: give its JSON Schema inline with schema: or in a file with file:, one of them", what)
			continue
		case v.Schema != nil:
			doc = c.inlineSchema(v.Schema, what)
		default:
			doc = c.schemaFile(v.Pos, v.File, what)
		}
		if doc == nil {
			continue
		}
		if _, err := bus.CompileSchema(doc); err != nil {
			pos := v.Pos
			if v.Schema != nil {
				pos = v.Schema.pos
			}
			c.errAt(pos, "%s: %v", what, err)
			continue
		}
		cs.versions = append(cs.versions, contractVersion{version: v.Version, topics: v.Topics, schema: doc})
	}
	c.doc.contracts = cs
}

// inlineSchema is a schema written in the file: a mapping (YAML or JSON flow style) or
// text holding JSON. Its text is taken as written, never as a template.
func (c *compiler) inlineSchema(n *ynode, what string) []byte {
	switch n.kind {
	case yMap:
		b, err := json.Marshal(nodeJSON(n))
		if err != nil {
			c.errAt(n.pos, "%s: schema: %v", what, err)
			return nil
		}
		return b
	case yScalar:
		if s, ok := n.val.(string); ok && json.Valid([]byte(s)) {
			return []byte(s)
		}
	}
	c.errAt(n.pos, "%s: schema: want a JSON Schema (a mapping, or text holding a JSON object), got %s", what, n.describe())
	return nil
}

// schemaFile reads a schema from a file beside the scenario file or below its
// directory: a scenario file may make the lab read its own schemas and nothing else.
func (c *compiler) schemaFile(pos Pos, rel, what string) []byte {
	dir := filepath.Dir(c.p.name)
	switch {
	case filepath.IsAbs(rel) || !filepath.IsLocal(rel):
		c.errAt(pos, "%s: file %q: name a file in this scenario file's directory or below it, by a relative path without ..", what, rel)
		return nil
	case !slices.Contains(schemaExts, strings.ToLower(filepath.Ext(rel))):
		c.errAt(pos, "%s: file %q: a schema file ends in .json, .yaml or .yml", what, rel)
		return nil
	}
	data, err := readInside(dir, rel)
	if err != nil {
		c.errAt(pos, "%s: file %q: %v", what, rel, err)
		return nil
	}
	if strings.ToLower(filepath.Ext(rel)) == ".json" {
		return data
	}
	// A YAML schema file is read as carefully as a scenario file, and its mistakes are
	// reported at their place in it.
	sp := &fileParser{name: filepath.Join(dir, rel)}
	root := sp.parseYAML(data)
	c.p.errs = append(c.p.errs, sp.errs...)
	if root == nil {
		return nil
	}
	if root.kind != yMap {
		c.errAt(pos, "%s: file %q holds %s, not a JSON Schema object", what, rel, root.describe())
		return nil
	}
	b, err := json.Marshal(nodeJSON(root))
	if err != nil {
		c.errAt(pos, "%s: file %q: %v", what, rel, err)
		return nil
	}
	return b
}

// readInside reads rel below dir through an os.Root, which refuses any way out of dir,
// symbolic links included.
func readInside(dir, rel string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("a schema file may have at most %d bytes", MaxFileSize)
	}
	return data, nil
}

// nodeJSON is a YAML value as plain JSON data, with no template evaluated.
func nodeJSON(n *ynode) any {
	switch n.kind {
	case yMap:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k.text] = nodeJSON(n.vals[i])
		}
		return m
	case yList:
		l := make([]any, len(n.items))
		for i, it := range n.items {
			l[i] = nodeJSON(it)
		}
		return l
	case yScalar:
		return n.val
	}
	return nil
}

// has reports whether a version is declared.
func (cs *contractSet) has(version string) bool {
	return cs != nil && slices.ContainsFunc(cs.versions, func(v contractVersion) bool { return v.version == version })
}

// matching lists the versions whose topics match topic, in file order.
func (cs *contractSet) matching(topic string) []string {
	if cs == nil {
		return nil
	}
	var out []string
	for _, v := range cs.versions {
		if slices.ContainsFunc(v.topics, func(p string) bool { return bus.MatchTopic(p, topic) }) {
			out = append(out, v.version)
		}
	}
	return out
}

// checkPublishContract checks a publish's contract: against the declared versions and,
// for a topic written out, that it names one where several versions share the topic.
func (c *compiler) checkPublishContract(p *filePublish) {
	cs := c.doc.contracts
	if p.Contract != "" {
		if !cs.has(p.Contract) {
			c.errAt(p.Pos, "publish: contract %q is not declared under contracts: versions:", p.Contract)
		}
		return
	}
	if topic, ok := p.Topic.t.literal(); ok && p.Topic.set {
		if vs := cs.matching(topic); len(vs) > 1 {
			c.errAt(p.Pos, "publish %s: the topic carries %s; say which with contract:", topic, strings.Join(vs, " and "))
		}
	}
}

// contractRun is what one run knows of its contracts: which versions its publishes carry
// and what the bus has reported about them.
type contractRun struct {
	set  *contractSet
	mode bus.ContractMode

	mu                 sync.Mutex // the tap may run on any goroutine that publishes
	warnings, rejected int
	problems           []any
}

// setupContracts registers the file's schemas on the run's bus, sets its mode and starts
// counting what the bus reports.
func (fr *fileRun) setupContracts() error {
	cs := fr.doc.contracts
	if cs == nil {
		return nil
	}
	cr := &contractRun{set: cs, mode: bus.ContractStrict}
	if cs.mode.set {
		s, err := fr.text(cs.mode, scope{}, true)
		if err != nil {
			return err
		}
		if cr.mode, err = bus.ParseContractMode(s); err != nil {
			return &FileError{File: fr.name, Line: cs.mode.pos.Line, Col: cs.mode.pos.Col, Msg: "contracts: " + err.Error()}
		}
	}
	reg := fr.r.Bus.Contracts()
	for _, v := range cs.versions {
		if err := reg.Register(v.version, v.schema); err != nil {
			return err
		}
	}
	reg.SetMode(cr.mode)
	fr.r.Bus.Tap(func(e bus.TraceEvent) {
		switch {
		case e.Kind == bus.TraceContractWarning:
			cr.note(&cr.warnings, e)
		case e.Kind == bus.TraceRejected && errors.Is(e.Err, bus.ErrContract):
			cr.note(&cr.rejected, e)
		}
	})
	fr.contracts = cr
	return nil
}

func (cr *contractRun) note(count *int, e bus.TraceEvent) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	*count++
	if len(cr.problems) < maxContractProblems {
		cr.problems = append(cr.problems, e.Topic+" from "+e.App+": "+e.Reason)
	}
}

// schemaVersion is the version a publish to topic carries: the one it names, else the
// one version whose topics match, else none.
func (fr *fileRun) schemaVersion(topic, named string) (string, error) {
	if named != "" || fr.contracts == nil {
		return named, nil
	}
	vs := fr.contracts.set.matching(topic)
	if len(vs) > 1 {
		return "", fmt.Errorf("publish %s: the topic carries %s; name one with contract: on the publish", topic, strings.Join(vs, " and "))
	}
	if len(vs) == 1 {
		return vs[0], nil
	}
	return "", nil
}

// contractsView is what checks read as contracts: the mode and what the bus reported.
func (fr *fileRun) contractsView() *object {
	o := newObject()
	cr := fr.contracts
	if cr == nil {
		o.set("mode", bus.ContractOff.String())
		o.set("warnings", 0.0)
		o.set("rejected", 0.0)
		o.set("problems", []any{})
		return o
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	o.set("mode", cr.mode.String())
	o.set("warnings", float64(cr.warnings))
	o.set("rejected", float64(cr.rejected))
	o.set("problems", slices.Clone(cr.problems))
	return o
}
