package ui

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/bus"
	"mfelab/bus/dlq"
	"mfelab/scenarios"
	"mfelab/session"
)

// reset starts a fresh, paused run of the current scenario with the current knobs and seed.
func (l *lab) reset() {
	if l.net.join != nil {
		l.rejoin()
		return
	}
	ses, err := session.Start(l.scenario, l.seed, l.set)
	if err != nil {
		l.showError("Cannot start the scenario", err)
		return
	}
	l.adopt(ses)
}

// adopt shows session ses, paused, in place of the current one, which ends (its
// recording is closed and its memory let go).
func (l *lab) adopt(ses *session.Session) {
	l.endSession()
	l.ses, l.seen = ses, 0
	if l.refresher != nil {
		ses.Notify(l.refresher.wake)
	}
	l.showSource()
	l.showWhatRuns(ses)
	ses.SetSpeed(l.speed)
	ses.Trace().SetKeep(l.keep)
	l.setRunButton(false)
	l.log.reset()
	l.panels.reset(ses.Run().World, func(app string, down bool) {
		l.ses.Intervene(map[bool]string{true: app + " taken down by hand", false: app + " brought back by hand"}[down])
		l.refresh()
	})
	l.flow.setModel(ses.Trace().Diagram())
	l.views.reset(ses.Run())
	l.markRemote()
	l.refresh()
}

// showWhatRuns makes the left column describe the session on screen. A replayed log
// has no text or knobs of its own scenario, so the picked scenario's are put away while
// it is shown, and come back when a run of a scenario is.
func (l *lab) showWhatRuns(ses *session.Session) {
	if ses.IsReplay() {
		l.replaySide = true
		l.watch.SetText(ses.Scenario().Watch + " Reset, or pick a scenario, to run a scenario again (Reset runs " + l.scenario.Title + ").")
		l.knobBox.RemoveAll()
		l.knobEntries = nil
		l.knobBox.Add(widget.NewLabel("A replay has no knobs."))
		return
	}
	if l.replaySide {
		l.replaySide = false
		l.watch.SetText(l.scenario.Watch)
		l.showKnobs()
	}
}

// adoptRun shows ses, a run of scenario s with those knobs and seed, and makes the
// controls on the left say so, without starting another run.
func (l *lab) adoptRun(ses *session.Session, s *scenarios.Scenario, knobs scenarios.Values, seed uint64) {
	l.scenario, l.set, l.seed = s, maps.Clone(knobs), seed
	if l.set == nil {
		l.set = scenarios.Values{}
	}
	l.picker.SetSelected(fileLabel(s)) // the picker's callback sees the scenario chosen already
	l.watch.SetText(s.Watch)
	l.seedEntry.reset(strconv.FormatUint(seed, 10))
	l.showKnobs()
	l.adopt(ses)
	l.followLog() // the moment travelled to is the newest row
}

// endSession stops the current session and closes its recording.
func (l *lab) endSession() {
	if l.ses == nil {
		return
	}
	if err := l.ses.Close(); err != nil {
		l.showError("The last run was not fully recorded", err)
	}
	l.ses = nil
	if l.hist != nil {
		l.hist.reloadRuns()
	}
}

// startRecording records the run the first time it moves, so that runs which are only
// looked at leave nothing behind. Replays are not recorded again.
func (l *lab) startRecording() {
	if l.store == nil || l.ses == nil || l.ses.IsReplay() {
		return
	}
	if _, err := l.ses.Record(l.store); err != nil {
		l.store.Close()
		l.store = nil // stop trying: one dialog, not one per step
		l.showError("History is off for this session", fmt.Errorf("%w; runs go on without being recorded", err))
		l.hist.reloadRuns()
	}
}

// showHistory brings the History tab up to date: the run being recorded is written out
// first, so a run that has just finished is in the list.
func (l *lab) showHistory() {
	if l.ses != nil {
		if err := l.ses.FlushRecording(); err != nil {
			l.reportRecordingFailure()
		}
	}
	l.hist.reloadRuns()
}

// reportRecordingFailure shows, once, why the recording stopped.
func (l *lab) reportRecordingFailure() {
	if l.ses == nil {
		return
	}
	if err := l.ses.RecordingFailure(); err != nil {
		l.showError("Recording stopped", fmt.Errorf("%w\n\nThe run goes on unrecorded; everything recorded before the failure is intact in the history file", err))
	}
}

func (l *lab) setRunButton(playing bool) {
	if playing {
		l.runBtn.SetText("Pause")
		l.runBtn.SetIcon(theme.MediaPauseIcon())
		return
	}
	l.runBtn.SetText("Run")
	l.runBtn.SetIcon(theme.MediaPlayIcon())
}

func (l *lab) toggleRun() {
	if l.ses == nil {
		return
	}
	if l.ses.Playing() {
		l.pause()
		return
	}
	l.commitEdits()
	if l.ses.Finished() {
		return
	}
	l.startRecording()
	l.ses.Play(l.speed)
	l.setRunButton(true)
	l.startRefresher()
	l.refresher.signal() // the clock beats from the first frame, before any event
}

func (l *lab) pause() {
	if l.ses != nil {
		l.ses.Pause()
	}
	l.setRunButton(false)
	l.refresh()
}

