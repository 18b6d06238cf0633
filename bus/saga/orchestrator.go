package saga

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
)

// Status is where a saga instance is.
type Status string

// The statuses. Completed and Failed are final; Failed means the saga was rolled back
// (see State.CompensationErrors for what could not be undone).
const (
	Running      Status = "running"
	Compensating Status = "compensating"
	Completed    Status = "completed"
	Failed       Status = "failed"
)

// Step is one step of a saga.
type Step struct {
	Name string
	// Action does the step's work; its value is kept in State.Results[Name].
	Action func(ctx context.Context, x *Exec) *async.Future[any]
	// Compensate undoes the work; nil when there is nothing to undo.
	Compensate func(ctx context.Context, x *Exec) *async.Future[any]
}

// Definition is a saga's steps.
type Definition struct {
	Name  string
	Steps []Step
	// StepTimeout fails an action or compensation that has not finished in time (0: none).
	StepTimeout time.Duration
}

// StepError is a step that failed.
type StepError struct {
	Step  string `json:"step"`
	Error string `json:"error"`
}

// State is a saga instance as published and saved.
type State struct {
	Saga   string `json:"saga"`
	ID     string `json:"id"`
	Status Status `json:"status"`
	// Step is the index of the step running (or to run next on resume).
	Step int `json:"step"`
	// Current names the step or compensation running, if any.
	Current            string                     `json:"current,omitempty"`
	Done               []string                   `json:"done"`
	Compensated        []string                   `json:"compensated,omitempty"`
	Error              *StepError                 `json:"error,omitempty"`
	CompensationErrors []StepError                `json:"compensationErrors,omitempty"`
	Input              json.RawMessage            `json:"input,omitempty"`
	Results            map[string]json.RawMessage `json:"results,omitempty"`
	StartedAt          time.Time                  `json:"startedAt"`
	UpdatedAt          time.Time                  `json:"updatedAt"`
	// Version counts the state's changes.
	Version int `json:"version"`
}

// Final reports whether the saga has ended.
func (s State) Final() bool { return s.Status == Completed || s.Status == Failed }

func (s State) clone() State {
	s.Done = slices.Clone(s.Done)
	s.Compensated = slices.Clone(s.Compensated)
	s.CompensationErrors = slices.Clone(s.CompensationErrors)
	if s.Error != nil {
		e := *s.Error
		s.Error = &e
	}
	r := make(map[string]json.RawMessage, len(s.Results))
	for k, v := range s.Results {
		r[k] = v
	}
	s.Results = r
	return s
}

// Exec is what a step sees of its running saga.
type Exec struct {
	o       *Orchestrator
	state   *State
	cause   *bus.Envelope
	undoing string
}

// HeaderCompensates marks a message sent to undo a saga step; its value is the step. The
// flow diagram draws such messages as compensations, whatever their topic.
const HeaderCompensates = "saga-compensates"

// Undoing names the step whose compensation is being started, or "" during an action.
// Compensations put it in the HeaderCompensates header of what they send.
func (x *Exec) Undoing() string { return x.undoing }

// ID is the instance ID (also the correlation id of everything the saga sends).
func (x *Exec) ID() string { return x.state.ID }

// Input decodes the saga's input into v.
func (x *Exec) Input(v any) error { return json.Unmarshal(x.state.Input, v) }

// Result decodes an earlier step's result into v.
func (x *Exec) Result(step string, v any) error {
	raw, ok := x.state.Results[step]
	if !ok {
		return fmt.Errorf("saga %s: step %q has no result", x.state.Saga, step)
	}
	return json.Unmarshal(raw, v)
}

// Cause is the envelope that messages sent by this step should be caused by: the latest
// published state of this instance.
func (x *Exec) Cause() *bus.Envelope { return x.cause }

// App is the orchestrating app.
func (x *Exec) App() *bus.App { return x.o.app }

// Options configure an Orchestrator.
type Options struct {
	// Save persists each new state (history.Store.PutState fits); an error is reported on
	// the bus as a rejected publish would be: the saga goes on, the failure is returned by
	// SaveErrors.
	Save func(State) error
}

// Orchestrator runs instances of one Definition as one app.
type Orchestrator struct {
	app  *bus.App
	def  Definition
	opts Options

	mu        sync.Mutex
	instances map[string]*State
	saveErrs  []error
}

