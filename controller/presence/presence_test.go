package presence

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	p := Policy{Started: t0, RestartGrace: 3 * time.Minute, Flap: 5 * time.Second}
	lost := time.Minute
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	cases := []struct {
		name  string
		rec   Record
		known bool
		now   time.Time
		want  State
	}{
		{"stream open", Record{Streams: 1, LastSeen: at(0)}, true, at(time.Hour), Connected},
		{"within flap", Record{LastSeen: at(10 * time.Minute)}, true, at(10*time.Minute + 4*time.Second), Connected},
		{"past flap", Record{LastSeen: at(10 * time.Minute)}, true, at(10*time.Minute + 6*time.Second), Disconnected},
		{"just before lost-after", Record{LastSeen: at(10 * time.Minute)}, true, at(11*time.Minute - time.Nanosecond), Disconnected},
		{"at lost-after", Record{LastSeen: at(10 * time.Minute)}, true, at(11 * time.Minute), Lost},
		{"unknown within restart grace", Record{}, false, at(2*time.Minute + 59*time.Second), Disconnected},
		{"unknown after restart grace", Record{}, false, at(3 * time.Minute), Lost},
		{"seen then gone, still in restart grace", Record{LastSeen: at(time.Second)}, true, at(2 * time.Minute), Disconnected},
		{"seen then gone, grace over", Record{LastSeen: at(time.Second)}, true, at(3 * time.Minute), Lost},
	}
	for _, c := range cases {
		if got := Decide(c.rec, c.known, p, lost, c.now); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// A long lost-after beats a short restart grace.
	if got := Decide(Record{}, false, Policy{Started: t0, RestartGrace: time.Second}, time.Hour, at(time.Minute)); got != Disconnected {
		t.Errorf("lost-after longer than the grace: got %v", got)
	}
}

func TestTracker(t *testing.T) {
	now := time.Unix(5_000, 0)
	clock := func() time.Time { return now }
	tr := NewTracker(clock, 0, time.Second)
	if got := tr.State("machine-0", time.Minute); got != Disconnected {
		t.Fatalf("never seen, fresh controller: %v", got)
	}
	release := tr.Connect("machine-0")
	now = now.Add(time.Hour)
	if got := tr.State("machine-0", time.Minute); got != Connected {
		t.Fatalf("stream open: %v", got)
	}
	release()
	release() // idempotent
	now = now.Add(2 * time.Second)
	if got := tr.State("machine-0", time.Minute); got != Disconnected {
		t.Fatalf("stream closed 2s ago: %v", got)
	}
	now = now.Add(time.Minute)
	if got := tr.State("machine-0", time.Minute); got != Lost {
		t.Fatalf("closed past lost-after: %v", got)
	}
	tr.Seen("machine-0")
	if got := tr.State("machine-0", time.Minute); got != Connected {
		t.Fatalf("heartbeat: %v", got)
	}
}

func BenchmarkSeen(b *testing.B) {
	tr := NewTracker(nil, time.Minute, time.Second)
	tags := make([]string, 5000)
	for i := range tags {
		tags[i] = "unit-app-" + time.Duration(i).String()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Seen(tags[i%len(tags)])
	}
}
