package asyncapi

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"mfelab/bus"
)

// Source is one AsyncAPI document: the name mistakes and the output call it by, and its
// bytes.
type Source struct {
	Name string
	Data []byte
}

// Options name the scenario written.
type Options struct {
	ID    string // the scenario's id (letters, digits, - and _); asyncapi when empty
	Title string // its title; made from the apps' titles when empty
}

// contract is one message's payload schema, as it will be registered.
type contract struct {
	key        string // the message's name in the lab's style: item-added
	name       string // as the documents write it: ItemAdded
	version    string // name@N
	schema     any
	canon      string
	owner      *document // whose copy is the contract
	ownerSends bool
	payload    *node // the owner's payload schema, for a made-up example
	where      string
	at         pos
	topics     []string
	examples   []any
}

// example is one message an app sends, published once by the timeline.
type example struct {
	app, topic, name string
	c                *contract
	payload          any
	hasPayload       bool
	why              string // why it is left out, when it is
}

type reaction struct {
	app, on, op, where string
}

type importer struct {
	opts      Options
	errs      Errors
	notes     []string
	docs      []*document
	maps      []*topicMapping
	mapOf     map[*channel]*topicMapping
	contracts []*contract
	byKey     map[string]*contract
	examples  []*example
	reactions []*reaction
	acl       map[*document]*[2][]string
}

// Import reads AsyncAPI 3.0 documents, one per application, and writes a scenario file
// that joins them on one bus. Mistakes in the documents are Errors, every one of them
// with its place.
func Import(srcs []Source, opts Options) ([]byte, error) {
	im := &importer{opts: opts, mapOf: map[*channel]*topicMapping{}, byKey: map[string]*contract{}, acl: map[*document]*[2][]string{}}
	if len(srcs) == 0 {
		return nil, Errors{{File: "mfelab import-asyncapi", Msg: "give one AsyncAPI document per application"}}
	}
	if len(srcs) > maxDocuments {
		return nil, Errors{{File: srcs[maxDocuments].Name, Msg: fmt.Sprintf("%d documents; a scenario holds at most %d apps", len(srcs), maxDocuments)}}
	}
	if opts.ID != "" && !validID(opts.ID) {
		return nil, Errors{{File: "mfelab import-asyncapi", Msg: fmt.Sprintf("id %q: use letters, digits, - and _ only, starting with a letter", opts.ID)}}
	}
	apps := map[string]*document{}
	for _, s := range srcs {
		r := &reader{file: s.Name, errs: &im.errs}
		root := r.parse(s.Data)
		if root == nil {
			continue
		}
		d := readDocument(r, root)
		if d == nil || d.app == "" {
			continue
		}
		if other := apps[d.app]; other != nil {
			r.errAt(d.appPos, "info: title %q gives app %s, as %s does; give one of them another title", d.title, d.app, other.r.file)
			continue
		}
		apps[d.app] = d
		im.docs = append(im.docs, d)
		im.acl[d] = &[2][]string{}
	}
	if len(im.errs) > 0 {
		return nil, im.errs
	}
	for _, d := range im.docs {
		im.operations(d)
	}
	if len(im.errs) > 0 {
		return nil, im.errs
	}
	im.name()
	im.compile()
	if len(im.errs) > 0 {
		return nil, im.errs
	}
	im.pickExamples()
	if err := im.withinLimits(); err != nil {
		return nil, err
	}
	return im.write(), nil
}

// Limits of a scenario file (docs/scenario-format.md) the importer writes against, so
// documents too big for one scenario are refused with what to do rather than with the
// loader's complaint about a file the user never wrote.
const (
	maxContracts = 64
	maxEntries   = 256 // timeline entries, and reactions
)

func (im *importer) withinLimits() error {
	first := im.docs[0].r.file
	n := 0
	for _, c := range im.contracts {
		if c.version != "" {
			n++
		}
	}
	switch {
	case n > maxContracts:
		return Errors{{File: first, Msg: fmt.Sprintf("the documents have %d messages with payloads; a scenario holds at most %d contracts: import fewer documents at a time", n, maxContracts)}}
	case len(im.examples) > maxEntries:
		return Errors{{File: first, Msg: fmt.Sprintf("the documents send %d messages; a scenario's timeline holds at most %d: import fewer documents at a time", len(im.examples), maxEntries)}}
	case len(im.reactions) > maxEntries:
		return Errors{{File: first, Msg: fmt.Sprintf("the documents receive on %d channels; a scenario holds at most %d reactions: import fewer documents at a time", len(im.reactions), maxEntries)}}
	}
	return nil
}

func validID(s string) bool {
	return s != "" && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') && bus.ValidateTopic(s) == nil && !strings.Contains(s, ".")
}