// step runs exactly one delivery or timer.
func (l *lab) step() {
	l.commitEdits()
	l.startRecording()
	l.ses.Step()
	l.setRunButton(false)
	l.followLog()
}

// stepAct runs to the next scripted act of the scenario.
func (l *lab) stepAct() {
	l.commitEdits()
	l.startRecording()
	l.ses.StepAct()
	l.setRunButton(false)
	l.followLog()
}

// runToEnd runs the scenario to its end at once (the screenshot mode).
func (l *lab) runToEnd() {
	l.commitEdits()
	l.startRecording()
	l.ses.RunToEnd()
	l.setRunButton(false)
	l.followLog()
}

// refresh pulls what happened since the last refresh into the widgets.
func (l *lab) refresh() {
	ses := l.ses
	if ses == nil {
		return
	}
	// read before the trace: a change while this refresh runs makes another
	l.drawn = drawn{ses.Changes(), ses.Elapsed()}
	t := ses.Trace()
	n := t.Len()
	active := map[string]bool{}
	for _, app := range t.ActiveApps(l.seen, n) {
		active[app] = true
	}
	l.log.take(l.seen, n)
	grew := n > l.seen
	l.seen = n // before the list redraws: its length is read from it
	if n > 0 && l.hint.Visible() {
		l.hint.Hide() // the user has found the transport
	}
	if grew {
		l.log.refresh(ses.Playing())
		l.flow.update()
		l.syncSlider()
	}
	st := ses.State()
	if st.Word == "finished" {
		clear(active) // nothing is active in a run that is over
	}
	l.panels.refresh(ses.Run().World, active)
	setText(l.statusLbl, l.fileNote+ses.Origin()+st.String()+l.recordingNote())
	acts, fired := ses.Run().Acts()
	if fired < len(acts) {
		setText(l.actLabel, fmt.Sprintf("Next act at +%.3fs: %s", acts[fired].At.Seconds(), acts[fired].Name))
	} else {
		if len(acts) == 0 {
			setText(l.actLabel, "This run has no scripted acts: step or run it through its messages.")
		} else {
			setText(l.actLabel, "All acts have happened.")
		}
	}
	l.views.refresh(ses.Run())
	l.refreshNet()
	changed := ""
	if ch := ses.Interventions(); len(ch) > 0 {
		changed = "This run was changed by hand (" + strings.Join(ch, "; ") + "): the checks describe the scripted run, so some may fail.\n\n"
	}
	if st.Word == "finished" {
		setText(l.checks, changed+scenarios.FormatChecks(ses.Checks()))
	} else {
		setText(l.checks, changed+"Checked when the run ends.")
	}
	l.reportRecordingFailure()
}

// recordingNote says where the run is recorded, or why it is not.
func (l *lab) recordingNote() string {
	if l.ses == nil {
		return ""
	}
	if err := l.ses.RecordingErr(); err != nil {
		return " · recording stopped: the history file could not be written"
	}
	if info, on := l.ses.Recording(); on {
		return " · recording as " + info.ID
	} else if info.Error != "" {
		return " · not recorded: " + info.Error
	}
	if l.store == nil {
		return " · not recorded (no history file)"
	}
	return ""
}

// openReplay shows a replay of envs, stepped until k of them have been published, paused.
func (l *lab) openReplay(envs []*bus.Envelope, k int, origin string) {
	ses, err := session.Replay(envs, k, origin)
	if err != nil {
		l.showError("Cannot replay the log", err)
		return
	}
	l.adopt(ses)
}

// onLoop runs fn on the bus loop (breaker buttons flip state the loop owns), then shows
// the result.
func (l *lab) onLoop(what string, fn func()) {
	l.ses.Intervene(what)
	l.ses.Post(fn)
	if !l.ses.Playing() {
		l.refresh()
	}
}

// followLog refreshes and brings the newest rows of the log into view: after a step the
// user looks for what it did.
func (l *lab) followLog() {
	l.refresh()
	if n := l.log.len(); n > 0 {
		l.log.list.ScrollToBottom()
	}
}

// commitEdits applies what was typed into a knob or the seed and not yet confirmed with
// Enter or Tab, before the run moves: the run uses what the fields show.
func (l *lab) commitEdits() {
	for _, e := range append([]*commitEntry{l.seedEntry}, l.knobEntries...) {
		e.commit()
	}
}

// maxRetrySteps bounds how far deliverRetried steps the loop looking for a retry.
const maxRetrySteps = 10_000

// deliverRetried steps the run until the dead letters retried (by envelope ID) have been
// delivered again, so a retry shows what became of it at once, in a paused or a finished
// run alike, instead of waiting for Run. A retry that had to be published anew carries
// the ID it stands for in a header.
func (l *lab) deliverRetried(ids []string) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	tr := l.ses.Trace()
	seen := tr.Len()
	for range maxRetrySteps {
		if len(want) == 0 || !l.ses.Step() {
			break
		}
		for ; seen < tr.Len(); seen++ {
			ev := tr.Event(seen)
			if ev.Kind != bus.TraceDelivered || ev.Env == nil {
				continue
			}
			delete(want, ev.Env.ID.String())
			delete(want, ev.Env.Meta.Headers[dlq.HeaderRetryOf])
		}
	}
	l.followLog()
}
