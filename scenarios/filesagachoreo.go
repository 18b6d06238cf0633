package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"mfelab/bus"
	"mfelab/bus/saga"
)

// A scenario file's choreographed sagas (bus/saga's Choreograph): no conductor, each
// participant reacts to an event, does its part and announces success or failure, and
// undoes its part when it hears of a failure further on, announcing that too.

type fileChoreography struct {
	Pos          Pos
	Name         string            `yaml:"name"`
	Participants []fileParticipant `yaml:"participants"`
}

type fileParticipant struct {
	Pos          Pos
	App          string       `yaml:"app"`
	Step         string       `yaml:"step"`
	On           string       `yaml:"on"`
	Op           string       `yaml:"op"`
	Faults       *bool        `yaml:"faults"`
	Fail         []fileFail   `yaml:"fail"`
	Do           []fileAction `yaml:"do"`
	Result       *ynode       `yaml:"result"`
	Success      string       `yaml:"success"`
	Failure      string       `yaml:"failure"`
	CompensateOn []string     `yaml:"compensate-on"`
	UndoOp       string       `yaml:"undo-op"`
	Undo         []fileAction `yaml:"undo"`
	Compensated  string       `yaml:"compensated"`
}

// errLimitReached is what a participant fails with once the run's publish limits are hit.
var errLimitReached = errors.New("publish limit reached")

func (c *compiler) compileChoreographies() {
	d := c.doc
	if len(d.Choreographies) > maxBlocks {
		c.errAt(c.keyPos("choreographies"), "%d choreographies; at most %d are allowed", len(d.Choreographies), maxBlocks)
		return
	}
	names := map[string]bool{}
	for _, ch := range d.Choreographies {
		switch {
		case !isName(ch.Name):
			c.errAt(ch.Pos, "a choreography needs a name of letters, digits, - and _ (got %q)", ch.Name)
		case names[ch.Name] || c.sagas[ch.Name]:
			// both kinds of saga are read as sagas.NAME, so they share one set of names
			c.errAt(ch.Pos, "saga %s is declared twice (under sagas: or choreographies:)", ch.Name)
		}
		names[ch.Name] = true
		if len(ch.Participants) == 0 {
			c.errAt(ch.Pos, "choreography %s has no participants", ch.Name)
		}
		steps := map[string]bool{}
		for _, p := range ch.Participants {
			what := "choreography " + ch.Name + " step " + p.Step
			if !isName(p.Step) || steps[p.Step] {
				c.errAt(p.Pos, "choreography %s: each participant needs a step: name of its own (got %q)", ch.Name, p.Step)
			}
			steps[p.Step] = true
			c.needApp(p.Pos, p.App, what)
			if err := bus.ValidatePattern(p.On); err != nil {
				c.errAt(p.Pos, "%s: on %q: %v", what, p.On, err)
			}
			c.needTopic(p.Pos, p.Success, what+": success")
			c.needTopic(p.Pos, p.Failure, what+": failure")
			if slices.Contains([]string{p.Success, p.Failure}, p.On) {
				c.errAt(p.Pos, "%s: it would react to what it announces itself; give on: another event", what)
			}
			for _, ev := range p.CompensateOn {
				if err := bus.ValidatePattern(ev); err != nil {
					c.errAt(p.Pos, "%s: compensate-on %q: %v", what, ev, err)
				}
			}
			if p.Compensated != "" {
				c.needTopic(p.Pos, p.Compensated, what+": compensated")
			}
			if len(p.CompensateOn) == 0 && (len(p.Undo) > 0 || p.Compensated != "" || p.UndoOp != "") {
				c.errAt(p.Pos, "%s: undo:, undo-op: and compensated: need compensate-on: (the events that call for the undo)", what)
			}
			roots := rootsWith(rootsRun, "msg", "state", "app")
			for _, f := range p.Fail {
				c.checkTmpl(f.When, roots)
				c.checkTmpl(f.Message, roots)
				c.checkTmpl(f.Code, roots)
				if !f.Message.set {
					c.errAt(f.Pos, "%s: a fail: says why with message:", what)
				}
			}
			c.checkActions(p.Do, roots)
			c.checkPayload(p.Result, roots)
			c.checkActions(p.Undo, rootsWith(roots, "done"))
		}
	}
	c.choreos = names
}

// choreoBlock is a choreography as a run set it up.
type choreoBlock struct {
	c     *saga.Choreography
	steps []string
}

