package bus

// trie indexes subscriptions by pattern, one node per segment, with dedicated children for
// `+` and `#`, so matching a topic costs O(depth) map lookups however many subscriptions
// exist. It is not safe for concurrent use; the bus guards it with its mutex.
type trie struct {
	root  trieNode
	count int
	// routes caches match results by topic. Every insert and remove bumps gen, which makes
	// every cached route stale at once without touching the map; a stale route is
	// recomputed into its own buffer on its next use. Real buses publish to a small set of
	// topics over and over, so most publishes cost one map lookup instead of a walk.
	routes map[string]route
	gen    uint64
}

// route is one cached match result, valid while its gen equals the trie's.
type route struct {
	gen  uint64
	subs []*Subscription
}

// maxRoutes bounds the route cache; past it the cache starts over, so a stream of unique
// topics (reply inboxes, say) costs a bounded amount of memory.
const maxRoutes = 1024

type trieNode struct {
	parent *trieNode
	key    string // the segment that leads here from parent ("+" and "#" included)
	lits   map[string]*trieNode
	plus   *trieNode
	hash   *trieNode
	subs   []*Subscription // subscriptions whose pattern ends exactly here
}

// insert adds s under its pattern, which must be valid.
func (t *trie) insert(s *Subscription) {
	n := &t.root
	for p := 0; p <= len(s.pattern); {
		seg, next := nextSeg(s.pattern, p)
		n = n.child(seg)
		p = next
	}
	n.subs = append(n.subs, s)
	t.count++
	t.gen++
}

// child returns the child for seg, creating it.
func (n *trieNode) child(seg string) *trieNode {
	switch seg {
	case "+":
		if n.plus == nil {
			n.plus = &trieNode{parent: n, key: seg}
		}
		return n.plus
	case "#":
		if n.hash == nil {
			n.hash = &trieNode{parent: n, key: seg}
		}
		return n.hash
	}
	c := n.lits[seg]
	if c == nil {
		if n.lits == nil {
			n.lits = make(map[string]*trieNode)
		}
		c = &trieNode{parent: n, key: seg}
		n.lits[seg] = c
	}
	return c
}

// remove deletes s and prunes nodes left empty, so a subscribe/unsubscribe cycle leaves no
// trace. It reports whether s was present.
func (t *trie) remove(s *Subscription) bool {
	n := &t.root
	for p := 0; p <= len(s.pattern); {
		seg, next := nextSeg(s.pattern, p)
		switch seg {
		case "+":
			n = n.plus
		case "#":
			n = n.hash
		default:
			n = n.lits[seg]
		}
		if n == nil {
			return false
		}
		p = next
	}
	i := indexOf(n.subs, s)
	if i < 0 {
		return false
	}
	// keep subscription order: handlers run in subscription order
	copy(n.subs[i:], n.subs[i+1:])
	n.subs[len(n.subs)-1] = nil
	n.subs = n.subs[:len(n.subs)-1]
	t.count--
	t.gen++
	for n.parent != nil && n.empty() {
		p := n.parent
		switch n.key {
		case "+":
			p.plus = nil
		case "#":
			p.hash = nil
		default:
			delete(p.lits, n.key)
			if len(p.lits) == 0 {
				p.lits = nil
			}
		}
		n = p
	}
	return true
}

func (n *trieNode) empty() bool {
	return len(n.subs) == 0 && len(n.lits) == 0 && n.plus == nil && n.hash == nil
}

func indexOf(subs []*Subscription, s *Subscription) int {
	for i, x := range subs {
		if x == s {
			return i
		}
	}
	return -1
}

// route returns the subscriptions matching topic (a valid topic) in subscription order,
// like match, from the route cache where it can. The slice belongs to the cache: the
// caller may read it until its next call into the trie, and must not change it.
func (t *trie) route(topic string) []*Subscription {
	r, ok := t.routes[topic]
	if ok && r.gen == t.gen {
		return r.subs
	}
	if !ok && len(t.routes) >= maxRoutes {
		clear(t.routes)
	}
	if t.routes == nil {
		t.routes = make(map[string]route)
	}
	// Recompute into a new buffer: a route once returned is never changed, so the queue
	// can hold it for the deliveries of a publish still to be made (see fanout). Routes
	// are recomputed only after a subscription comes or goes.
	r = route{gen: t.gen, subs: t.match(topic, make([]*Subscription, 0, len(r.subs)))}
	t.routes[topic] = r
	return r.subs
}

// match appends to out every subscription whose pattern matches topic (a valid topic) and
// returns it sorted by subscription id, which is subscription order.
func (t *trie) match(topic string, out []*Subscription) []*Subscription {
	start := len(out)
	out = t.root.match(topic, 0, out)
	sortByID(out[start:])
	return out
}

func (n *trieNode) match(topic string, p int, out []*Subscription) []*Subscription {
	if n.hash != nil {
		// `#` matches the rest of the topic, including nothing.
		out = append(out, n.hash.subs...)
	}
	if p > len(topic) {
		return append(out, n.subs...)
	}
	seg, next := nextSeg(topic, p)
	if c := n.lits[seg]; c != nil {
		out = c.match(topic, next, out)
	}
	if n.plus != nil {
		out = n.plus.match(topic, next, out)
	}
	return out
}

// sortByID is an insertion sort: match results are short and nearly sorted.
func sortByID(s []*Subscription) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].id < s[j-1].id; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// countPattern returns how many subscriptions are registered under exactly this pattern.
func (t *trie) countPattern(pattern string) int {
	n := &t.root
	for p := 0; p <= len(pattern); {
		seg, next := nextSeg(pattern, p)
		switch seg {
		case "+":
			n = n.plus
		case "#":
			n = n.hash
		default:
			n = n.lits[seg]
		}
		if n == nil {
			return 0
		}
		p = next
	}
	return len(n.subs)
}
