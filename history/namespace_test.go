package history

import (
	"slices"
	"testing"

	"mfelab/bus"
)

func TestOneFileRecordsRunsInNamespacesOfTheirOwn(t *testing.T) {
	s := openTemp(t, Options{})
	var runs []*Store
	for i, ns := range []string{"run-1", "run-2"} {
		v, err := s.In(ns)
		if err != nil {
			t.Fatal(err)
		}
		b := bus.New(bus.Options{Seed: 7}) // the same seed: the same envelope ids in both runs
		if err := v.Attach(b); err != nil {
			t.Fatal(err)
		}
		runOrders(t, b, 2+i)
		v.Detach()
		if err := v.Flush(); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, v)
	}
	for i, v := range runs {
		got, err := v.Query(Query{Pattern: "order.created"})
		if err != nil || len(got) != 2+i {
			t.Fatalf("%s holds %d orders (%v), want %d", v.Namespace(), len(got), err, 2+i)
		}
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// the file is still open for the parent after its views are closed
	list, err := s.Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, n := range list {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{"default", "run-1", "run-2"}) || list[1].Messages == 0 || list[2].Messages <= list[1].Messages {
		t.Fatalf("namespaces %+v", list)
	}
	if _, err := s.In("no spaces allowed"); err == nil {
		t.Fatal("a bad namespace name must be refused")
	}
}
