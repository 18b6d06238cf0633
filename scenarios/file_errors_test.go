package scenarios_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	. "mfelab/scenarios"
	"mfelab/session"
)

// minimal is the smallest valid scenario file; cases below change one thing in it.
const minimal = `id: tiny
title: Tiny
horizon: 1s
apps:
  - name: a
    publish: [ping]
    subscribe: [ping]
reactions:
  - app: a
    on: ping
    do: [{add: {pings: 1}}]
timeline:
  - at: 0s
    act: ping
    do: [{app: a, publish: {topic: ping}}]
checks:
  - name: one ping
    expect: ${apps.a.pings}
    equals: 1
`

func TestAMinimalScenarioFileRunsAndPasses(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	ses, err := session.Start(s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	if checks := ses.Checks(); !Passed(checks) {
		t.Fatalf("checks:\n%s", FormatChecks(checks))
	}
}

// A mistake in a file is reported at its line and column with what to do about it.
func TestMistakesInAScenarioFileAreReportedWhereTheyAre(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string
	}{
		{"a key the format does not have lists the keys it does", strings.Replace(minimal, "horizon: 1s", "horizon: 1s\ncolour: red", 1),
			"x.yaml:4:1: the scenario has no colour; it takes id, title"},
		{"a knob that is not declared is named with the knobs there are", strings.Replace(minimal, "equals: 1", "equals: ${knob.treshold}", 1),
			`x.yaml:19:13: no knob "treshold"; the knobs are: (none)`},
		{"a horizon that is not a duration", strings.Replace(minimal, "horizon: 1s", "horizon: soon", 1),
			`x.yaml:3:1: horizon: want a duration from 1ms to 1h (such as 5s), got "soon"`},
		{"broken YAML", strings.Replace(minimal, "title: Tiny", "title: [Tiny", 1), "x.yaml:3:1: YAML: "},
		{"an app no one declared", strings.Replace(minimal, "  - app: a\n    on: ping", "  - app: b\n    on: ping", 1),
			`x.yaml:9:5: reaction on ping: no app "b" is declared under apps:`},
		{"an anchor", strings.Replace(minimal, "publish: [ping]", "publish: &p [ping]", 1), "anchors, aliases and merge keys are not used"},
		{"an unclosed expression", strings.Replace(minimal, "equals: 1", "equals: ${1 + }", 1), "x.yaml:19:19: equals: unexpected '}'"},
		{"a function that does not exist", strings.Replace(minimal, "equals: 1", "equals: ${frobnicate(1)}", 1), "no function frobnicate"},
		{"a topic pattern that is not one", strings.Replace(minimal, "    on: ping", "    on: ping.#.x", 1), "x.yaml:9:5: reaction on ping.#.x: on"},
		{"a check with neither that nor expect", strings.Replace(minimal, "    expect: ${apps.a.pings}\n    equals: 1\n", "", 1),
			"a check has that: (a condition) or expect: with equals:, one of them"},
		{"a knob default outside its range", strings.Replace(minimal, "apps:", "knobs:\n  - {name: n, kind: int, min: 1, max: 3, default: 9}\napps:", 1),
			"knob n: its default: n: want 1 to 3"},
		{"an action that does two things", strings.Replace(minimal, "do: [{add: {pings: 1}}]", "do: [{add: {pings: 1}, set: {x: 1}}]", 1),
			"an action does one thing"},
		{"a second YAML document", minimal + "---\nid: other\n", "one YAML document"},
		{"an empty file", "", "the file is empty"},
		{"a file past the size limit", minimal + "# " + strings.Repeat("x", MaxFileSize), "a scenario file may have at most"},
		{"the id of a built-in scenario", strings.Replace(minimal, "id: tiny", "id: circuit-breaker", 1),
			`x.yaml:1:1: id "circuit-breaker" is the built-in scenario "Circuit breaker with cached fallback"; give the file an id of its own`},
		{"the id of replayed logs", strings.Replace(minimal, "id: tiny", "id: replay", 1), `x.yaml:1:1: id "replay" is what replayed logs are called`},
		{"a let that is not name: value lines", strings.Replace(minimal, "    on: ping\n", "    on: ping\n    let: [1]\n", 1),
			"x.yaml:11:10: reaction on ping: let: want name: value lines, got a list"},
		{"let read where it is not computed", strings.Replace(minimal, "    on: ping\n", "    on: ping\n    when: ${let.x}\n", 1),
			"let is not known here"},
		{"a choreography participant that hears what it announces", minimal + choreo("success: ok", "success: go"),
			"choreography c step s: it would react to what it announces itself"},
		{"an undo with no event to call for it", minimal + choreo("undo: [{note: x}]", ""),
			"undo:, undo-op: and compensated: need compensate-on:"},
		{"done read outside an undo", minimal + choreo(`do: [{note: "${done}"}]`, ""), "done is not known here"},
		{"a choreography named like a saga", strings.Replace(minimal+choreo("", ""), "checks:",
			"sagas:\n  - name: c\n    app: a\n    steps: [{name: s, publish: {topic: ping}}]\nchecks:", 1), "saga c is declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.file))
			if err == nil {
				t.Fatal("the file loaded")
			}
			if !errors.Is(err, ErrInvalidScenarioFile) {
				t.Errorf("the error %v is not ErrInvalidScenarioFile", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// choreo is a choreographies: block of one participant of app a, with one more line.
func choreo(line, replace string) string {
	block := "choreographies:\n  - name: c\n    participants:\n      - app: a\n        step: s\n        on: go\n" +
		"        success: ok\n        failure: ko\n"
	if replace != "" {
		block = strings.Replace(block, line, replace, 1)
	} else if line != "" {
		block += "        " + line + "\n"
	}
	return block
}

// A reaction that publishes what it reacts to would never end: the run stops at the
// publish limit and its built-in check fails and says so, instead of hanging.
func TestAReactionLoopStopsAtThePublishLimitAndFailsACheck(t *testing.T) {
	tests := []struct {
		name, latency, want string
	}{
		{"a loop at one instant stops at the per-instant limit", "0s", "publishes-per-instant"},
		{"a loop over time stops at the per-run limit", "1ms", "publishes-per-run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := strings.Replace(minimal, "do: [{add: {pings: 1}}]", "do: [{add: {pings: 1}}, {publish: {topic: ping}}]", 1)
			file = strings.Replace(file, "horizon: 1s", "horizon: 1h\nlimits: {publishes-per-run: 500, publishes-per-instant: 50}", 1)
			file = strings.Replace(file, "    subscribe: [ping]", "    subscribe: [ping]\n    latency: "+tt.latency, 1)
			s, err := Parse("loop.yaml", []byte(file))
			if err != nil {
				t.Fatal(err)
			}
			ses, err := session.Start(s, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			ses.RunToEnd()
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("the run took %v", d)
			}
			checks := ses.Checks()
			last := checks[len(checks)-1]
			if last.Pass || !strings.Contains(last.Detail, tt.want) || !strings.Contains(last.Detail, "loop.yaml:") {
				t.Fatalf("checks:\n%s", FormatChecks(checks))
			}
		})
	}
}

// Two participants that set each other off would never end either: the publish limit
// stops the choreography, and the built-in check says where.
func TestAChoreographyLoopStopsAtThePublishLimitAndFailsACheck(t *testing.T) {
	file := strings.Replace(minimal, "[ping]", "[ping, x, y, f]", 2) + `choreographies:
  - name: loop
    participants:
      - {app: a, step: one, on: x, success: y, failure: f}
      - {app: a, step: two, on: y, success: x, failure: f}
`
	file = strings.Replace(file, "do: [{app: a, publish: {topic: ping}}]", "do: [{app: a, publish: {topic: x}}]", 1)
	file = strings.Replace(file, "equals: 1", "equals: 0", 1)
	file = strings.Replace(file, "horizon: 1s", "horizon: 1s\nlimits: {publishes-per-run: 500, publishes-per-instant: 50}", 1)
	s, err := Parse("loop.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	ses, err := session.Start(s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	checks := ses.Checks()
	last := checks[len(checks)-1]
	if last.Pass || !strings.Contains(last.Detail, "publishes-per-instant") || !strings.Contains(last.Detail, "loop.yaml:") {
		t.Fatalf("checks:\n%s", FormatChecks(checks))
	}
	if n := ses.Trace().Messages(); n > 60 {
		t.Fatalf("%d messages; the limit is 50 at one instant", n)
	}
}