// StateTopic is where a saga publishes its instances' states.
func StateTopic(saga string) string { return "saga." + saga + ".state" }

// New makes an orchestrator.
func New(app *bus.App, def Definition, opts Options) (*Orchestrator, error) {
	if err := bus.ValidateTopic(StateTopic(def.Name)); err != nil {
		return nil, fmt.Errorf("saga name: %w", err)
	}
	seen := map[string]bool{}
	for i, s := range def.Steps {
		if s.Name == "" || s.Action == nil {
			return nil, fmt.Errorf("saga %s: step %d needs a name and an action", def.Name, i)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("saga %s: step %q appears twice", def.Name, s.Name)
		}
		seen[s.Name] = true
	}
	return &Orchestrator{app: app, def: def, opts: opts, instances: map[string]*State{}}, nil
}

// Definition returns the saga's definition.
func (o *Orchestrator) Definition() Definition { return o.def }

// Start runs a new instance. cause, if not nil, is the message that started it.
func (o *Orchestrator) Start(ctx context.Context, id string, input any, cause *bus.Envelope) *async.Future[State] {
	raw, err := json.Marshal(input)
	if err != nil {
		return async.Failed[State](fmt.Errorf("saga %s: input: %w", o.def.Name, err))
	}
	now := o.app.Bus().Now()
	st := &State{Saga: o.def.Name, ID: id, Status: Running, Done: []string{}, Input: raw, Results: map[string]json.RawMessage{},
		StartedAt: now, UpdatedAt: now}
	o.mu.Lock()
	if _, dup := o.instances[id]; dup {
		o.mu.Unlock()
		return async.Failed[State](fmt.Errorf("saga %s: instance %q already exists", o.def.Name, id))
	}
	o.instances[id] = st
	o.mu.Unlock()
	out, settle := async.New[State]()
	x := &Exec{o: o, state: st, cause: cause}
	o.publish(x)
	o.runStep(ctx, x, settle)
	return out
}

// Resume continues an instance from a saved state.
func (o *Orchestrator) Resume(ctx context.Context, saved State) *async.Future[State] {
	if saved.Saga != o.def.Name {
		return async.Failed[State](fmt.Errorf("saga %s: cannot resume an instance of %q", o.def.Name, saved.Saga))
	}
	st := saved.clone()
	if st.Final() {
		return async.Settled(st, nil)
	}
	o.mu.Lock()
	o.instances[st.ID] = &st
	o.mu.Unlock()
	out, settle := async.New[State]()
	x := &Exec{o: o, state: &st}
	switch st.Status {
	case Running:
		o.runStep(ctx, x, settle)
	case Compensating:
		o.compensate(ctx, x, settle)
	default:
		return async.Failed[State](fmt.Errorf("saga %s: instance %s has unknown status %q", o.def.Name, st.ID, st.Status))
	}
	return out
}

// Instance returns a copy of an instance's current state.
func (o *Orchestrator) Instance(id string) (State, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st, ok := o.instances[id]
	if !ok {
		return State{}, false
	}
	return st.clone(), true
}

// Instances returns every instance's state, by ID.
func (o *Orchestrator) Instances() []State {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]State, 0, len(o.instances))
	for _, st := range o.instances {
		out = append(out, st.clone())
	}
	slices.SortFunc(out, func(a, b State) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// SaveErrors returns the errors the Save hook has returned.
func (o *Orchestrator) SaveErrors() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.saveErrs)
}

// publish records a change: version, time, the bus message and the save hook.
func (o *Orchestrator) publish(x *Exec) {
	o.mu.Lock()
	x.state.Version++
	x.state.UpdatedAt = o.app.Bus().Now()
	if x.state.Status == Running && x.state.Step < len(o.def.Steps) {
		x.state.Current = o.def.Steps[x.state.Step].Name
	}
	snap := x.state.clone()
	o.mu.Unlock()
	m := bus.Msg{Topic: StateTopic(o.def.Name), Payload: snap, CorrelationID: snap.ID}
	if x.cause != nil {
		m.CausationID = x.cause.ID
		m.TraceParent = bus.TraceContext{TraceID: x.cause.Meta.TraceParent.TraceID}
	}
	if env, err := o.app.Send(m); err == nil && env != nil {
		x.cause = env
	}
	if o.opts.Save != nil {
		if err := o.opts.Save(snap); err != nil {
			o.mu.Lock()
			o.saveErrs = append(o.saveErrs, fmt.Errorf("saga %s/%s v%d: %w", snap.Saga, snap.ID, snap.Version, err))
			o.mu.Unlock()
		}
	}
}

