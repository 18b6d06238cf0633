package asyncapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// document is one AsyncAPI document as read: its application, channels and operations,
// with every reference resolved inside the document.
type document struct {
	r    *reader
	root *node

	title, description string
	app                string
	appPos             pos
	channels           []*channel
	operations         []*operation
}

type channel struct {
	id      string
	pos     pos
	node    *node
	address string // "" when the document leaves it open
	params  map[string]*node
	msgs    []*chanMsg
}

// chanMsg is a message of a channel: the key it has there and the message it names.
type chanMsg struct {
	key  string
	node *node // the message object, references resolved
	ref  string
	pos  pos
}

type operation struct {
	id     string
	pos    pos
	send   bool
	ch     *channel
	msgs   []*chanMsg
	hasRep bool
}

// maxRefHops bounds a chain of references to references.
const maxRefHops = 32

// readDocument reads one document's application, channels and operations. Mistakes go
// to the reader's errors; what can be read is returned even then, so one run reports as
// many mistakes as it can.
func readDocument(r *reader, root *node) *document {
	d := &document{r: r, root: root}
	if root.kind != kMap {
		r.errAt(root.pos, "an AsyncAPI document is a mapping with asyncapi:, info:, channels: and operations:, not %s", root.describe())
		return nil
	}
	v := root.get("asyncapi")
	switch {
	case v == nil:
		r.errAt(root.pos, "this is not an AsyncAPI document: it has no asyncapi: version (want asyncapi: 3.0.0)")
		return nil
	case !strings.HasPrefix(v.str(), "3."):
		r.errAt(v.pos, "asyncapi: %s; only AsyncAPI 3 documents are read (the AsyncAPI CLI converts older ones: asyncapi convert)", v.str())
		return nil
	}
	info := root.get("info")
	if info == nil || info.kind != kMap {
		r.errAt(root.pos, "the document has no info: with a title: naming its application")
		return nil
	}
	t := info.get("title")
	if t == nil || strings.TrimSpace(t.str()) == "" {
		r.errAt(info.pos, "info: has no title: naming the application")
		return nil
	}
	d.title, d.appPos = strings.TrimSpace(t.str()), t.pos
	if ds := info.get("description"); ds != nil {
		d.description = ds.str()
	}
	d.app = appName(d.title)
	if d.app == "" {
		r.errAt(t.pos, "info: title %q gives no app name; start it with a letter", d.title)
	}
	d.readChannels()
	d.readOperations()
	return d
}

func (d *document) readChannels() {
	chs := d.root.get("channels")
	if chs == nil || chs.kind == kNull {
		return
	}
	if chs.kind != kMap {
		d.r.errAt(chs.pos, "channels: want a mapping of channel ids, got %s", chs.describe())
		return
	}
	for i, id := range chs.keys {
		n, _ := d.resolve(chs.vals[i])
		if n == nil {
			continue
		}
		if n.kind != kMap {
			d.r.errAt(chs.vals[i].pos, "channel %s: want a mapping with address: and messages:, got %s", id, n.describe())
			continue
		}
		c := &channel{id: id, pos: chs.kpos[i], node: n, params: map[string]*node{}}
		if a := n.get("address"); a != nil && a.kind != kNull {
			if a.kind != kScalar || a.str() == "" {
				d.r.errAt(a.pos, "channel %s: address: want text such as cart/{cartId}/items, got %s", id, a.describe())
				continue
			}
			c.address = a.str()
		}
		if ps := n.get("parameters"); ps != nil && ps.kind == kMap {
			for j, name := range ps.keys {
				if p, _ := d.resolve(ps.vals[j]); p != nil {
					c.params[name] = p
				}
			}
		}
		if ms := n.get("messages"); ms != nil && ms.kind != kNull {
			if ms.kind != kMap {
				d.r.errAt(ms.pos, "channel %s: messages: want a mapping of message ids, got %s", id, ms.describe())
			} else {
				for j, key := range ms.keys {
					m, ref := d.resolve(ms.vals[j])
					if m == nil {
						continue
					}
					if m.kind != kMap {
						d.r.errAt(ms.vals[j].pos, "channel %s message %s: want a message (a mapping with payload:), got %s", id, key, m.describe())
						continue
					}
					c.msgs = append(c.msgs, &chanMsg{key: key, node: m, ref: ref, pos: ms.kpos[j]})
				}
			}
		}
		d.channels = append(d.channels, c)
	}
}

