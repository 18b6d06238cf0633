package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestADirectoryIsNamedOnceAndLeftAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history.db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		open func(path string) error
	}{
		{"opening a directory to write says so once and leaves it", func(path string) error {
			s, err := Open(path, Options{})
			if err == nil {
				s.Close()
			}
			return err
		}},
		{"opening a directory to read says so once", func(path string) error {
			s, err := Open(path, Options{ReadOnly: true})
			if err == nil {
				s.Close()
			}
			return err
		}},
		{"importing a directory says so once", func(path string) error {
			_, err := ReadFile(path)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.open(dir)
			if err == nil {
				t.Fatal("a directory was opened as a file")
			}
			msg := err.Error()
			if strings.Count(msg, dir) != 1 || !strings.Contains(msg, "is a directory") {
				t.Fatalf("error %q: want it to name %s once and say it is a directory", msg, dir)
			}
			if info, err := os.Stat(dir); err != nil || !info.IsDir() {
				t.Fatalf("the directory was moved: %v", err)
			}
			if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
				t.Fatalf("something was created beside the directory: %v", entries)
			}
		})
	}
}
