package history

import (
	"errors"
	"path/filepath"
	"testing"

	"mfelab/bus"
)

// DeleteRun removes one run, its record and its messages, and leaves the others alone;
// an unknown run and a read-only file are errors that say so.
func TestDeleteRunRemovesOneRunAndItsMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		info, ns, err := st.NewRun(RunInfo{Scenario: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		b := bus.New(bus.Options{Seed: 1})
		if err := ns.Attach(b); err != nil {
			t.Fatal(err)
		}
		runOrders(t, b, 5)
		ns.Close()
		ids = append(ids, info.ID)
	}
	if err := st.DeleteRun(ids[0]); err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs()
	if err != nil || len(runs) != 1 || runs[0].ID != ids[1] || runs[0].Messages == 0 {
		t.Fatalf("after deleting %s: %+v %v", ids[0], runs, err)
	}
	nss, _ := st.Namespaces()
	for _, ns := range nss {
		if ns.Name == ids[0] {
			t.Fatalf("the deleted run's messages are still there: %+v", ns)
		}
	}
	if err := st.DeleteRun(ids[0]); !errors.Is(err, ErrNoRun) {
		t.Fatalf("deleting it again: %v", err)
	}
	st.Close()

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.DeleteRun(ids[1]); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("deleting from a read-only file: %v", err)
	}
}
