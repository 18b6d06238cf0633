//go:build linux

package main

import (
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A disk that fills up while a run is recorded fails the command, says why once, and
// keeps what was written before.
func TestRecordingIntoAFullDiskFailsTheRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 1 << 20, Max: old.Max}); err != nil {
		t.Skip(err)
	}
	code, out, errOut := runCLI(t, "", "run", "load", "-quiet", "-set", "apps=8", "-set", "rate=2000", "-set", "duration=5s", "-record", "-history", db)
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if code != exitFail || !strings.Contains(errOut, "file too large") || !strings.Contains(errOut, "not fully recorded") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := strings.Count(errOut, "file too large"); n > 2 {
		t.Fatalf("the failure is reported %d times:\n%s", n, errOut)
	}
	code, out, errOut = runCLI(t, "", "runs", "-history", db)
	if code != exitOK || !strings.Contains(out, "load") {
		t.Fatalf("runs after a full disk: exit %d %s %s", code, out, errOut)
	}
}
