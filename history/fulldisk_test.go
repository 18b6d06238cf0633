//go:build linux

package history

import (
	"bytes"
	"log/slog"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"mfelab/bus"
)

// withFileSizeLimit makes every file this process writes stop growing at limit bytes, as a
// full disk would stop it, until the returned func (or the test's end) lifts it.
func withFileSizeLimit(t *testing.T, limit uint64) (lift func()) {
	t.Helper()
	signal.Ignore(syscall.SIGXFSZ) // report EFBIG instead of killing the process
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip("no file size limit here:", err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: old.Max}); err != nil {
		t.Skip("cannot limit file sizes here:", err)
	}
	lift = func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }
	t.Cleanup(func() {
		lift()
		signal.Reset(syscall.SIGXFSZ)
	})
	return lift
}

// A disk that fills up stops the recording: the failure is logged once and returned by
// the recorder, the bus is never held up, and everything committed before it reads back.
func TestAFullDiskStopsTheRecordingOnceAndKeepsWhatWasCommitted(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(map[bool]string{false: "batched", true: "durable"}[durable], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			var logs bytes.Buffer
			st, err := Open(path, Options{Durable: durable, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			info, ns, err := st.NewRun(RunInfo{Scenario: "full-disk"})
			if err != nil {
				t.Fatal(err)
			}
			lift := withFileSizeLimit(t, 2<<20)
			rec := ns.NewRecorder()
			b := bus.New(bus.Options{Seed: 1})
			app, _ := b.Register(bus.AppConfig{Name: "pub"})
			b.Tap(rec.Record)
			const sent = 100_000
			for i := range sent {
				if _, err := app.Send(bus.Msg{Topic: "disk.fill", Payload: i}); err != nil {
					t.Fatal(err)
				}
			}
			err = rec.Close()
			if err == nil || !strings.Contains(err.Error(), "file too large") || !strings.Contains(err.Error(), path) {
				t.Fatalf("the recorder reports %v, want the write failure naming %s", err, path)
			}
			if rec.Dropped() == 0 {
				t.Fatal("no event counted as dropped")
			}
			if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
				t.Fatalf("%d error lines logged, want 1:\n%s", n, logs.String())
			}
			ns.Close()
			st.Close()
			lift()

			again, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("the file does not open after the disk filled: %v", err)
			}
			defer again.Close()
			if again.Recovered != "" {
				t.Fatalf("the file was moved aside to %s: it should be intact", again.Recovered)
			}
			v, err := again.In(info.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			got, err := v.Query(Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || len(got) >= sent {
				t.Fatalf("%d of %d messages kept: want the prefix committed before the disk filled", len(got), sent)
			}
			for i, env := range got {
				if env.Seq != uint64(i+1) {
					t.Fatalf("message %d has seq %d: the kept messages are not a prefix", i, env.Seq)
				}
			}
		})
	}
}
