package scenarios

// The shape of a scenario file as read, before it is compiled: one type per block of
// docs/scenario-format.md.
type fileDoc struct {
	ID          string           `yaml:"id"`
	Title       string           `yaml:"title"`
	Watch       string           `yaml:"watch"`
	Horizon     string           `yaml:"horizon"`
	LastUntil   tmpl             `yaml:"last-until"`
	Knobs       []fileKnob       `yaml:"knobs"`
	Vars        *ynode           `yaml:"vars"`
	Limits      fileLimits       `yaml:"limits"`
	Apps        []fileApp        `yaml:"apps"`
	Breakers    []fileBreaker    `yaml:"breakers"`
	Reactions   []fileReaction   `yaml:"reactions"`
	Calls       []fileCall       `yaml:"calls"`
	Aggregators []fileAggregator `yaml:"aggregators"`
	Sagas       []fileSaga       `yaml:"sagas"`
	Timeline    []fileEntry      `yaml:"timeline"`
	Checks      []fileCheck      `yaml:"checks"`

	// Choreographies are sagas with no conductor (filesagachoreo.go).
	Choreographies []fileChoreography `yaml:"choreographies"`

	Contracts *fileContracts `yaml:"contracts"`

	contracts *contractSet // compiled from Contracts (filecontracts.go)
}

type fileKnob struct {
	Pos     Pos
	Name    string   `yaml:"name"`
	Label   string   `yaml:"label"`
	Help    string   `yaml:"help"`
	Kind    string   `yaml:"kind"`
	Default string   `yaml:"default"`
	Choices []string `yaml:"choices"`
	Min     string   `yaml:"min"`
	Max     string   `yaml:"max"`
	Samples []string `yaml:"samples"`
}

type fileLimits struct {
	Pos        Pos
	PerRun     int `yaml:"publishes-per-run"`
	PerInstant int `yaml:"publishes-per-instant"`
}

type fileApp struct {
	Pos       Pos
	Name      string     `yaml:"name"`
	Title     string     `yaml:"title"`
	Role      string     `yaml:"role"`
	Publish   []string   `yaml:"publish"`
	Subscribe []string   `yaml:"subscribe"`
	Latency   tmpl       `yaml:"latency"`
	State     *ynode     `yaml:"state"`
	Faults    *fileFault `yaml:"faults"`
}

// fileFault sets an app's fault switches, at the start (under an app) or on the timeline.
type fileFault struct {
	Pos             Pos
	App             string `yaml:"app"`
	Down            tmpl   `yaml:"down"`
	FailNext        tmpl   `yaml:"fail-next"`
	Op              tmpl   `yaml:"op"`
	FailProbability tmpl   `yaml:"fail-probability"`
	Latency         tmpl   `yaml:"latency"`
}

type fileBreaker struct {
	Pos                 Pos
	Name                string `yaml:"name"`
	App                 string `yaml:"app"`
	ConsecutiveFailures tmpl   `yaml:"consecutive-failures"`
	FailureRate         tmpl   `yaml:"failure-rate"`
	MinimumVolume       tmpl   `yaml:"minimum-volume"`
	Window              tmpl   `yaml:"window"`
	OpenTimeout         tmpl   `yaml:"open-timeout"`
	HalfOpenMaxCalls    tmpl   `yaml:"half-open-max-calls"`
	SuccessThreshold    tmpl   `yaml:"success-threshold"`
}

type fileRetry struct {
	Pos         Pos
	MaxAttempts tmpl `yaml:"max-attempts"`
	Initial     tmpl `yaml:"initial"`
	Max         tmpl `yaml:"max"`
	Multiplier  tmpl `yaml:"multiplier"`
	Jitter      tmpl `yaml:"jitter"`
	Stream      int  `yaml:"stream"`
}

type fileDedup struct {
	Pos         Pos
	Window      tmpl         `yaml:"window"`
	OnDuplicate []fileAction `yaml:"on-duplicate"`
}

type fileFail struct {
	Pos       Pos
	When      tmpl `yaml:"when"`
	Message   tmpl `yaml:"message"`
	Code      tmpl `yaml:"code"`
	Permanent bool `yaml:"permanent"`
}

type fileReaction struct {
	Pos        Pos
	App        string       `yaml:"app"`
	On         string       `yaml:"on"`
	When       tmpl         `yaml:"when"`
	Op         string       `yaml:"op"`
	Faults     *bool        `yaml:"faults"`
	Retry      *fileRetry   `yaml:"retry"`
	Idempotent *fileDedup   `yaml:"idempotent"`
	Fail       []fileFail   `yaml:"fail"`
	Do         []fileAction `yaml:"do"`
	Delay      tmpl         `yaml:"delay"`
	Reply      *ynode       `yaml:"reply"`
	// Let holds values computed once per message, before the actions change the state
	// they may read: a reply can say what was so when the request arrived.
	Let *ynode `yaml:"let"`
}