func (o *Orchestrator) withTimeout(f *async.Future[any]) *async.Future[any] {
	d := o.def.StepTimeout
	if d <= 0 {
		return f
	}
	out, settle := async.New[any]()
	t := o.app.Bus().After(d, func() { settle(nil, fmt.Errorf("no result within %v", d)) })
	f.Then(func(v any, err error) {
		t.Stop()
		settle(v, err)
	})
	return out
}

func (o *Orchestrator) call(fn func(context.Context, *Exec) *async.Future[any], ctx context.Context, x *Exec) (f *async.Future[any]) {
	defer func() {
		if r := recover(); r != nil {
			f = async.Failed[any](fmt.Errorf("panicked: %v", r))
		}
	}()
	f = fn(ctx, x)
	if f == nil {
		return async.Failed[any](errors.New("returned no future"))
	}
	return o.withTimeout(f)
}

func (o *Orchestrator) runStep(ctx context.Context, x *Exec, settle func(State, error) bool) {
	st := x.state
	if st.Step >= len(o.def.Steps) {
		o.mu.Lock()
		st.Status, st.Current = Completed, ""
		o.mu.Unlock()
		o.publish(x)
		settle(o.snapshot(x), nil)
		return
	}
	step := o.def.Steps[st.Step]
	o.mu.Lock()
	st.Current = step.Name
	o.mu.Unlock()
	o.call(step.Action, ctx, x).Then(func(v any, err error) {
		if err == nil {
			raw, merr := json.Marshal(v)
			if merr != nil {
				err = fmt.Errorf("result: %w", merr)
			} else {
				o.mu.Lock()
				st.Results[step.Name] = raw
				st.Done = append(st.Done, step.Name)
				st.Step++
				o.mu.Unlock()
				o.publish(x)
				o.runStep(ctx, x, settle)
				return
			}
		}
		o.mu.Lock()
		st.Status = Compensating
		st.Error = &StepError{Step: step.Name, Error: err.Error()}
		st.Current = ""
		o.mu.Unlock()
		o.publish(x)
		o.compensate(ctx, x, settle)
	})
}

// compensate undoes the next completed step not yet handled, newest first.
func (o *Orchestrator) compensate(ctx context.Context, x *Exec, settle func(State, error) bool) {
	st := x.state
	next := ""
	for _, name := range slices.Backward(st.Done) {
		if slices.Contains(st.Compensated, name) || slices.ContainsFunc(st.CompensationErrors, func(e StepError) bool { return e.Step == name }) {
			continue
		}
		next = name
		break
	}
	if next == "" {
		o.mu.Lock()
		st.Status, st.Current = Failed, ""
		o.mu.Unlock()
		o.publish(x)
		settle(o.snapshot(x), nil)
		return
	}
	i := slices.IndexFunc(o.def.Steps, func(s Step) bool { return s.Name == next })
	if i < 0 || o.def.Steps[i].Compensate == nil {
		o.mu.Lock()
		st.Compensated = append(st.Compensated, next) // nothing to undo
		o.mu.Unlock()
		o.compensate(ctx, x, settle)
		return
	}
	o.mu.Lock()
	st.Current = "undo " + next
	o.mu.Unlock()
	x.undoing = next
	undo := o.call(o.def.Steps[i].Compensate, ctx, x)
	x.undoing = ""
	undo.Then(func(_ any, err error) {
		o.mu.Lock()
		if err != nil {
			st.CompensationErrors = append(st.CompensationErrors, StepError{Step: next, Error: err.Error()})
		} else {
			st.Compensated = append(st.Compensated, next)
		}
		st.Current = ""
		o.mu.Unlock()
		o.publish(x)
		o.compensate(ctx, x, settle)
	})
}

func (o *Orchestrator) snapshot(x *Exec) State {
	o.mu.Lock()
	defer o.mu.Unlock()
	return x.state.clone()
}