func (im *importer) note(format string, args ...any) {
	im.notes = append(im.notes, fmt.Sprintf(format, args...))
}

func where(d *document, p pos) string { return fmt.Sprintf("%s:%d:%d", d.r.file, p.line, p.col) }

// mapping is a channel's topics, made once.
func (im *importer) mapping(d *document, c *channel) *topicMapping {
	if m, ok := im.mapOf[c]; ok {
		return m
	}
	addr := c.address
	if addr == "" {
		addr = c.id
		im.note("%s's channel %s has no address; its id %s is used as one", d.app, c.id, c.id)
	}
	m, err := mapAddress(addr, c.params)
	if err != nil {
		d.r.errAt(c.pos, "channel %s: %v", c.id, err)
		im.mapOf[c] = nil
		return nil
	}
	for i, have := range im.maps {
		if have.address == m.address {
			im.mapOf[c] = im.maps[i]
			return im.maps[i]
		}
	}
	im.maps = append(im.maps, &m)
	im.mapOf[c] = &m
	return &m
}

func addOnce(l *[]string, s string) {
	if !slices.Contains(*l, s) {
		*l = append(*l, s)
	}
}

func (im *importer) operations(d *document) {
	used := map[*channel]bool{}
	for _, op := range d.operations {
		used[op.ch] = true
		m := im.mapping(d, op.ch)
		if m == nil {
			continue
		}
		if op.hasRep {
			im.note("%s's operation %s has a reply:; request and reply are not imported (the lab's RPC is calls: and reply reactions)", d.app, op.id)
		}
		acl := im.acl[d]
		if op.send {
			addOnce(&acl[0], m.pattern)
		} else {
			addOnce(&acl[1], m.pattern)
			if !slices.ContainsFunc(im.reactions, func(r *reaction) bool { return r.app == d.app && r.on == m.pattern }) {
				im.reactions = append(im.reactions, &reaction{app: d.app, on: m.pattern, op: op.id, where: where(d, op.pos)})
			}
		}
		if len(op.msgs) == 0 {
			im.note("%s's operation %s: channel %s declares no messages, so nothing it carries is checked", d.app, op.id, op.ch.id)
		}
		for _, cm := range op.msgs {
			c, name := im.contract(d, cm, op.send)
			if c != nil {
				addOnce(&c.topics, m.pattern)
			}
			if op.send && !slices.ContainsFunc(im.examples, func(e *example) bool { return e.app == d.app && e.topic == m.example && e.name == name }) {
				im.examples = append(im.examples, &example{app: d.app, topic: m.example, name: name, c: c})
			}
		}
	}
	for _, c := range d.channels {
		if !used[c] {
			im.note("%s's channel %s is in no operation of its document, so it is left out", d.app, c.id)
		}
	}
}

// contract finds or makes the contract of a message one app sends or receives. Copies of
// one message in several documents make one contract: the copy of the app that sends it.
func (im *importer) contract(d *document, cm *chanMsg, send bool) (*contract, string) {
	name := cm.node.get("name").str()
	if name == "" {
		name = cm.ref
	}
	if name == "" {
		name = cm.key
	}
	key := kebab(name, true)
	if key == "" {
		d.r.errAt(cm.pos, "message %q: its name gives no contract name; name it with letters", name)
		return nil, name
	}
	pl := cm.node.get("payload")
	if pl == nil || pl.kind == kNull {
		im.note("%s's message %s has no payload schema, so it carries no contract", d.app, name)
		return nil, name
	}
	if f := pl.get("schemaFormat"); f != nil {
		if !jsonSchemaFormat(f.str()) {
			d.r.errAt(f.pos, "message %s: schemaFormat %q; only AsyncAPI and JSON Schema payloads can become contracts", name, f.str())
			return nil, name
		}
		pl = pl.get("schema")
		if pl == nil {
			d.r.errAt(cm.pos, "message %s: a payload with schemaFormat: holds its schema under schema:", name)
			return nil, name
		}
	}
	schema, ok := d.schema(pl)
	if !ok {
		return nil, name
	}
	var examples []any
	if exs := cm.node.get("examples"); exs != nil && exs.kind == kList {
		for _, ex := range exs.items {
			if p := ex.get("payload"); p != nil {
				examples = append(examples, data(p))
			}
		}
	}
	canon := canonical(schema)
	c := im.byKey[key]
	if c == nil {
		c = &contract{key: key, name: name, schema: schema, canon: canon, owner: d, ownerSends: send, payload: pl, where: where(d, pl.pos), at: pl.pos, examples: examples}
		im.byKey[key] = c
		im.contracts = append(im.contracts, c)
		return c, name
	}
	switch {
	case c.canon == canon:
		if send && !c.ownerSends {
			c.owner, c.ownerSends, c.payload, c.where, c.at = d, true, pl, where(d, pl.pos), pl.pos
		}
		c.examples = append(c.examples, examples...)
	case send && c.ownerSends && c.owner != d:
		d.r.errAt(pl.pos, "message %s: %s sends it with another payload schema than %s does (%s); one message has one contract: make them equal or rename one",
			name, d.app, c.owner.app, c.where)
	case send && c.owner != d:
		im.note("%s's own copy of %s (%s) differs from %s's; %s sends it, so its schema is the contract", c.owner.app, name, c.where, d.app, d.app)
		c.schema, c.canon, c.owner, c.ownerSends, c.payload, c.where, c.at = schema, canon, d, true, pl, where(d, pl.pos), pl.pos
		c.examples = append(examples, c.examples...)
	case c.owner != d:
		im.note("%s's own copy of %s (%s) differs from %s's; %s's is the contract", d.app, name, where(d, pl.pos), c.owner.app, c.owner.app)
	default:
		d.r.errAt(pl.pos, "message %s: this document gives it two payload schemas; one message has one contract", name)
	}
	return c, name
}

