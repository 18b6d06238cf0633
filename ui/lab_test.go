package ui

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mfelab/bus"
	"mfelab/scenarios"
)

func newTestLab(t *testing.T) *lab {
	t.Helper()
	a := test.NewApp()
	t.Cleanup(a.Quit)
	w := test.NewWindow(nil)
	l := newLab(w, Options{Version: "test"})
	t.Cleanup(l.close)
	return l
}

func TestPickAScenarioAndStepThreeTimes(t *testing.T) {
	l := newTestLab(t)
	s, _ := scenarios.Get("rpc-pricing")
	l.picker.SetSelected(s.Title)
	if l.scenario != s || len(l.knobBox.Objects) != len(s.Knobs) {
		t.Fatalf("scenario %v with %d knob editors", l.scenario.ID, len(l.knobBox.Objects))
	}
	for range 3 {
		l.step()
	}
	// the first act adds two lines to the cart: two publishes, then the pricing calls
	var kinds []string
	for _, e := range l.shownEvents() {
		kinds = append(kinds, e.Kind.String()+" "+e.Topic)
	}
	if len(kinds) == 0 || kinds[0] != "published cart.item-added" {
		t.Fatalf("log after three steps: %v", kinds)
	}
	if got := l.log.list.Length(); got != l.log.len() {
		t.Fatalf("the list shows %d rows, the log holds %d", got, l.log.len())
	}
	body := l.panels.cards[scenarios.Cart].body.Text
	if !strings.Contains(body, "total") || !strings.Contains(body, "89.70") {
		t.Fatalf("cart panel after three steps:\n%s", body)
	}
	if !strings.Contains(l.statusLbl.Text, "paused at +") {
		t.Fatalf("status %q", l.statusLbl.Text)
	}
}

func TestInspectorShowsPayloadAndCausalChain(t *testing.T) {
	l := newTestLab(t) // checkout-orchestrated
	l.stepAct()
	l.stepAct()
	l.ses.RunToEnd()
	l.refresh()
	// find the inventory.reserve request
	row := -1
	for n, e := range l.shownEvents() {
		if e.Kind == bus.TracePublished && e.Topic == "inventory.reserve" {
			row = n
			break
		}
	}
	if row < 0 {
		t.Fatal("no inventory.reserve in the log")
	}
	l.log.list.Select(row)
	text := l.log.inspector.Text
	for _, want := range []string{"published  #", "inventory.reserve", `"order": "order-1"`, "caused by: #", "saga.checkout.state", "caused: #"} {
		if !strings.Contains(text, want) {
			t.Fatalf("inspector lacks %q:\n%s", want, text)
		}
	}
}

func TestFilterAndChecks(t *testing.T) {
	l := newTestLab(t)
	l.ses.RunToEnd()
	l.refresh()
	all := l.log.len()
	l.log.filter = "payment.#"
	l.log.apply()
	if l.log.len() == 0 || l.log.len() >= all {
		t.Fatalf("filter payment.# kept %d of %d", l.log.len(), all)
	}
	for _, e := range l.shownEvents() {
		if !strings.HasPrefix(e.Topic, "payment.") {
			t.Fatalf("filter let %s through", e.Topic)
		}
	}
	if !strings.Contains(l.checks.Text, "[ok]") || strings.Contains(l.checks.Text, "FAIL") {
		t.Fatalf("checks:\n%s", l.checks.Text)
	}
}

func TestBadKnobValueKeepsTheRun(t *testing.T) {
	l := newTestLab(t)
	k, _ := l.scenario.Knob("latency")
	before := l.ses
	l.setKnob(k, "forever")
	if l.ses != before {
		t.Fatal("an invalid knob value restarted the run")
	}
	l.setKnob(k, "250ms")
	if l.ses == before || l.ses.Run().Knobs.Str("latency") != "250ms" {
		t.Fatal("a valid knob value did not start a fresh run with it")
	}
}

func (l *lab) pick(t *testing.T, id string) {
	t.Helper()
	s, err := scenarios.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	l.picker.SetSelected(s.Title)
}

func TestBreakerTileSagaTimelineAndDeadLetters(t *testing.T) {
	l := newTestLab(t)
	l.pick(t, "circuit-breaker")
	l.ses.Run().Bus.RunFor(1700 * time.Millisecond) // into the outage: the breaker is open
	l.refresh()
	tile := l.views.tiles["inventory"]
	if tile == nil || !strings.Contains(tile.light.Text, "OPEN") || !strings.Contains(tile.counts.Text, "opens after 3 failures in a row") {
		t.Fatalf("breaker tile: %v", tile)
	}
	l.onLoop("breaker forced closed", l.ses.Run().Breakers()[0].ForceClosed)
	if !strings.Contains(tile.light.Text, "CLOSED (forced)") {
		t.Fatalf("after force-closed: %q", tile.light.Text)
	}

	l.pick(t, "checkout-orchestrated")
	k, _ := l.scenario.Knob("fail")
	l.setKnob(k, "ship")
	l.ses.RunToEnd()
	l.refresh()
	for _, want := range []string{"checkout order-1 (orchestrated): FAILED", "↺ reserve", "↺ charge", "✖ ship", "○ confirm"} {
		if !strings.Contains(l.views.sagas.Text, want) {
			t.Fatalf("saga view lacks %q:\n%s", want, l.views.sagas.Text)
		}
	}

	l.pick(t, "retry-dlq-idempotency")
	l.ses.Run().Bus.RunFor(time.Second) // before the operator's retry
	l.refresh()
	if len(l.views.deadRows) != 2 || !strings.HasPrefix(l.views.deadRows[0].heading, "1 × handler: cannot parse the payment") {
		t.Fatalf("dead letters: %+v", l.views.deadRows)
	}
}

