package chaos

import (
	"reflect"
	"testing"
)

const dump = `SIGQUIT: quit
PC=0x47a0e1 m=0 sigcode=0

goroutine 0 gp=0x1 m=0 mp=0x2 [idle]:
runtime.futex(0x1, 0x80)
	/usr/local/go/src/runtime/sys_linux_amd64.s:557 +0x21

goroutine 1 gp=0xc000002380 m=nil [select, 3 minutes]:
github.com/troupe-dev/troupe/controller.(*Controller).Run(0xc0001)
	/w/controller/controller.go:120 +0x1a5
main.main()
	/w/cmd/trouped/main.go:70 +0x25

goroutine 40 gp=0xc0 m=nil [chan receive]:
sync.runtime_notifyListWait(0x1, 0x2)
	/usr/local/go/src/runtime/sema.go:597 +0x159
github.com/troupe-dev/troupe/controller/apiserver.(*Server).watch(0xc0, 0x1)
	/w/controller/apiserver/watch.go:50 +0x10
created by github.com/troupe-dev/troupe/controller/apiserver.(*Server).serve in goroutine 1
	/w/controller/apiserver/server.go:90 +0x2

goroutine 41 gp=0xc0 m=nil [chan receive, 2 minutes]:
sync.runtime_notifyListWait(0x1, 0x2)
	/usr/local/go/src/runtime/sema.go:597 +0x159
github.com/troupe-dev/troupe/controller/apiserver.(*Server).watch(0xc0, 0x1)
	/w/controller/apiserver/watch.go:50 +0x10

goroutine 42 gp=0xc0 m=nil [IO wait]:
internal/poll.runtime_pollWait(0x1, 0x72)
	/usr/local/go/src/runtime/netpoll.go:351 +0x85
net.(*conn).Read(0xc0)
	/usr/local/go/src/net/net.go:194 +0x45
`

func TestGoroutineGroups(t *testing.T) {
	got := GoroutineGroups(dump, "github.com/troupe-dev/troupe")
	want := []StackCount{
		{"[IO wait] net.(*conn).Read", 1},
		{"[chan receive] github.com/troupe-dev/troupe/controller/apiserver.(*Server).watch", 1},
		{"[chan receive] github.com/troupe-dev/troupe/controller/apiserver.(*Server).watch (created by github.com/troupe-dev/troupe/controller/apiserver.(*Server).serve)", 1},
		{"[idle] runtime.futex", 1},
		{"[select] github.com/troupe-dev/troupe/controller.(*Controller).Run", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GoroutineGroups:\n got %v\nwant %v", got, want)
	}
	base := []StackCount{{"[chan receive] github.com/troupe-dev/troupe/controller/apiserver.(*Server).watch", 1}, {"[IO wait] net.(*conn).Read", 3}}
	if g := GroupGrowth(got, base, 2); !reflect.DeepEqual(g, []string{
		"+1 [chan receive] github.com/troupe-dev/troupe/controller/apiserver.(*Server).watch (created by github.com/troupe-dev/troupe/controller/apiserver.(*Server).serve)",
		"+1 [idle] runtime.futex",
	}) {
		t.Errorf("GroupGrowth = %q", g)
	}
}
