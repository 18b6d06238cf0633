package scenarios

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseScenario feeds the loader anything: it must never panic, and a file it
// accepts must set up, and run a bounded number of events, without panicking either.
func FuzzParseScenario(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("files", "*.yaml"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{"", "id: x", "{", "- a\n- b", "id: [", "a: &x 1\nb: *x", "id: x\ntitle: y\nhorizon: 1s\n",
		"knobs: [{name: n, kind: int, default: 1, min: 0, max: 9}]", "vars: {a: '${var.a}'}", "\ufeffid: bom",
		"id: x\ntitle: t\nhorizon: 1s\napps: [{name: a, publish: ['#'], subscribe: ['#']}]\nreactions: [{app: a, on: '#', do: [{publish: {topic: x}}]}]\ntimeline: [{at: 0s, do: [{app: a, publish: {topic: x}}]}]\nchecks: [{name: n, that: '${true}'}]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		r, err := Start(s, 1, nil)
		if err != nil {
			return
		}
		deadline := time.Now().Add(2 * time.Second)
		for i := 0; i < 5000 && r.Step() && time.Now().Before(deadline); i++ {
		}
		_ = r.Checks()
	})
}

// FuzzTemplate evaluates any template against a message, knobs and state: no panic, and
// a result no bigger than the limit.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"plain", "${1 + 2}", "${knob.latency * 2}", "${msg.payload.order}", `${state["answered live"] + 1}`,
		"${if(knob.on, 'a', 'b')}", "${join(msg.payload.lines, ', ')}", "${repeat('ab', 1e9)}", "${concat([1], [2])}",
		"${max(30, int((3s + 1s) / 200ms) + 1)}", "$${literal}", "${", "${'", "${((((((1))))))}", "${-'x'}", "${1/0}",
		"${substr('keyboard', 0, 3)}", "${json(msg)}", "${keys(msg.payload)}", "${sort([3, 1, 2])}", "${msg.payload.lines[0].sku}",
		"${replace(repeat('a', 60000), 'a', 'aaaa')}", "${duration('1h') / 1ns}", "${split(repeat('a,', 20000), ',')}"} {
		f.Add(s)
	}
	payload, _ := fromJSON([]byte(`{"order":"order-1","lines":[{"sku":"mouse","qty":2}],"amount":89.7}`))
	msg := newObject()
	msg.set("payload", payload)
	msg.set("topic", "order.placed")
	knobs := newObject()
	knobs.set("latency", 20*time.Millisecond)
	knobs.set("on", true)
	state := newObject()
	state.set("answered live", "3")
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := parseTemplate(src)
		if err != nil {
			return
		}
		env := &evalEnv{roots: map[string]func() (any, error){
			"msg":   func() (any, error) { return msg, nil },
			"knob":  func() (any, error) { return knobs, nil },
			"state": func() (any, error) { return state, nil },
		}}
		v, err := tp.eval(env)
		if err != nil {
			return
		}
		if s, err := render(v); err == nil && len(s) > maxValueSize*2 {
			t.Fatalf("a result of %d bytes", len(s))
		}
	})
}
