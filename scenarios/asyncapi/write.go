package asyncapi

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"mfelab/bus"
)

// write renders the scenario file. Everything in it follows the documents' order, so
// the same documents give the same file, byte for byte.
func (im *importer) write() []byte {
	var b strings.Builder
	pw := yamlWriter{b: &b, escaping: true}
	sw := yamlWriter{b: &b}
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	// comment writes a comment line; text from the documents in it is kept on the line.
	comment := func(format string, args ...any) { b.WriteString(oneLine(fmt.Sprintf(format, args...)) + "\n") }

	line("# Written by mfelab import-asyncapi from AsyncAPI documents, one per app:")
	for _, d := range im.docs {
		comment("#   %-32s %s -> app %s", d.r.file, d.title, d.app)
	}
	line("#")
	line("# Channel addresses became topics: / and . separate segments, and a {parameter} is + in")
	line("# the apps' ACLs and reactions and an example value where the timeline publishes.")
	for _, m := range im.maps {
		ex := ""
		if m.example != m.pattern {
			ex = " (published as " + m.example + ")"
		}
		comment("#   %-32s -> %s%s", m.address, m.pattern, ex)
		for _, n := range m.notes {
			comment("#     %s", n)
		}
	}
	line("#")
	line("# Send operations are what an app may publish, receive operations what it may subscribe")
	line("# to, and each message's payload schema is a contract the bus checks on every publish.")
	line("# The timeline sends one example of each message; each app that receives a channel")
	line("# counts what it hears: add what it does under reactions:.")
	if len(im.notes) > 0 {
		line("#")
		line("# Notes:")
		for _, n := range im.notes {
			comment("#   - %s", n)
		}
	}

	id := im.opts.ID
	if id == "" {
		id = "asyncapi"
	}
	title := im.opts.Title
	if title == "" {
		var ts []string
		for _, d := range im.docs {
			ts = append(ts, d.title)
		}
		title = "AsyncAPI: " + joinWords(ts)
	}
	line("id: %s", id)
	line("title: %s", sw.text(title))
	line("watch: >-")
	line("  Each app sends one example of every message its AsyncAPI document sends, and the bus")
	line("  checks each payload against its message's schema. Make a payload under timeline: break")
	line("  its schema to see the contract hold: in strict mode the publish is rejected, in warn")
	line("  mode it goes through with a contract warning.")
	line("horizon: %s", im.horizon())
	line("knobs:")
	line("  - name: contract-mode")
	line("    label: Contract mode")
	line("    kind: choice")
	line("    choices: [warn, strict]")
	line("    default: strict")
	line("    help: what the bus does with a payload that breaks its contract")

	line("apps:")
	for _, d := range im.docs {
		line("  - name: %s", d.app)
		line("    title: %s", sw.text(d.title))
		if role := firstLine(d.description, 100); role != "" {
			line("    role: %s", sw.text(role))
		}
		acl := im.acl[d]
		if len(acl[0]) > 0 {
			line("    publish: %s", pw.flow(strs(acl[0])))
		}
		if len(acl[1]) > 0 {
			line("    subscribe: %s", pw.flow(strs(acl[1])))
		}
	}

	var named []*contract
	for _, c := range im.contracts {
		if c.version != "" {
			named = append(named, c)
		}
	}
	if len(named) > 0 {
		line("contracts:")
		line("  mode: ${knob.contract-mode}")
		line("  versions:")
	}
	for _, c := range named {
		comment("    # %s, from %s", c.name, c.where)
		line("    - version: %s", sw.text(c.version))
		line("      topics: %s", sw.flow(strs(c.topics)))
		b.WriteString("      schema:")
		sw.value(c.schema, 6, 13)
	}

	if len(im.reactions) > 0 {
		line("reactions:")
	}
	stubbed := map[string]bool{}
	for _, r := range im.reactions {
		comment("  # %s receives %s (operation %s, %s)", r.app, r.on, r.op, r.where)
		line("  - app: %s", r.app)
		line("    on: %s", sw.text(r.on))
		line("    do:")
		line("      - add: {received: 1}")
		line(`      - set: {last: "${msg.contract} from ${msg.source}"}`)
		var sends []*example
		for _, e := range im.active() {
			if e.app == r.app {
				sends = append(sends, e)
			}
		}
		if stubbed[r.app] {
			line("      # What %s does next: see its first reaction above.", r.app)
			continue
		}
		stubbed[r.app] = true
		if len(sends) == 0 {
			line("      # What %s does next, for instance: - note: \"heard ${msg.topic}\"", r.app)
			continue
		}
		comment("      # What %s does next, for instance send what its document sends:", r.app)
		for _, e := range sends {
			comment("      # - publish: %s", pw.flow(publishValue(e)))
		}
	}

	line("timeline:")
	if len(im.examples) == 0 {
		line("  # The documents send nothing; add what the apps publish here.")
		line("  - at: 0s")
		line("    do: [{note: nothing is sent, app: %s}]", im.docs[0].app)
	}
	at := 0
	for _, e := range im.examples {
		at += 100
		if e.why != "" {
			comment("  # %s sends %s: left out, %s", e.app, e.name, e.why)
			comment("  # - at: %dms", at)
			comment("  #   do: [{app: %s, publish: %s}]", e.app, pw.flow(publishValue(e)))
			continue
		}
		line("  - at: %dms", at)
		line("    act: %s", pw.text(e.app+" sends "+e.name))
		line("    do:")
		line("      - app: %s", e.app)
		line("        publish:")
		line("          topic: %s", pw.text(e.topic))
		if e.c != nil {
			line("          contract: %s", sw.text(e.c.version))
		}
		if e.hasPayload {
			b.WriteString("          payload:")
			pw.value(e.payload, 10, 19)
		}
	}

	line("checks:")
	line("  - name: every payload keeps its contract")
	line("    expect: ${contracts.warnings + contracts.rejected}")
	line("    equals: 0")
	line(`    detail: '${join(contracts.problems, "; ")}'`)
	for _, d := range im.docs {
		n, any := 0, false
		for _, r := range im.reactions {
			if r.app != d.app {
				continue
			}
			any = true
			for _, e := range im.active() {
				if bus.MatchTopic(r.on, e.topic) {
					n++
				}
			}
		}
		if !any {
			continue
		}
		line("  - name: %s", pw.text(fmt.Sprintf("%s hears %d %s", d.app, n, plural(n, "message", "messages"))))
		line("    expect: ${apps.%s.received + 0}", d.app)
		line("    equals: %d", n)
	}
	return []byte(b.String())
}

// publishValue is an example's publish: as the timeline writes it.
func publishValue(e *example) *omap {
	p := &omap{}
	p.set("topic", e.topic)
	if e.c != nil {
		p.set("contract", e.c.version)
	}
	if e.hasPayload {
		p.set("payload", e.payload)
	}
	return p
}

func strs(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// joinWords joins names as a sentence does: a, b and c.
func joinWords(l []string) string {
	if len(l) <= 1 {
		return strings.Join(l, "")
	}
	return strings.Join(l[:len(l)-1], ", ") + " and " + l[len(l)-1]
}

// oneLine keeps text on one line: a line break or other control character in a name
// from a document would end a comment early.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// firstLine is a description's first line, cut to n characters.
func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}
