package history

import (
	"path/filepath"
	"testing"

	"mfelab/bus"
)

// The bus calls Record with its lock held: it must return while the store cannot write
// at all, in durable mode, with a queue of one. Holding bbolt's single write transaction
// stalls the store's writer; a Record that waited for it would never return here.
func TestRecordNeverWaitsForTheStore(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "h.db"), Options{Durable: true, QueueSize: 1, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, ns, err := st.NewRun(RunInfo{Scenario: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	tx, err := st.db.Begin(true) // the writer now waits for this transaction
	if err != nil {
		t.Fatal(err)
	}
	rec := ns.NewRecorder()
	b := bus.New(bus.Options{Seed: 1})
	app, _ := b.Register(bus.AppConfig{Name: "pub"})
	b.Tap(rec.Record)
	const n = 2000
	for i := range n {
		if _, err := app.Send(bus.Msg{Topic: "t.x", Payload: i}); err != nil {
			t.Fatal(err)
		}
	}
	// every publish returned with the store stalled; now let it write
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ns.Query(Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d of %d messages stored", len(got), n)
	}
	tr, err := ns.Trace()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Records) != n || tr.Records[0].Kind != bus.TracePublished {
		t.Fatalf("%d trace records, first %+v", len(tr.Records), tr.Records)
	}
}

func TestRunsAreListedNewestFirstAndFoundByID(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "h.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Run("latest"); err == nil {
		t.Fatal("an empty file has a latest run")
	}
	var ids []string
	for _, sc := range []string{"a", "b", "c"} {
		info, ns, err := st.NewRun(RunInfo{Scenario: sc, Seed: 3, Knobs: map[string]string{"z": "1", "a": "2"}})
		if err != nil {
			t.Fatal(err)
		}
		ns.Close()
		ids = append(ids, info.ID)
	}
	runs, err := st.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].ID != ids[2] || runs[2].ID != ids[0] || runs[0].KnobText() != "a=2 z=1" {
		t.Fatalf("runs %+v", runs)
	}
	latest, err := st.Run("latest")
	if err != nil || latest.Scenario != "c" {
		t.Fatalf("latest %+v %v", latest, err)
	}
	latest.Outcome = OutcomePassed
	if err := st.UpdateRun(latest); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.Run(ids[2]); r.Outcome != OutcomePassed {
		t.Fatalf("updated run %+v", r)
	}
	if _, err := st.Run("run-999999"); err == nil {
		t.Fatal("an unknown run was found")
	}
}

// A run whose recording never ended (its program was killed) reads as interrupted once
// the file is opened again, with what it committed.
func TestARunLeftRecordingIsInterruptedAtTheNextOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, ns, _ := st.NewRun(RunInfo{Scenario: "killed"})
	b := bus.New(bus.Options{Seed: 1})
	if err := ns.Attach(b); err != nil {
		t.Fatal(err)
	}
	app, _ := b.Register(bus.AppConfig{Name: "pub"})
	for i := range 3 {
		app.Send(bus.Msg{Topic: "t.x", Payload: i})
	}
	ns.Close() // the run's record was never updated, as when the program is killed
	st.Close()
	again, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	r, err := again.Run(info.ID)
	if err != nil || r.Outcome != OutcomeInterrupted || r.Messages != 3 {
		t.Fatalf("%+v %v", r, err)
	}
}