func (d *document) readOperations() {
	ops := d.root.get("operations")
	if ops == nil || ops.kind == kNull {
		return
	}
	if ops.kind != kMap {
		d.r.errAt(ops.pos, "operations: want a mapping of operation ids, got %s", ops.describe())
		return
	}
	for i, id := range ops.keys {
		n, _ := d.resolve(ops.vals[i])
		if n == nil {
			continue
		}
		if n.kind != kMap {
			d.r.errAt(ops.vals[i].pos, "operation %s: want a mapping with action: and channel:, got %s", id, n.describe())
			continue
		}
		op := &operation{id: id, pos: ops.kpos[i], hasRep: n.get("reply") != nil}
		switch a := n.get("action"); {
		case a == nil:
			d.r.errAt(op.pos, "operation %s has no action:; say send or receive", id)
			continue
		case a.str() == "send":
			op.send = true
		case a.str() == "receive":
		default:
			d.r.errAt(a.pos, "operation %s: action %q; an operation's action is send or receive", id, a.str())
			continue
		}
		cref := n.get("channel")
		if cref == nil || cref.get("$ref") == nil {
			d.r.errAt(op.pos, "operation %s: channel: want a $ref to one of the document's channels, such as $ref: '#/channels/cartItems'", id)
			continue
		}
		target, _ := d.resolve(cref)
		if target == nil {
			continue
		}
		for _, c := range d.channels {
			if c.node == target {
				op.ch = c
			}
		}
		if op.ch == nil {
			d.r.errAt(cref.pos, "operation %s: channel: %s is not one of the document's channels:", id, cref.get("$ref").str())
			continue
		}
		op.msgs = op.ch.msgs
		if ms := n.get("messages"); ms != nil && ms.kind != kNull {
			op.msgs = nil
			if ms.kind != kList {
				d.r.errAt(ms.pos, "operation %s: messages: want a list of $ref to the channel's messages, got %s", id, ms.describe())
				continue
			}
			for _, it := range ms.items {
				m, _ := d.resolve(it)
				if m == nil {
					continue
				}
				i := slices.IndexFunc(op.ch.msgs, func(cm *chanMsg) bool { return cm.node == m })
				if i < 0 {
					d.r.errAt(it.pos, "operation %s: a message it lists is not one of channel %s's messages", id, op.ch.id)
					continue
				}
				op.msgs = append(op.msgs, op.ch.msgs[i])
			}
		}
		d.operations = append(d.operations, op)
	}
}

// resolve follows n's $ref, and the references it leads to, to what they name. The key
// is the last segment of the last reference followed ("" without one). A reference that
// leads nowhere is reported and gives nil.
func (d *document) resolve(n *node) (*node, string) {
	key := ""
	var seen []string
	for hops := 0; n != nil && n.kind == kMap; hops++ {
		ref := n.get("$ref")
		if ref == nil {
			return n, key
		}
		p := ref.str()
		if hops >= maxRefHops || slices.Contains(seen, p) {
			d.r.errAt(ref.pos, "$ref %q: the references go round in a circle", p)
			return nil, ""
		}
		seen = append(seen, p)
		target, k, err := d.pointer(p)
		if err != nil {
			d.r.errAt(ref.pos, "$ref %q: %v", p, err)
			return nil, ""
		}
		n, key = target, k
	}
	return n, key
}

// pointer finds what a local reference (#/a/b) names in the document.
func (d *document) pointer(ref string) (*node, string, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, "", fmt.Errorf("only references inside the document (#/...) are read, so reading it never reads another file; copy what it names into this document's components")
	}
	if frag == "" {
		return d.root, "", nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, "", fmt.Errorf("want a JSON pointer such as #/components/schemas/Money")
	}
	n, key := d.root, ""
	for seg := range strings.SplitSeq(frag[1:], "/") {
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		key = seg
		switch n.kind {
		case kMap:
			next := n.get(seg)
			if next == nil {
				return nil, "", fmt.Errorf("nothing is named %q there", seg)
			}
			n = next
		case kList:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n.items) {
				return nil, "", fmt.Errorf("no item %q there", seg)
			}
			n = n.items[i]
		default:
			return nil, "", fmt.Errorf("%q is inside %s", seg, n.describe())
		}
	}
	return n, key, nil
}
