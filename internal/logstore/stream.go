package logstore

import (
	"context"
	"math"
)

// Query is what a `debug-log` reader asks for.
type Query struct {
	Filter Filter
	// Replay starts from the oldest record kept; otherwise the reader gets
	// the last Lines matching records first.
	Replay bool
	Lines  int
	// Tail keeps the stream open for new records once the backlog is sent.
	Tail bool
	// Limit ends the stream after that many records; zero means none.
	Limit int
}

// NewQuery decides a query from `juju debug-log`'s flags: --limit (given
// when hasLimit) means "print and exit": the first limit records with
// --replay, else the last limit ones, 0 meaning all that are kept;
// otherwise the last lines records (or all, with --replay), then tail
// unless --no-tail.
func NewQuery(f Filter, replay, noTail, hasLimit bool, lines, limit int) Query {
	q := Query{Filter: f, Replay: replay, Lines: lines, Tail: !noTail, Limit: limit}
	if hasLimit {
		q.Tail = false
		if !replay {
			q.Lines = limit
			if limit <= 0 {
				q.Lines = math.MaxInt
			}
		}
	}
	if q.Limit < 0 {
		q.Limit = 0
	}
	return q
}

// batch is how many records Stream reads at a time.
const batch = 256

// Stream sends the model's records that q selects to send, oldest first,
// until the backlog is sent (without Tail), q.Limit records were sent, ctx
// is done (nil is returned) or send fails (its error is returned). It
// returns ErrClosed when the store closes under a tailing reader.
func (s *Store) Stream(ctx context.Context, model string, q Query, send func(Record) error) error {
	sent := 0
	emit := func(recs []Record) (bool, error) {
		for _, r := range recs {
			if err := send(r); err != nil {
				return true, err
			}
			sent++
			if q.Limit > 0 && sent >= q.Limit {
				return true, nil
			}
		}
		return false, nil
	}
	ch, err := s.Changed(model)
	if err != nil {
		return err
	}
	var pos uint64
	if !q.Replay {
		recs, seq, err := s.Last(model, q.Lines, q.Filter)
		if err != nil {
			return err
		}
		if done, err := emit(recs); done || err != nil {
			return err
		}
		pos = seq
	}
	for {
		recs, next, err := s.After(model, pos, q.Filter, batch)
		if err != nil {
			return err
		}
		if done, err := emit(recs); done || err != nil {
			return err
		}
		pos = next
		if len(recs) == batch {
			continue
		}
		if !q.Tail {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
		if ch, err = s.Changed(model); err != nil {
			return err
		}
	}
}
