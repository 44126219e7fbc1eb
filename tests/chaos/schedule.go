// Package chaos is the pure part of Troupe's chaos suite (tests/chaos_test.go,
// `make chaos`): the fault schedule, drawn from a seed, and the run report.
// Nothing here touches a process or a socket, so the same seed gives the
// same schedule on every machine (schedule_test.go pins it).
package chaos

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Kind is one kind of fault.
type Kind string

// The fault kinds. ControllerKill is SIGKILL of the controller and a
// restart after Fault.Duration; AgentKill SIGKILLs a machine agent (the
// controller's provisioner restarts it); AgentPause SIGSTOPs it for
// Duration, then SIGCONTs it. The rest act on the target machine's link to
// the controller (its toxiproxy): Partition disables the proxy (open
// connections closed, new ones refused) for Duration; the others add a
// toxic of that name for Duration. ContainerFreeze and NICCut act on a
// machine in an LXD container: its container is frozen (lxc pause) for
// Duration, then unfrozen; its NIC is taken down (host side) for
// Duration, then up.
const (
	ControllerKill  Kind = "controller-kill"
	AgentKill       Kind = "agent-kill"
	AgentPause      Kind = "agent-pause"
	Partition       Kind = "partition"
	Latency         Kind = "latency"
	Bandwidth       Kind = "bandwidth"
	Timeout         Kind = "timeout"
	ResetPeer       Kind = "reset-peer"
	Slicer          Kind = "slicer"
	ContainerFreeze Kind = "container-freeze"
	NICCut          Kind = "nic-cut"
)

// Kinds is every kind, in report order.
var Kinds = []Kind{ControllerKill, AgentKill, AgentPause, Partition, Latency, Bandwidth, Timeout, ResetPeer, Slicer, ContainerFreeze, NICCut}

// LXDKinds are the kinds only a machine in an LXD container takes; a
// schedule without LXD machines has none.
var LXDKinds = []Kind{ContainerFreeze, NICCut}

// IsLXD reports whether k is one of LXDKinds.
func (k Kind) IsLXD() bool { return k == ContainerFreeze || k == NICCut }

// class is what a fault occupies on its target: faults of one class never
// overlap on one target (a paused agent is not also killed; one link
// carries at most one toxic of each kind).
func (k Kind) class() string {
	switch k {
	case ControllerKill:
		return "controller"
	case AgentKill, AgentPause:
		return "process"
	case ContainerFreeze, NICCut:
		return "container"
	}
	return "link/" + string(k)
}

// Fault is one scheduled fault.
type Fault struct {
	Seq      int           // 1-based position in the schedule
	At       time.Duration // offset from the start of the fault phase
	Kind     Kind
	Machine  int           // target machine index (0-based); -1 for the controller
	Duration time.Duration // how long it lasts (0 for AgentKill)
	// Params are the toxic's attributes (toxiproxy's names and units:
	// milliseconds, KB/s, bytes, microseconds).
	Params map[string]int64
}

