package logstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/troupe-dev/troupe/internal/logstore"
)

func collect(t *testing.T, s *logstore.Store, q logstore.Query) []string {
	t.Helper()
	var got []string
	if err := s.Stream(context.Background(), "m", q, func(r logstore.Record) error {
		got = append(got, r.Message)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestNewQuery(t *testing.T) {
	cases := []struct {
		name                     string
		replay, noTail, hasLimit bool
		lines, limit             int
		want                     logstore.Query
	}{
		{"default", false, false, false, 10, 0, logstore.Query{Lines: 10, Tail: true}},
		{"no-tail", false, true, false, 10, 0, logstore.Query{Lines: 10}},
		{"replay", true, false, false, 10, 0, logstore.Query{Replay: true, Lines: 10, Tail: true}},
		{"limit", false, false, true, 10, 3, logstore.Query{Lines: 3, Limit: 3}},
		{"limit 0 means all", false, false, true, 10, 0, logstore.Query{Lines: int(^uint(0) >> 1)}},
		{"replay limit", true, false, true, 10, 3, logstore.Query{Replay: true, Lines: 10, Limit: 3}},
	}
	for _, c := range cases {
		if got := logstore.NewQuery(logstore.Filter{}, c.replay, c.noTail, c.hasLimit, c.lines, c.limit); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestStreamBacklog(t *testing.T) {
	s := open(t, logstore.Config{Dir: t.TempDir(), Window: 4})
	appendN(t, s, "m", 1, 600) // more than a read batch, beyond the window
	if got := collect(t, s, logstore.NewQuery(logstore.Filter{}, true, true, false, 10, 0)); len(got) != 600 || got[0] != "m001" || got[599] != "m600" {
		t.Fatalf("replay: %d records, first %v", len(got), got[:1])
	}
	if got, want := collect(t, s, logstore.NewQuery(logstore.Filter{}, false, true, false, 2, 0)), []string{"m599", "m600"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("last 2: %v, want %v", got, want)
	}
	if got, want := collect(t, s, logstore.NewQuery(logstore.Filter{}, false, false, true, 10, 3)), []string{"m598", "m599", "m600"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("limit 3: %v, want %v", got, want)
	}
	if got, want := collect(t, s, logstore.NewQuery(logstore.Filter{}, true, false, true, 10, 2)), []string{"m001", "m002"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("replay limit 2: %v, want %v", got, want)
	}
	if got := collect(t, s, logstore.NewQuery(logstore.Filter{}, false, false, true, 10, 0)); len(got) != 600 {
		t.Fatalf("limit 0: %d records, want all 600", len(got))
	}
}

func TestStreamTail(t *testing.T) {
	s := open(t, logstore.Config{Dir: t.TempDir()})
	appendN(t, s, "m", 1, 3)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 16)
	errc := make(chan error, 1)
	go func() {
		errc <- s.Stream(ctx, "m", logstore.NewQuery(logstore.Filter{Include: []string{"unit-a-0"}}, false, false, false, 1, 0),
			func(r logstore.Record) error { got <- r.Message; return nil })
	}()
	if m := <-got; m != "m003" {
		t.Fatalf("backlog = %q, want m003", m)
	}
	s.Append("m", []logstore.Record{rec("unit-b-0", logstore.Info, "other unit")})
	appendN(t, s, "m", 4, 4)
	if m := <-got; m != "m004" {
		t.Fatalf("tailed = %q, want m004", m)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("cancelled stream: %v", err)
	}

	// A tailing reader ends with ErrClosed when the store closes; a send
	// error ends it with that error.
	ctx = context.Background()
	go func() {
		errc <- s.Stream(ctx, "m", logstore.NewQuery(logstore.Filter{}, false, false, false, 0, 0), func(logstore.Record) error { return nil })
	}()
	boom := errors.New("boom")
	if err := s.Stream(ctx, "m", logstore.NewQuery(logstore.Filter{}, true, false, false, 0, 0), func(logstore.Record) error { return boom }); err != boom {
		t.Fatalf("send error: %v", err)
	}
	s.Close()
	if err := <-errc; !errors.Is(err, logstore.ErrClosed) {
		t.Fatalf("stream after close: %v, want ErrClosed", err)
	}
}