// jsonSchemaFormat reports whether a payload's schemaFormat is one whose schemas are JSON
// Schemas: AsyncAPI's own or JSON Schema's.
func jsonSchemaFormat(f string) bool {
	f = strings.ToLower(strings.TrimSpace(f))
	return strings.HasPrefix(f, "application/vnd.aai.asyncapi") || strings.HasPrefix(f, "application/schema+json") ||
		strings.HasPrefix(f, "application/schema+yaml")
}

// name gives each contract its schema version: the sender's app before the message's
// name (cart.item-added@1), or the name alone when it has dots already. AsyncAPI gives
// messages no version of their own, so every contract starts at 1.
func (im *importer) name() {
	taken := map[string]*contract{}
	for _, c := range im.contracts {
		n := c.key
		if !strings.Contains(n, ".") {
			n = c.owner.app + "." + n
		}
		c.version = bus.SchemaVersion(n, 1)
		if _, _, err := bus.ParseSchemaVersion(c.version); err != nil {
			c.owner.r.errAt(c.at, "message %s: contract name %s: %v", c.name, c.version, err)
			continue
		}
		if other := taken[c.version]; other != nil {
			c.owner.r.errAt(c.at, "message %s and message %s (%s) both become contract %s; rename one", c.name, other.name, other.where, c.version)
		}
		taken[c.version] = c
	}
}

// compile checks each contract compiles as the bus will compile it. A bus that does not
// check format gets the schema without it, and the file says so.
func (im *importer) compile() {
	for _, c := range im.contracts {
		if c.version == "" {
			continue
		}
		_, err := bus.CompileSchema(jsonOf(c.schema))
		if err == nil {
			continue
		}
		if bare, had := withoutFormat(c.schema); had {
			if _, err2 := bus.CompileSchema(jsonOf(bare)); err2 == nil {
				c.schema = bare
				im.note("%s: format is not checked by the bus's contracts, so it is left out of the schema", c.version)
				continue
			}
		}
		c.owner.r.errAt(c.at, "message %s: its payload schema cannot be a contract: %v", c.name, err)
	}
}

// pickExamples chooses each example's payload: the first example in the documents that
// keeps the contract, else one made up from the schema, else none and the timeline entry
// stays a comment.
func (im *importer) pickExamples() {
	for _, e := range im.examples {
		if e.c == nil {
			e.hasPayload = false
			continue
		}
		s, err := bus.CompileSchema(jsonOf(e.c.schema))
		if err != nil {
			e.why = "its schema does not compile"
			continue
		}
		var broken []string
		for _, ex := range e.c.examples {
			if p := s.Validate(jsonOf(ex)); len(p) == 0 {
				e.payload, e.hasPayload = ex, true
				break
			} else if len(broken) == 0 {
				broken = p
			}
		}
		if e.hasPayload {
			continue
		}
		if len(broken) > 0 {
			im.note("%s: the documents' example breaks its own schema: %s", e.c.version, strings.Join(broken, "; "))
		}
		made := e.c.owner.sample(e.c.payload, 0)
		if p := s.Validate(jsonOf(made)); len(p) == 0 {
			e.payload, e.hasPayload = made, true
			continue
		}
		e.why = "no example in the documents keeps the schema, and none could be made up: write one"
	}
}

// active are the examples the timeline publishes.
func (im *importer) active() []*example {
	var out []*example
	for _, e := range im.examples {
		if e.why == "" {
			out = append(out, e)
		}
	}
	return out
}

// horizon is how long a run lasts: the examples, 100ms apart, then a second for what
// they set off.
func (im *importer) horizon() time.Duration {
	return time.Duration(len(im.examples)+1)*100*time.Millisecond + time.Second
}