// setupChoreographies subscribes every participant, before any reaction does, so that an
// app following the conversation with reactions hears each event after the participants.
func (fr *fileRun) setupChoreographies() error {
	for i := range fr.doc.Choreographies {
		fc := &fr.doc.Choreographies[i]
		cb := &choreoBlock{}
		var parts []saga.Participant
		for j := range fc.Participants {
			fp := &fc.Participants[j]
			cb.steps = append(cb.steps, fp.Step)
			parts = append(parts, fr.participant(fp, cb))
		}
		c, err := saga.Choreograph(fc.Name, parts)
		if err != nil {
			return &FileError{File: fr.name, Line: fc.Pos.Line, Col: fc.Pos.Col, Msg: err.Error()}
		}
		cb.c = c
		fr.choreos[fc.Name] = cb
		name := fc.Name
		fr.r.AddSagas(func() []SagaView { return choreographedViews(name, cb) })
	}
	return nil
}

func (fr *fileRun) participant(fp *fileParticipant, cb *choreoBlock) saga.Participant {
	a := fr.r.World.App(fp.App)
	checkFaults := fp.Faults == nil || *fp.Faults
	// a publish limit reached stops the whole choreography: its announcements are the
	// package's to make, and a loop between participants must end somewhere
	limited := func(pos Pos, what string) bool {
		if fr.mayPublish(pos, what) {
			return false
		}
		if cb.c != nil {
			cb.c.Stop()
		}
		return true
	}
	p := saga.Participant{App: a.Conn, Step: fp.Step, On: fp.On, Success: fp.Success, Failure: fp.Failure,
		CompensateOn: fp.CompensateOn, Compensated: fp.Compensated}
	p.Do = func(_ context.Context, d bus.Delivery) (any, error) {
		if limited(fp.Pos, "step "+fp.Step) {
			return nil, errLimitReached
		}
		sc := scope{app: a, d: &d, vals: map[string]any{"msg": msgValue(d)}}
		if err := fr.refuse(a, orDefault(fp.Op, fp.On), checkFaults, fp.Fail, sc); err != nil {
			return nil, err
		}
		fr.do(sc, fp.Do)
		if fp.Result == nil {
			return d.Payload, nil // the event travels on to the next participant
		}
		out, err := fr.payload(fp.Result, sc)
		if err != nil {
			fr.errRun(fp.Result.pos, "%v", err)
			return nil, err
		}
		return out, nil
	}
	if len(fp.CompensateOn) > 0 {
		p.Undo = func(_ context.Context, d bus.Delivery, done json.RawMessage) error {
			if fp.Compensated != "" && limited(fp.Pos, "undo of step "+fp.Step) {
				return errLimitReached
			}
			if checkFaults {
				if err := a.Faults.Check(orDefault(fp.UndoOp, "undo "+fp.Step)); err != nil {
					a.Note("failed " + orDefault(fp.UndoOp, "undo "+fp.Step))
					return err
				}
			}
			dv, err := fromJSON(done)
			if err != nil {
				dv = string(done)
			}
			fr.do(scope{app: a, d: &d, vals: map[string]any{"msg": msgValue(d), "done": dv}}, fp.Undo)
			return nil
		}
	}
	return p
}

func choreographedViews(name string, cb *choreoBlock) []SagaView {
	if cb.c == nil {
		return nil
	}
	var out []SagaView
	for _, p := range cb.c.Conversations() {
		v := SagaView{Saga: name, ID: p.Correlation, Style: "choreographed", Status: string(p.Status),
			Steps: slices.Clone(cb.steps), Done: p.Done, Compensated: p.Compensated}
		if p.Error != nil {
			v.Failed = p.Error.Step
			v.Errors = append(v.Errors, p.Error.Step+": "+p.Error.Error)
		}
		for _, e := range p.UndoErrors {
			v.Errors = append(v.Errors, "undo "+e.Step+": "+e.Error)
		}
		out = append(out, v)
	}
	return out
}

// choreographyValues adds each choreography's conversations to sagas, as
// sagas.NAME.CORRELATION: {correlation, status, done, compensated, error, undoErrors}.
func (fr *fileRun) choreographyValues(sagas *object) {
	for _, name := range sortedKeys(fr.choreos) {
		convs := newObject()
		for _, p := range fr.choreos[name].c.Conversations() {
			convs.set(p.Correlation, toValue(p))
		}
		sagas.set(name, convs)
	}
}
