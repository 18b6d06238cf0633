package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpeningADirectorySaysSoOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history.db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"opening a directory to write names it once and leaves it", Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(dir, c.opts)
			if err == nil {
				s.Close()
				t.Fatal("a directory was opened as a history file")
			}
			msg := err.Error()
			if strings.Count(msg, dir) != 1 || !strings.Contains(msg, "is a directory") {
				t.Fatalf("error %q: want it to name %s once and say it is a directory", msg, dir)
			}
			if info, err := os.Stat(dir); err != nil || !info.IsDir() {
				t.Fatalf("the directory was moved: %v", err)
			}
		})
	}
}
