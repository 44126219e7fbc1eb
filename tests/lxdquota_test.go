package tests

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"

	"github.com/troupe-dev/troupe/providers/lxd"
)

// quotaStatus is the part of status this test reads.
type quotaStatus struct {
	Machines map[string]struct {
		JujuStatus  statusInfo `json:"juju-status"`
		InstanceID  string     `json:"instance-id"`
		Constraints string     `json:"constraints"`
		Hardware    string     `json:"hardware"`
	} `json:"machines"`
	Applications map[string]struct {
		Units map[string]struct {
			WorkloadStatus statusInfo `json:"workload-status"`
			JujuStatus     statusInfo `json:"juju-status"`
			Machine        string     `json:"machine"`
		} `json:"units"`
	} `json:"applications"`
}

func waitQuota(t *testing.T, e *env, limit time.Duration, what string, cond func(quotaStatus) bool) quotaStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	var raw string
	for time.Now().Before(deadline) {
		var doc quotaStatus
		r := e.troupe(commandTimeout, "status", "--format=json")
		raw = r.String()
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &doc) == nil && cond(doc) {
			return doc
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("timed out after %s waiting for %s; last status:\n%s", limit, what, raw)
	return quotaStatus{}
}

// TestLXDQuotaAndConstraints runs an lxd model in an LXD project of its
// own that allows one container, from an image alias of its own. With
// the alias deleted, both machines of a deploy show status error naming
// the missing image; once it is back, deploying hello -n 2 --constraints
// cores=1 mem=512M starts one container with those limits and leaves the
// other machine in status error with LXD's quota message; raising the
// project's limit lets the provisioner's retry start it. Both machines
// show their constraints and hardware.
func TestLXDQuotaAndConstraints(t *testing.T) {
	t.Parallel() // mostly waiting on agents; see tests/doc.go
	host, err := lxdclient.ConnectLXDUnix(lxd.SocketPath(""), nil)
	if err != nil {
		t.Fatalf("this test needs a running LXD (socket %s): %v\nSet it up as root with: scripts/lxd/setup.sh && make lxd-image", lxd.SocketPath(""), err)
	}
	base, _, err := host.GetImageAlias(lxd.DefaultImage)
	if err != nil {
		t.Fatalf("LXD has no image %q (%v): build it as root with `make lxd-image`", lxd.DefaultImage, err)
	}
	project := fmt.Sprintf("trq-%d", time.Now().UnixNano()%1_000_000_000)
	// An alias of this test's own for the same image: deleting it makes
	// the image missing to this controller only.
	alias := project + "-image"
	makeAlias := func() {
		t.Helper()
		if err := host.CreateImageAlias(api.ImageAliasesPost{ImageAliasesEntry: api.ImageAliasesEntry{Name: alias, Target: base.Target}}); err != nil {
			t.Fatalf("cannot create image alias %s: %v", alias, err)
		}
	}
	makeAlias()
	t.Cleanup(func() { _ = host.DeleteImageAlias(alias) })
	if err := host.CreateProject(api.ProjectsPost{Name: project, ProjectPut: api.ProjectPut{
		Description: "troupe quota test",
		Config: map[string]string{"features.images": "false", "features.profiles": "false",
			"features.storage.volumes": "false", "limits.containers": "1"},
	}}); err != nil {
		t.Fatalf("cannot create LXD project %s: %v", project, err)
	}
	c := host.UseProject(project)
	t.Cleanup(func() {
		list, err := c.GetInstances(api.InstanceTypeContainer)
		if err == nil {
			for _, in := range list {
				if op, err := c.UpdateInstanceState(in.Name, api.InstanceStatePut{Action: "stop", Force: true, Timeout: -1}, ""); err == nil {
					_ = op.Wait()
				}
				if op, err := c.DeleteInstance(in.Name); err == nil {
					_ = op.Wait()
				}
			}
		}
		if err := host.DeleteProject(project, false); err != nil {
			t.Logf("cleanup: cannot delete LXD project %s: %v", project, err)
		}
	})

	e := newEnv(t)
	e.mustTroupe(bootstrapTimeout, "bootstrap", "--api-port", strconv.Itoa(freePort(t)), "--agent-check-interval", "2s",
		"--config", "lxd-project="+project, "--config", "lxd-image="+alias)
	e.mustTroupe(commandTimeout, "add-model", "lq", "--cloud", "lxd")

	// The image goes missing: both machines in error saying so, until
	// it is back.
	if err := host.DeleteImageAlias(alias); err != nil {
		t.Fatalf("cannot delete image alias %s: %v", alias, err)
	}
	e.mustTroupe(commandTimeout, "deploy", "./testcharms/hello", "-n", "2", "--constraints", "cores=1", "--constraints", "mem=512M")
	waitQuota(t, e, 2*time.Minute, "both machines in error for the missing image", func(d quotaStatus) bool {
		n := 0
		for _, m := range d.Machines {
			if m.JujuStatus.Current == "error" && strings.Contains(m.JujuStatus.Message, "no image") && strings.Contains(m.JujuStatus.Message, alias) {
				n++
			}
		}
		return n == 2
	})
	makeAlias()

	quota := waitQuota(t, e, 4*time.Minute, "one machine running, the other in error with LXD's quota message", func(d quotaStatus) bool {
		running, refused := 0, 0
		for _, m := range d.Machines {
			switch {
			case m.JujuStatus.Current == "error" && strings.Contains(m.JujuStatus.Message, "LXD refused") &&
				strings.Contains(strings.ToLower(m.JujuStatus.Message), "maximum"):
				refused++
			case m.JujuStatus.Current == "started":
				running++
			}
		}
		return running == 1 && refused == 1
	})
	for id, m := range quota.Machines {
		if m.Constraints != "cores=1 mem=512M" {
			t.Errorf("machine %s shows constraints %q, want %q (the application's)", id, m.Constraints, "cores=1 mem=512M")
		}
	}

	if err := setProjectLimit(host, project, "2"); err != nil {
		t.Fatal(err)
	}
	doc := waitQuota(t, e, 5*time.Minute, "both hello units active after the quota was raised", func(d quotaStatus) bool {
		units := d.Applications["hello"].Units
		if len(units) != 2 {
			return false
		}
		for _, u := range units {
			if u.WorkloadStatus.Current != "active" || u.JujuStatus.Current != "idle" {
				return false
			}
		}
		return true
	})
	for name, u := range doc.Applications["hello"].Units {
		m := doc.Machines[u.Machine]
		if !strings.Contains(m.Hardware, "cores=1") || !strings.Contains(m.Hardware, "mem=512M") {
			t.Errorf("unit %s: machine %s shows hardware %q, want cores=1 and mem=512M", name, u.Machine, m.Hardware)
		}
		in, _, err := c.GetInstance(lxd.ContainerName(m.InstanceID))
		if err != nil {
			t.Fatalf("unit %s: no container for instance %q in project %s: %v", name, m.InstanceID, project, err)
		}
		if in.Config["limits.cpu"] != "1" || in.Config["limits.memory"] != "512MiB" {
			t.Errorf("container of %s has limits.cpu=%q limits.memory=%q, want 1 and 512MiB", name, in.Config["limits.cpu"], in.Config["limits.memory"])
		}
	}
	e.mustTroupe(commandTimeout, "destroy-controller", "--yes")
}

func setProjectLimit(c lxdclient.InstanceServer, project, n string) error {
	p, etag, err := c.GetProject(project)
	if err != nil {
		return fmt.Errorf("cannot read LXD project %s: %w", project, err)
	}
	put := p.Writable()
	put.Config["limits.containers"] = n
	if err := c.UpdateProject(project, put, etag); err != nil {
		return fmt.Errorf("cannot raise limits.containers of LXD project %s: %w", project, err)
	}
	return nil
}