type filePublish struct {
	Pos         Pos
	Topic       tmpl   `yaml:"topic"`
	Payload     *ynode `yaml:"payload"`
	Correlation tmpl   `yaml:"correlation"`
	Headers     *ynode `yaml:"headers"`
	Contract    string `yaml:"contract"`
}

type fileSagaStart struct {
	Pos      Pos
	Name     string       `yaml:"name"`
	ID       tmpl         `yaml:"id"`
	Input    *ynode       `yaml:"input"`
	Announce *filePublish `yaml:"announce"`
}

type fileAction struct {
	Pos     Pos
	When    tmpl           `yaml:"when"`
	App     string         `yaml:"app"`
	Set     *ynode         `yaml:"set"`
	Unset   []tmpl         `yaml:"unset"`
	Add     *ynode         `yaml:"add"`
	Note    tmpl           `yaml:"note"`
	Record  *ynode         `yaml:"record"`
	Publish *filePublish   `yaml:"publish"`
	Call    string         `yaml:"call"`
	Gather  string         `yaml:"gather"`
	Saga    *fileSagaStart `yaml:"saga"`
	Fault   *fileFault     `yaml:"fault"`
	After   tmpl           `yaml:"after"`
	Each    tmpl           `yaml:"each"`
	As      string         `yaml:"as"`
	Do      []fileAction   `yaml:"do"`
	Retry   bool           `yaml:"retry-dead-letters"`
	Force   *fileForce     `yaml:"breaker"`
}

type fileForce struct {
	Pos   Pos
	Name  string `yaml:"name"`
	State string `yaml:"state"` // open | closed | released
}

type fileFallback struct {
	Pos   Pos
	Last  bool         `yaml:"last-result"`
	Value *ynode       `yaml:"value"`
	None  tmpl         `yaml:"none"`
	Do    []fileAction `yaml:"do"`
}

type fileCall struct {
	Pos         Pos
	Name        string        `yaml:"name"`
	App         string        `yaml:"app"`
	Method      string        `yaml:"method"`
	Payload     *ynode        `yaml:"payload"`
	Correlation tmpl          `yaml:"correlation"`
	RPCTimeout  tmpl          `yaml:"rpc-timeout"`
	Timeout     tmpl          `yaml:"timeout"`
	Breaker     string        `yaml:"breaker"`
	Retry       *fileRetry    `yaml:"retry"`
	Fallback    *fileFallback `yaml:"fallback"`
	OnOK        []fileAction  `yaml:"on-ok"`
	OnFallback  []fileAction  `yaml:"on-fallback"`
	OnError     []fileAction  `yaml:"on-error"`
}

type fileAggregator struct {
	Pos      Pos
	Name     string       `yaml:"name"`
	App      string       `yaml:"app"`
	Sources  []string     `yaml:"sources"`
	Timeout  tmpl         `yaml:"timeout"`
	Partial  tmpl         `yaml:"partial"`
	OnResult []fileAction `yaml:"on-result"`
	OnError  []fileAction `yaml:"on-error"`
}

type fileSagaStep struct {
	Pos               Pos
	Name              string       `yaml:"name"`
	Call              string       `yaml:"call"`
	Payload           *ynode       `yaml:"payload"`
	Publish           *filePublish `yaml:"publish"`
	Compensate        string       `yaml:"compensate"`
	CompensatePayload *ynode       `yaml:"compensate-payload"`
}

type fileSaga struct {
	Pos         Pos
	Name        string         `yaml:"name"`
	App         string         `yaml:"app"`
	RPCTimeout  tmpl           `yaml:"rpc-timeout"`
	StepTimeout tmpl           `yaml:"step-timeout"`
	Steps       []fileSagaStep `yaml:"steps"`
	OnDone      []fileAction   `yaml:"on-done"`
}

type fileEntry struct {
	Pos   Pos
	At    tmpl         `yaml:"at"`
	Every tmpl         `yaml:"every"`
	Count tmpl         `yaml:"count"`
	Act   tmpl         `yaml:"act"`
	When  tmpl         `yaml:"when"`
	Do    []fileAction `yaml:"do"`
}

type fileCheck struct {
	Pos    Pos
	Name   tmpl `yaml:"name"`
	When   tmpl `yaml:"when"`
	That   tmpl `yaml:"that"`
	Expect tmpl `yaml:"expect"`
	Equals tmpl `yaml:"equals"`
	Detail tmpl `yaml:"detail"`
}
