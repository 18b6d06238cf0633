package async

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestFutureSettlesOnceAndRunsCallbacksInOrder(t *testing.T) {
	f, settle := New[int]()
	var got []string
	f.Then(func(v int, err error) { got = append(got, "a"+strconv.Itoa(v)) })
	f.Then(func(v int, err error) { got = append(got, "b"+strconv.Itoa(v)) })
	if f.Done() {
		t.Fatal("done before settle")
	}
	if !settle(7, nil) {
		t.Fatal("first settle must win")
	}
	if settle(8, errors.New("late")) {
		t.Fatal("second settle must lose")
	}
	f.Then(func(v int, err error) { got = append(got, "c"+strconv.Itoa(v)) })
	if want := []string{"a7", "b7", "c7"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if v, err, ok := f.Result(); v != 7 || err != nil || !ok {
		t.Fatalf("Result = %v %v %v", v, err, ok)
	}
}

func TestMapPassesErrorsThrough(t *testing.T) {
	tests := []struct {
		name    string
		in      *Future[int]
		want    string
		wantErr bool
	}{
		{"a value is mapped", Settled(2, nil), "2", false},
		{"an error skips the function", Failed[int](errors.New("boom")), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Map(tt.in, func(v int) (string, error) { return strconv.Itoa(v), nil })
			v, err, ok := out.Result()
			if !ok || v != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("got %q %v %v", v, err, ok)
			}
		})
	}
}

func TestWaitFromAnotherGoroutine(t *testing.T) {
	f, settle := New[string]()
	go func() {
		time.Sleep(time.Millisecond)
		settle("x", nil)
	}()
	v, err := f.Wait(context.Background())
	if v != "x" || err != nil {
		t.Fatalf("Wait = %q %v", v, err)
	}
	g, _ := New[int]()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v", err)
	}
}
