package benchreport

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// DescribeMachine reads this host's description from /proc; what it
// cannot read is shown as "unknown".
func DescribeMachine(now time.Time) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Model: "unknown", Kernel: "unknown", GoVersion: runtime.Version(),
		Date: now.UTC().Format(time.RFC3339)}
	if v, ok := procField("/proc/cpuinfo", "model name"); ok {
		m.Model = v
	}
	if v, ok := procField("/proc/meminfo", "MemTotal"); ok {
		m.MemoryKB, _ = strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// procField returns the value of the first "key : value" line of a /proc
// file.
func procField(path, key string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// String is the one-line form, for logs.
func (m Machine) String() string {
	return fmt.Sprintf("%d × %s, %d MB, %s, %s", m.CPUs, m.Model, m.MemoryKB/1024, m.Kernel, m.GoVersion)
}
