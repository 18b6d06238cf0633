package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWindowJoinFlags(t *testing.T) {
	refused := []struct {
		name string
		args []string
		want string
	}{
		{"a server without remote apps", []string{"-nats", "nats://127.0.0.1:4222"}, "-remote payment"},
		{"remote apps without a server", []string{"-remote", "payment"}, "need -nats"},
		{"joining and sharing at once", []string{"-nats", "nats://x:1", "-share", "-remote", "payment"}, "give one of them"},
		{"sharing without remote apps", []string{"-share"}, "-remote payment"},
		{"a negative stream", []string{"-share=127.0.0.1:0", "-remote", "payment", "-stream", "-1s"}, "negative"},
	}
	for _, tt := range refused {
		t.Run(tt.name+" is refused before the window opens", func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tt.args, nil, &bytes.Buffer{}, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d saying %q", code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
	t.Run("-share alone listens on the standard address, and takes one as =ADDR", func(t *testing.T) {
		var f shareFlag
		if f.address() != "" {
			t.Fatal("not given, -share shares")
		}
		_ = f.Set("true")
		if f.address() != defaultShare {
			t.Errorf("-share alone: %q", f.address())
		}
		_ = f.Set("0.0.0.0:4222")
		if f.address() != "0.0.0.0:4222" {
			t.Errorf("-share=0.0.0.0:4222: %q", f.address())
		}
	})
	t.Run("a join takes the password from the environment when only the user is given", func(t *testing.T) {
		t.Setenv(envNATSPassword, "s3cret")
		j, err := joinOptions("nats://h:1", []string{"payment", "shipping"}, &shareFlag{}, "payment", "", time.Minute)
		if err != nil || j.Password != "s3cret" || !slices.Equal(j.Apps, []string{"payment", "shipping"}) || j.Stream != time.Minute {
			t.Fatalf("%+v, %v", j, err)
		}
	})
}
