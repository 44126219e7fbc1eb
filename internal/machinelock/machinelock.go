// Package machinelock is the machine-wide hook lock (contract §8.3): one
// flock(2)'d file per machine serialises the hooks of every unit on it.
// Each release appends a line to the lock log saying who waited how long
// and held it how long.
package machinelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Lock is a machine lock. Safe for concurrent use.
type Lock struct {
	Path    string // the lock file
	LogPath string // the lock log
	// Poll is how often a waiter retries; zero means 250ms.
	Poll time.Duration
	// Observer, if not nil, is told how long each holder waited and held
	// the lock (metrics).
	Observer Observer

	// slot serialises in-process holders (flock is per open file); a
	// channel, not a mutex, so an in-process waiter gives up with its
	// context.
	slotOnce sync.Once
	slot     chan struct{}

	stateMu sync.Mutex // guards holder and waiting
	holder  *Hold
	waiting map[*Hold]bool
}

// Hold is one holder of, or waiter for, the lock.
type Hold struct {
	Who   string    `json:"who"`
	Why   string    `json:"why"`
	Since time.Time `json:"since"` // when it started waiting, or took the lock
}

// Report is the lock as the agent's engine report shows it: who holds it
// and who waits, oldest waiter first.
type Report struct {
	Holder  *Hold  `json:"holder,omitempty"`
	Waiting []Hold `json:"waiting,omitempty"`
}

// Report returns the lock's in-process holder and waiters (every unit
// of a machine runs in its machine agent's process).
func (l *Lock) Report() Report {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	var r Report
	if l.holder != nil {
		h := *l.holder
		r.Holder = &h
	}
	for w := range l.waiting {
		r.Waiting = append(r.Waiting, *w)
	}
	slices.SortFunc(r.Waiting, func(a, b Hold) int { return a.Since.Compare(b.Since) })
	return r
}

func (l *Lock) inProcess() chan struct{} {
	l.slotOnce.Do(func() { l.slot = make(chan struct{}, 1) })
	return l.slot
}

func (l *Lock) setWaiting(h *Hold, on bool) {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	if on {
		if l.waiting == nil {
			l.waiting = map[*Hold]bool{}
		}
		l.waiting[h] = true
	} else {
		delete(l.waiting, h)
	}
}

func (l *Lock) setHolder(h *Hold) {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	l.holder = h
}

// Observer receives lock timings. Acquired is called once the lock is
// held, Released once it is free again; neither may block.
type Observer interface {
	LockAcquired(waited time.Duration)
	LockReleased(held time.Duration)
}

// Acquire blocks until the lock is held or ctx is done. who and why go to
// the lock log.
func (l *Lock) Acquire(ctx context.Context, who, why string) (release func(), err error) {
	start := time.Now()
	wait := &Hold{Who: who, Why: why, Since: start}
	l.setWaiting(wait, true)
	defer l.setWaiting(wait, false)
	select {
	case l.inProcess() <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f, err := os.OpenFile(l.Path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		<-l.inProcess()
		return nil, fmt.Errorf("cannot open machine lock: %w", err)
	}
	poll := l.Poll
	if poll == 0 {
		poll = 250 * time.Millisecond
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			<-l.inProcess()
			return nil, fmt.Errorf("cannot take machine lock: %w", err)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			<-l.inProcess()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	acquired := time.Now()
	l.setHolder(&Hold{Who: who, Why: why, Since: acquired})
	if l.Observer != nil {
		l.Observer.LockAcquired(acquired.Sub(start))
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			held := time.Since(acquired)
			l.setHolder(nil)
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
			<-l.inProcess()
			if l.Observer != nil {
				l.Observer.LockReleased(held)
			}
			l.log(fmt.Sprintf("%s %s: %s (%s), waited %s, held %s\n", time.Now().UTC().Format("2006-01-02 15:04:05"),
				who, who, why, acquired.Sub(start).Round(time.Millisecond), held.Round(time.Millisecond)))
		})
	}, nil
}

func (l *Lock) log(line string) {
	if l.LogPath == "" {
		return
	}
	f, err := os.OpenFile(l.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}