func (f Fault) String() string {
	target := "controller"
	if f.Machine >= 0 {
		target = fmt.Sprintf("machine[%d]", f.Machine)
	}
	var ps []string
	for k, v := range f.Params {
		ps = append(ps, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(ps)
	s := fmt.Sprintf("#%03d t=%7.2fs %-15s %-12s for %5.2fs", f.Seq, f.At.Seconds(), f.Kind, target, f.Duration.Seconds())
	if len(ps) > 0 {
		s += " " + strings.Join(ps, " ")
	}
	return s
}

// Config is what a schedule is drawn for.
type Config struct {
	Seed     uint64
	Duration time.Duration // length of the fault phase: every fault ends within it
	Machines int           // machine agents on this host (each with its own link)
	// LXD is the number of machines in LXD containers, indexed after the
	// others (Machines .. Machines+LXD-1): they take the link faults and
	// LXDKinds, not the process faults. Zero draws the schedule a config
	// without this field drew.
	LXD int
	// MaxPartition bounds link partitions and agent pauses; it must stay
	// below the model's lost-after (the suite checks nobody is shown lost).
	MaxPartition time.Duration
}

// Schedule parameters: the mean gap between fault starts is (minGap +
// maxGap)/2 = 1.4 s, so 180 s yields about 125 faults.
const (
	minGap = 400 * time.Millisecond
	maxGap = 2400 * time.Millisecond
	// controllerSpacing is the least time between two controller kills'
	// starts: a restart (etcd recovery, agents' reconnect) needs a while.
	controllerSpacing = 25 * time.Second
	// killSettle is how long a machine agent kill occupies its target: the
	// provisioner needs a moment to restart it.
	killSettle = 6 * time.Second
)

// weights of each kind when drawing (controller kills are further limited
// by controllerSpacing).
var weights = map[Kind]int{
	ControllerKill: 6, AgentKill: 14, AgentPause: 10, Partition: 16,
	Latency: 12, Bandwidth: 10, Timeout: 10, ResetPeer: 12, Slicer: 10,
	ContainerFreeze: 10, NICCut: 10,
}

// kinds are the kinds c's schedule draws from, in Kinds order.
func (c Config) kinds() []Kind {
	var out []Kind
	for _, k := range Kinds {
		if !k.IsLXD() || c.LXD > 0 {
			out = append(out, k)
		}
	}
	return out
}

// targets is the range of machine indexes kind k may hit: [lo, lo+n).
func (c Config) targets(k Kind) (lo, n int) {
	switch {
	case k.IsLXD():
		return c.Machines, c.LXD
	case k == AgentKill || k == AgentPause:
		return 0, c.Machines
	}
	return 0, c.Machines + c.LXD
}

// Schedule draws the fault schedule for c: a pure function of c. Faults
// start at most every maxGap and end before c.Duration; no two faults of
// one class overlap on one target; the first fault of each kind is placed
// before any kind repeats past the first quarter, so every kind occurs even
// in short runs.
func Schedule(c Config) ([]Fault, error) {
	if c.Machines < 1 {
		return nil, fmt.Errorf("chaos schedule needs at least one machine, got %d", c.Machines)
	}
	if c.LXD < 0 {
		return nil, fmt.Errorf("chaos schedule: %d LXD machines: use 0 or more", c.LXD)
	}
	if c.Duration < 30*time.Second {
		return nil, fmt.Errorf("chaos duration %v is too short: use at least 30s", c.Duration)
	}
	if c.MaxPartition < 2*time.Second {
		return nil, fmt.Errorf("chaos max partition %v is too short: use at least 2s", c.MaxPartition)
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x6368616f73)) // "chaos"
	between := func(lo, hi time.Duration) time.Duration {
		return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
	}
	busy := map[string]time.Duration{} // class@target -> busy until
	lastController := -controllerSpacing
	var out []Fault
	kinds := c.kinds()
	unseen := append([]Kind(nil), kinds...)
	at := time.Second
	for {
		at += between(minGap, maxGap)
		if at >= c.Duration-5*time.Second {
			break
		}
		var kind Kind
		if len(unseen) > 0 && rng.IntN(2) == 0 {
			kind = unseen[rng.IntN(len(unseen))]
		} else {
			kind = draw(rng, kinds)
		}
		if kind == ControllerKill && at-lastController < controllerSpacing {
			continue // a gap with no fault start; the next draw decides again
		}
		f := Fault{At: at, Kind: kind, Machine: -1}
		switch kind {
		case ControllerKill:
			f.Duration = between(time.Second, 5*time.Second)
		case AgentKill:
			f.Duration = 0
		case AgentPause:
			f.Duration = between(2*time.Second, min(10*time.Second, c.MaxPartition))
		case Partition:
			f.Duration = between(2*time.Second, c.MaxPartition)
		case Latency:
			f.Duration = between(3*time.Second, 15*time.Second)
			f.Params = map[string]int64{"latency": int64(between(50, 1500)), "jitter": int64(between(0, 500))}
		case Bandwidth:
			f.Duration = between(3*time.Second, 15*time.Second)
			f.Params = map[string]int64{"rate": int64(between(2, 64))}
		case Timeout:
			f.Duration = between(2*time.Second, 10*time.Second)
			f.Params = map[string]int64{"timeout": int64(between(0, 3000))}
		case ContainerFreeze:
			f.Duration = between(2*time.Second, min(10*time.Second, c.MaxPartition))
		case NICCut:
			f.Duration = between(2*time.Second, c.MaxPartition)
		case ResetPeer:
			f.Duration = between(time.Second, 5*time.Second)
			f.Params = map[string]int64{"timeout": int64(between(0, 500))}
		case Slicer:
			f.Duration = between(3*time.Second, 15*time.Second)
			f.Params = map[string]int64{"average_size": int64(between(16, 512)), "size_variation": int64(between(0, 16)), "delay": int64(between(0, 2000))}
		}
		if f.At+f.Duration >= c.Duration {
			f.Duration = c.Duration - time.Second - f.At
			if f.Duration < time.Second && kind != AgentKill {
				continue
			}
		}
		if kind != ControllerKill {
			// The first free machine, starting from a drawn one.
			lo, n := c.targets(kind)
			start := rng.IntN(n)
			f.Machine = -1
			for i := 0; i < n; i++ {
				m := lo + (start+i)%n
				if busy[key(kind, m)] <= f.At {
					f.Machine = m
					break
				}
			}
			if f.Machine < 0 {
				continue
			}
			hold := f.Duration
			if kind == AgentKill {
				hold = killSettle
			}
			busy[key(kind, f.Machine)] = f.At + hold + 500*time.Millisecond
		} else {
			lastController = f.At
		}
		for i, k := range unseen {
			if k == kind {
				unseen = append(unseen[:i], unseen[i+1:]...)
				break
			}
		}
		f.Seq = len(out) + 1
		out = append(out, f)
	}
	return out, nil
}

func key(k Kind, machine int) string { return fmt.Sprintf("%s@%d", k.class(), machine) }

func draw(rng *rand.Rand, kinds []Kind) Kind {
	total := 0
	for _, k := range kinds {
		total += weights[k]
	}
	n := rng.IntN(total)
	for _, k := range kinds {
		if n < weights[k] {
			return k
		}
		n -= weights[k]
	}
	return kinds[len(kinds)-1]
}

// Count is the number of faults per kind.
func Count(fs []Fault) map[Kind]int {
	out := map[Kind]int{}
	for _, f := range fs {
		out[f.Kind]++
	}
	return out
}

// Format renders a schedule one fault a line.
func Format(fs []Fault) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}
