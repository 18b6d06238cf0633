package history

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mfelab/bus"
)

func openTemp(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "h.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runOrders publishes n orders through a small chain: cart -> inventory -> payment, where
// payment fails every third order.
func runOrders(t *testing.T, b *bus.Bus, n int) {
	t.Helper()
	cart := b.MustRegister(bus.AppConfig{Name: "cart"})
	inv := b.MustRegister(bus.AppConfig{Name: "inventory"})
	pay := b.MustRegister(bus.AppConfig{Name: "payment"})
	inv.Subscribe("order.created", func(_ context.Context, d bus.Delivery) error {
		_, err := d.Publish("inventory.reserved", json.RawMessage(d.Payload))
		return err
	})
	pay.Subscribe("inventory.reserved", func(_ context.Context, d bus.Delivery) error {
		var i int
		json.Unmarshal(d.Payload, &i)
		if i%3 == 0 {
			return errors.New("card declined")
		}
		return nil
	})
	for i := range n {
		cart.Send(bus.Msg{Topic: "order.created", Payload: i, CorrelationID: fmt.Sprint("order-", i)})
		b.RunFor(10 * time.Millisecond)
	}
	b.RunUntilIdle()
}

func TestAttachRecordsMessagesDeliveriesAndDeadLetters(t *testing.T) {
	s := openTemp(t, Options{})
	b := bus.New(bus.Options{Seed: 1})
	if err := s.Attach(b); err != nil {
		t.Fatal(err)
	}
	if err := s.Attach(b); err == nil {
		t.Fatal("attaching twice must fail")
	}
	runOrders(t, b, 6)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	all, err := s.Query(Query{})
	if err != nil || len(all) != 12 {
		t.Fatalf("stored %d messages (%v), want 12", len(all), err)
	}
	for i, env := range all {
		if env.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d: not in publish order", i, env.Seq)
		}
	}
	t.Run("the last N of a pattern, newest first", func(t *testing.T) {
		got, _ := s.Query(Query{Pattern: "inventory.+", Order: NewestFirst, Limit: 2})
		if len(got) != 2 || got[0].Seq != 12 || got[1].Seq != 10 {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("one conversation by correlation id", func(t *testing.T) {
		got, _ := s.Query(Query{CorrelationID: "order-4"})
		if len(got) != 2 || got[0].Topic != "order.created" || got[1].Topic != "inventory.reserved" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("time range and from-sequence", func(t *testing.T) {
		got, _ := s.Query(Query{From: b.Epoch().Add(20 * time.Millisecond), To: b.Epoch().Add(40 * time.Millisecond)})
		if len(got) != 4 {
			t.Fatalf("got %d in [20ms,40ms), want 4: %v", len(got), got)
		}
		got, _ = s.Query(Query{FromSeq: 11})
		if len(got) != 2 {
			t.Fatalf("from seq 11: %v", got)
		}
	})
	t.Run("deliveries and dead letters are kept", func(t *testing.T) {
		ds, _ := s.Deliveries(all[1]) // inventory.reserved for order 0, which payment fails
		if len(ds) != 2 || ds[0].Status != "delivered" || ds[1].Status != "failed" || ds[1].Subscriber != "payment" {
			t.Fatalf("deliveries %+v", ds)
		}
		dead, _ := s.DeadLetters()
		if len(dead) != 2 || dead[0].Reason != "handler: card declined" || dead[0].Envelope.Seq != 2 {
			t.Fatalf("dead letters %+v", dead)
		}
	})
	t.Run("a duplicate id is skipped and counted", func(t *testing.T) {
		s.Append(all[0], all[1])
		s.Flush()
		st, _ := s.Stats()
		if st.Stored != 12 || st.Skipped != 2 || st.Appended != 12 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("a bad pattern is an error", func(t *testing.T) {
		if _, err := s.Query(Query{Pattern: "a.#.b"}); !errors.Is(err, bus.ErrInvalidTopic) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestNamespacesAreSeparate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	a, _ := Open(path, Options{Namespace: "run-a"})
	b := bus.New(bus.Options{})
	a.Attach(b)
	runOrders(t, b, 2)
	a.Close()
	other, err := Open(path, Options{Namespace: "run-b"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got, _ := other.Query(Query{}); len(got) != 0 {
		t.Fatalf("namespace run-b sees %d messages of run-a", len(got))
	}
	if _, err := Open(path, Options{Namespace: "bad name"}); err == nil {
		t.Fatal("a namespace with a space must be refused")
	}
}

func TestALockedFileFailsFastAndSaysWhichFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	first, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	_, err = Open(path, Options{OpenTimeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want ErrLocked naming %s", err, path)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("waited %v for a locked file", waited)
	}
}

func TestACorruptFileIsMovedAsideNotOverwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	garbage := bytes.Repeat([]byte("not a bbolt file "), 1000)
	os.WriteFile(path, garbage, 0o600)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recovered == "" || !strings.Contains(s.Recovered, ".corrupt-") {
		t.Fatalf("Recovered = %q", s.Recovered)
	}
	kept, err := os.ReadFile(s.Recovered)
	if err != nil || !bytes.Equal(kept, garbage) {
		t.Fatalf("the unreadable file was not kept intact at %s: %v", s.Recovered, err)
	}
	if err := s.Append(testEnvelope(1, "a.b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

func testEnvelope(seq uint64, topic string) *bus.Envelope {
	b := bus.New(bus.Options{Seed: seq})
	a := b.MustRegister(bus.AppConfig{Name: "t"})
	for range seq - 1 {
		a.Publish("x", nil)
	}
	env, _ := a.Publish(topic, map[string]uint64{"n": seq})
	return env
}

func TestGCEnforcesMaxMessagesAndTTLOldestFirst(t *testing.T) {
	s := openTemp(t, Options{MaxMessages: 5, TTL: time.Second})
	b := bus.New(bus.Options{})
	s.Attach(b)
	a := b.MustRegister(bus.AppConfig{Name: "a"})
	for i := range 12 {
		a.Publish(fmt.Sprintf("t.%d", i%3), i)
		b.RunFor(100 * time.Millisecond)
	}
	s.Flush()
	res, err := s.GC(b.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Collected != 7 || res.Remaining != 5 {
		t.Fatalf("GC %+v, want 7 collected and 5 left", res)
	}
	got, _ := s.Query(Query{Pattern: "t.0"})
	if len(got) != 1 || got[0].Seq != 10 {
		t.Fatalf("t.0 after GC: %v", got)
	}
	// Seq k was published at (k-1)*100ms. Of the five left (seq 8..12, at 0.7s..1.1s), a
	// GC at 2s with a TTL of 1s keeps those published at or after 1s: seq 11 and 12.
	res, _ = s.GC(b.Epoch().Add(2 * time.Second))
	if res.Collected != 3 || res.Remaining != 2 {
		t.Fatalf("after TTL: %+v", res)
	}
	got, _ = s.Query(Query{Pattern: "t.+"})
	if len(got) != 2 || got[0].Seq != 11 || got[1].Seq != 12 {
		t.Fatalf("left: %v", got)
	}
	if got, _ := s.Query(Query{CorrelationID: got[0].ID.String()}); len(got) != 1 {
		t.Fatalf("correlation index lost the survivor")
	}
}

// recordedOrders returns a store that recorded a bus running n orders, and an app "host"
// on that bus for a test's own messages.
func recordedOrders(t *testing.T, seed uint64, n int) (*Store, *bus.App) {
	t.Helper()
	s := openTemp(t, Options{})
	b := bus.New(bus.Options{Seed: seed})
	if err := s.Attach(b); err != nil {
		t.Fatal(err)
	}
	runOrders(t, b, n)
	return s, b.MustRegister(bus.AppConfig{Name: "host"})
}

func TestExportImportRoundTrips(t *testing.T) {
	s, h := recordedOrders(t, 9, 4)
	h.Send(bus.Msg{Topic: "ui.note", Payload: "a;b#c", SchemaVersion: "ui.note@2", Headers: map[string]string{"k": "v"}})
	s.Flush()
	dir := t.TempDir()
	want, _ := s.Query(Query{})

	for _, f := range []Format{NDJSON, CloudEvents} {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(dir, "log."+string(f))
			n, err := s.ExportFile(path, f, Query{})
			if err != nil || n != len(want) {
				t.Fatalf("exported %d (%v), want %d", n, err, len(want))
			}
			file, _ := os.Open(path)
			defer file.Close()
			res, err := Import(file, f)
			if err != nil || len(res.Errors) != 0 || len(res.Envelopes) != len(want) {
				t.Fatalf("import: %d good, errors %v, %v", len(res.Envelopes), res.Errors, err)
			}
			for i := range want {
				w := *want[i]
				if f == CloudEvents {
					w.Meta.Headers = nil // CloudEvents carries no free headers
				}
				a, _ := json.Marshal(&w)
				g, _ := json.Marshal(res.Envelopes[i])
				if !bytes.Equal(a, g) {
					t.Fatalf("envelope %d changed:\n%s\n%s", i, a, g)
				}
			}
		})
	}
	t.Run("csv has a header and one row per message", func(t *testing.T) {
		var buf bytes.Buffer
		s.Export(&buf, CSV, Query{})
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != len(want)+1 || !strings.HasPrefix(lines[0], "seq,id,ts,topic,source") {
			t.Fatalf("csv:\n%s", buf.String())
		}
	})
	t.Run("mermaid is drawn by the session, not written by the store", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := s.Export(&buf, Mermaid, Query{}); !errors.Is(err, ErrDrawn) {
			t.Fatalf("export as Mermaid: %v", err)
		}
	})
	t.Run("a failed export leaves no file behind", func(t *testing.T) {
		path := filepath.Join(dir, "bad.ndjson")
		if _, err := s.ExportFile(path, Format("xml"), Query{}); err == nil {
			t.Fatal("unknown format accepted")
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatal("a failed export left a file")
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Fatalf("temporary file left: %s", e.Name())
			}
		}
	})
}

func TestStoredNDJSONIsWhatEncodingGives(t *testing.T) {
	s, h := recordedOrders(t, 3, 5)
	h.Send(bus.Msg{Topic: "ui.note", Payload: map[string]any{"html": "<b>&</b>", "text": "naïve ✓\n", "n": []any{1.5, nil, true}},
		SchemaVersion: "ui.note@2", Headers: map[string]string{"z": "1", "a": "<2>"}})
	h.PublishJSON("ui.raw", json.RawMessage(` { "spaced" : [ 1 , 2 ] } `))
	s.Flush()

	// FromSeq 1 selects the same messages but takes the path that decodes and encodes.
	for _, q := range []struct{ fast, slow Query }{
		{Query{}, Query{FromSeq: 1}},
		{Query{Order: NewestFirst, Limit: 4}, Query{FromSeq: 1, Order: NewestFirst, Limit: 4}},
	} {
		var fast, slow bytes.Buffer
		nf, err := s.Export(&fast, NDJSON, q.fast)
		if err != nil {
			t.Fatal(err)
		}
		ns, err := s.Export(&slow, NDJSON, q.slow)
		if err != nil {
			t.Fatal(err)
		}
		if nf != ns || nf == 0 || fast.String() != slow.String() {
			t.Fatalf("stored export (%d) differs from encoded export (%d):\n%s\n---\n%s", nf, ns, fast.String(), slow.String())
		}
	}
}

func TestExportOfADamagedRecordSaysWhichRow(t *testing.T) {
	s := openTemp(t, Options{})
	s.Append(testEnvelope(1, "a.b"), testEnvelope(2, "a.c"))
	s.Flush()
	if err := s.db.Update(func(tx *bolt.Tx) error { return s.sub(tx, bMsgs).Put(rowKey(2), []byte(`{"id":`)) }); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{{}, {FromSeq: 1}} {
		if _, err := s.Export(io.Discard, NDJSON, q); err == nil || !strings.Contains(err.Error(), "row 2") {
			t.Errorf("export %+v of a damaged store: %v, want an error naming row 2", q, err)
		}
	}
}

func TestImportReportsEveryBadLineAndKeepsTheGoodOnes(t *testing.T) {
	good := testEnvelope(1, "a.b")
	line, _ := json.Marshal(good)
	good2 := testEnvelope(2, "a.c")
	line2, _ := json.Marshal(good2)
	input := strings.Join([]string{
		string(line),
		`{"id":"x"}`,
		``,
		`not json`,
		strings.Replace(string(line2), `"topic":"a.c"`, `"topic":"a..c"`, 1),
		strings.Replace(string(line2), `"seq":2`, `"seq":2,"extra":1`, 1),
		string(line2),
	}, "\n")
	res, err := Import(strings.NewReader(input), NDJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Envelopes) != 2 {
		t.Fatalf("%d good envelopes, want 2", len(res.Envelopes))
	}
	var lines []int
	for _, e := range res.Errors {
		lines = append(lines, e.Line)
	}
	if fmt.Sprint(lines) != "[2 4 5 6]" {
		t.Fatalf("bad lines %v (%v), want [2 4 5 6]", lines, res.Errors)
	}
	if !strings.Contains(res.Errors[2].Reason, "empty segment") || !strings.Contains(res.Errors[3].Reason, `unknown field "extra"`) {
		t.Fatalf("reasons: %v", res.Errors)
	}

	ce := "[\n" + `{"specversion":"1.0","id":"` + good.ID.String() + `","source":"t","type":"a.b","time":"2026-01-01T00:00:00Z","datacontenttype":"application/json","data":1,"sequence":"1"}` +
		",\n" + `{"specversion":"0.3"}` + "\n]"
	res, err = Import(strings.NewReader(ce), CloudEvents)
	if err != nil || len(res.Envelopes) != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 3 {
		t.Fatalf("cloudevents: %+v %v", res, err)
	}
}

func FuzzImport(f *testing.F) {
	line, _ := json.Marshal(testEnvelope(1, "a.b"))
	f.Add(line)
	f.Add([]byte("[{\"specversion\":\"1.0\"}]"))
	f.Add([]byte("{}\n\n{\"id\":1}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{NDJSON, CloudEvents} {
			res, _ := Import(bytes.NewReader(data), format)
			for _, env := range res.Envelopes {
				if checkEnvelope(env) != nil {
					t.Fatalf("an invalid envelope was accepted: %+v", env)
				}
			}
		}
	})
}

func TestStatesPersistAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s, _ := Open(path, Options{})
	type saga struct{ Step int }
	if err := s.PutState("saga", "order-1", saga{Step: 3}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, _ = Open(path, Options{})
	defer s.Close()
	var got saga
	if ok, err := s.State("saga", "order-1", &got); !ok || err != nil || got.Step != 3 {
		t.Fatalf("state %+v ok=%v err=%v", got, ok, err)
	}
	if err := s.PutState("saga", "x", func() {}); err == nil {
		t.Fatal("an unencodable state was accepted")
	}
}

// The crash test runs this test binary again as a child that appends until killed.
const crashChildEnv = "MFELAB_HISTORY_CRASH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		crashChild(spec)
		return
	}
	os.Exit(m.Run())
}

// crashChild appends envelopes with Seq 1, 2, 3... and prints each Seq once Append returned.
func crashChild(spec string) {
	path, mode, _ := strings.Cut(spec, "|")
	s, err := Open(path, Options{Durable: mode == "durable"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	b := bus.New(bus.Options{Seed: 7})
	a := b.MustRegister(bus.AppConfig{Name: "w"})
	out := bufio.NewWriter(os.Stdout)
	for {
		env, _ := a.Publish("crash.test", map[string]string{"pad": strings.Repeat("x", 200)})
		if err := s.Append(env); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Fprintln(out, env.Seq)
		out.Flush()
	}
}

func TestAKilledWriterLeavesAConsistentPrefix(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, mode := range []string{"batched", "durable"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+path+"|"+mode)
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			var acked uint64
			for sc.Scan() {
				n, err := strconv.ParseUint(sc.Text(), 10, 64)
				if err != nil {
					t.Fatalf("child: %s", sc.Text())
				}
				acked = n
				if acked >= map[string]uint64{"batched": 3000, "durable": 500}[mode] {
					cmd.Process.Kill() // SIGKILL, mid-write
					break
				}
			}
			cmd.Wait()
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("reopen after kill: %v", err)
			}
			defer s.Close()
			got, err := s.Query(Query{})
			if err != nil {
				t.Fatal(err)
			}
			for i, env := range got {
				if env.Seq != uint64(i+1) {
					t.Fatalf("row %d holds seq %d: not a prefix of what was published", i, env.Seq)
				}
			}
			if mode == "durable" && uint64(len(got)) < acked {
				t.Fatalf("durable store kept %d messages, but %d were acknowledged", len(got), acked)
			}
			t.Logf("%s: %d acknowledged, %d on disk after SIGKILL", mode, acked, len(got))
		})
	}
}
