package saga

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"mfelab/bus"
)

// Participant is one service in a choreographed saga.
type Participant struct {
	App *bus.App
	// Step names the participant's part (for Progress).
	Step string
	// On is the event that makes it act.
	On string
	// Do does the work; its value is the payload of the Success event.
	Do func(ctx context.Context, d bus.Delivery) (any, error)
	// Success and Failure are the events it announces; the failure payload carries the
	// error ({"step", "error"}).
	Success, Failure string
	// CompensateOn are the events that make it undo its work, if it did any for that
	// conversation; Undo gets the Success payload it announced.
	CompensateOn []string
	Undo         func(ctx context.Context, d bus.Delivery, done json.RawMessage) error
	// Compensated is announced after undoing.
	Compensated string
}

// Progress is one conversation of a choreography, as it unfolded.
type Progress struct {
	Correlation string      `json:"correlation"`
	Status      Status      `json:"status"`
	Done        []string    `json:"done"`
	Compensated []string    `json:"compensated,omitempty"`
	Error       *StepError  `json:"error,omitempty"`
	UndoErrors  []StepError `json:"undoErrors,omitempty"`
}

// Choreography wires participants together and watches the conversations.
type Choreography struct {
	name  string
	parts []Participant
	final string // the last participant's success event completes a conversation
	subs  []*bus.Subscription

	mu    sync.Mutex
	convs map[string]*convState
	order []string
}

type convState struct {
	Progress
	results map[string]json.RawMessage // step -> its success payload
}

// Choreograph subscribes every participant. The last participant's Success event marks a
// conversation completed.
func Choreograph(name string, parts []Participant) (*Choreography, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("choreography %s: no participants", name)
	}
	c := &Choreography{name: name, parts: parts, final: parts[len(parts)-1].Success, convs: map[string]*convState{}}
	for i := range parts {
		p := &parts[i]
		if p.App == nil || p.Do == nil || p.Step == "" {
			c.Stop()
			return nil, fmt.Errorf("choreography %s: participant %d needs an app, a step name and Do", name, i)
		}
		s, err := p.App.Subscribe(p.On, func(ctx context.Context, d bus.Delivery) error { return c.act(ctx, p, d) })
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("choreography %s: %s: %w", name, p.Step, err)
		}
		c.subs = append(c.subs, s)
		for _, ev := range p.CompensateOn {
			s, err := p.App.Subscribe(ev, func(ctx context.Context, d bus.Delivery) error { return c.undo(ctx, p, d) })
			if err != nil {
				c.Stop()
				return nil, fmt.Errorf("choreography %s: %s: %w", name, p.Step, err)
			}
			c.subs = append(c.subs, s)
		}
	}
	return c, nil
}

// Stop unsubscribes every participant.
func (c *Choreography) Stop() {
	for _, s := range c.subs {
		s.Unsubscribe()
	}
	c.subs = nil
}

func (c *Choreography) conv(corr string) *convState {
	cs := c.convs[corr]
	if cs == nil {
		cs = &convState{Progress: Progress{Correlation: corr, Status: Running, Done: []string{}}, results: map[string]json.RawMessage{}}
		c.convs[corr] = cs
		c.order = append(c.order, corr)
	}
	return cs
}

func (c *Choreography) act(ctx context.Context, p *Participant, d bus.Delivery) error {
	corr := d.Correlation()
	v, err := func() (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panicked: %v", r)
			}
		}()
		return p.Do(ctx, d)
	}()
	if err != nil {
		c.mu.Lock()
		cs := c.conv(corr)
		cs.Status = Compensating
		cs.Error = &StepError{Step: p.Step, Error: err.Error()}
		c.settleLocked(cs)
		c.mu.Unlock()
		if _, perr := d.Publish(p.Failure, StepError{Step: p.Step, Error: err.Error()}); perr != nil {
			return fmt.Errorf("%s failed (%v) and could not announce it: %w", p.Step, err, perr)
		}
		return nil
	}
	env, perr := d.Publish(p.Success, v)
	if perr != nil {
		return fmt.Errorf("%s: announce success: %w", p.Step, perr)
	}
	c.mu.Lock()
	cs := c.conv(corr)
	cs.Done = append(cs.Done, p.Step)
	cs.results[p.Step] = env.Payload
	if p.Success == c.final && cs.Status == Running {
		cs.Status = Completed
	}
	c.mu.Unlock()
	return nil
}

func (c *Choreography) undo(ctx context.Context, p *Participant, d bus.Delivery) error {
	corr := d.Correlation()
	c.mu.Lock()
	cs := c.conv(corr)
	done, did := cs.results[p.Step]
	already := slices.Contains(cs.Compensated, p.Step) || slices.ContainsFunc(cs.UndoErrors, func(e StepError) bool { return e.Step == p.Step })
	if cs.Status == Running {
		cs.Status = Compensating
	}
	c.mu.Unlock()
	if !did || already {
		return nil // nothing of ours to undo in this conversation
	}
	var err error
	if p.Undo != nil {
		err = func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panicked: %v", r)
				}
			}()
			return p.Undo(ctx, d, done)
		}()
	}
	c.mu.Lock()
	if err != nil {
		cs.UndoErrors = append(cs.UndoErrors, StepError{Step: p.Step, Error: err.Error()})
	} else {
		cs.Compensated = append(cs.Compensated, p.Step)
	}
	c.settleLocked(cs)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: undo: %w", p.Step, err)
	}
	if p.Compensated != "" {
		m := bus.Msg{Topic: p.Compensated, Payload: json.RawMessage(done), Headers: map[string]string{HeaderCompensates: p.Step}}
		if _, perr := d.Send(m); perr != nil {
			return fmt.Errorf("%s: announce compensation: %w", p.Step, perr)
		}
	}
	return nil
}

// settleLocked marks a compensating conversation failed once every done step is undone
// (or failed to undo).
func (c *Choreography) settleLocked(cs *convState) {
	if cs.Status != Compensating {
		return
	}
	for _, s := range cs.Done {
		if !slices.Contains(cs.Compensated, s) && !slices.ContainsFunc(cs.UndoErrors, func(e StepError) bool { return e.Step == s }) {
			if c.hasUndo(s) {
				return
			}
		}
	}
	cs.Status = Failed
}

func (c *Choreography) hasUndo(step string) bool {
	for _, p := range c.parts {
		if p.Step == step {
			return len(p.CompensateOn) > 0
		}
	}
	return false
}

// Progress returns one conversation's progress.
func (c *Choreography) Progress(correlation string) (Progress, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.convs[correlation]
	if !ok {
		return Progress{}, false
	}
	return cs.copy(), true
}

// Conversations returns every conversation's progress in the order they began.
func (c *Choreography) Conversations() []Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Progress, 0, len(c.order))
	for _, corr := range c.order {
		out = append(out, c.convs[corr].copy())
	}
	return out
}

func (cs *convState) copy() Progress {
	p := cs.Progress
	p.Done = slices.Clone(p.Done)
	p.Compensated = slices.Clone(p.Compensated)
	p.UndoErrors = slices.Clone(p.UndoErrors)
	if p.Error != nil {
		e := *p.Error
		p.Error = &e
	}
	return p
}