// The speed chosen last time is the speed of the next start: choosing the default while
// the window is built must not overwrite it.
func TestTheSpeedIsRemembered(t *testing.T) {
	a := test.NewApp()
	t.Cleanup(a.Quit)
	a.Preferences().SetString(prefSpeed, "instant")
	l := newLab(test.NewWindow(nil), Options{})
	t.Cleanup(l.close)
	if l.speedSel.Selected != "instant" || l.speed != bus.Instant || a.Preferences().String(prefSpeed) != "instant" {
		t.Fatalf("speed %q (%v), stored %q", l.speedSel.Selected, l.speed, a.Preferences().String(prefSpeed))
	}
}

// After one step the log shows the rows the status line counts.
func TestTheLogShowsEveryStepAtOnce(t *testing.T) {
	l := newTestLab(t)
	for range 3 {
		l.step()
		if got, want := l.log.list.Length(), l.ses.Trace().Len(); got != want || want == 0 {
			t.Fatalf("the log lists %d rows of %d events", got, want)
		}
	}
}

// A filter that shows nothing says so, and why when the reason is a likely mix-up; a
// finished run marks no panel active and counts nothing pending past its end.
func TestAnEmptyFilterSaysWhyAndAFinishedRunIsQuiet(t *testing.T) {
	l := newTestLab(t)
	l.pick(t, "load")
	l.applyKnobs(scenarios.Values{"limit": "50"})
	l.ses.RunToEnd()
	l.refresh()
	l.log.status = bus.TraceRejected
	l.log.apply()
	if l.log.len() != 0 || !l.log.hint.Visible() || !strings.Contains(l.log.hint.Text, "rate-limited, not rejected") {
		t.Fatalf("%d rows, hint %q", l.log.len(), l.log.hint.Text)
	}
	l.log.status = bus.TraceRateLimited
	l.log.apply()
	if l.log.len() == 0 || l.log.hint.Visible() {
		t.Fatalf("rate-limited rows %d, hint shown %v", l.log.len(), l.log.hint.Visible())
	}
	l.pick(t, "circuit-breaker")
	l.ses.RunToEnd()
	l.refresh()
	if strings.Contains(l.statusLbl.Text, "pending") || !strings.Contains(l.statusLbl.Text, "finished at +") {
		t.Fatalf("status of a finished run: %q", l.statusLbl.Text)
	}
	for name, c := range l.panels.cards {
		if strings.Contains(c.sub.Text, "active") {
			t.Fatalf("%s is marked active in a finished run", name)
		}
	}
}

// The transport's shortcuts work while a text field has the focus.
func TestShortcutsWorkInTextFields(t *testing.T) {
	l := newTestLab(t)
	before := l.ses.Trace().Len()
	l.seedEntry.TypedShortcut(keyStep)
	if l.ses.Trace().Len() == before {
		t.Fatal("Ctrl+Right in the seed field did not step")
	}
	if l.seedEntry.Text != "42" {
		t.Fatalf("the seed field changed to %q", l.seedEntry.Text)
	}
	l.seedEntry.TypedShortcut(&fyne.ShortcutSelectAll{}) // the field's own shortcuts still work
	if l.win.MainMenu() == nil || len(l.win.MainMenu().Items) != 3 {
		t.Fatal("no menu")
	}
}

// Taking an app down by hand says that the checks describe the scripted run, and the
// run's record keeps what was changed.
func TestAChangeByHandIsNamedBesideTheChecks(t *testing.T) {
	l := newTestLab(t)
	l.openStore(filepath.Join(t.TempDir(), "h.db"))
	l.step()
	l.panels.cards["inventory"].faults.SetChecked(true)
	l.ses.RunToEnd()
	l.refresh()
	if !strings.Contains(l.checks.Text, "changed by hand (+0.000s inventory taken down by hand)") || !strings.Contains(l.checks.Text, "[FAIL]") {
		t.Fatalf("checks:\n%s", l.checks.Text)
	}
	l.reset()
	runs, _ := l.store.Runs()
	if len(runs) != 1 || len(runs[0].Changed) != 1 {
		t.Fatalf("run records %+v", runs)
	}
}

// A value typed into a knob field and not yet confirmed is the one the run uses when it
// moves, as the field shows it.
func TestATypedKnobValueIsUsedWhenTheRunMoves(t *testing.T) {
	l := newTestLab(t) // checkout-orchestrated, latency 20ms
	if len(l.knobEntries) == 0 {
		t.Fatal("no knob field")
	}
	l.knobEntries[0].SetText("200ms") // typed, neither Enter nor Tab
	l.step()
	if got := l.ses.Run().Knobs.Str("latency"); got != "200ms" {
		t.Fatalf("the run uses latency %s", got)
	}
}
