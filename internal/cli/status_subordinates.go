package cli

import (
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/fullstatus"
)

// nestSubordinates puts each subordinate unit under its principal unit's
// `subordinates`, as Juju's status does (the subordinate application
// itself lists no units). Subordinate units keep no machine key there.
func nestSubordinates(doc *fullstatus.Status, apps []*apipb.ApplicationStatus) {
	principalApp := map[string]string{}
	for _, a := range apps {
		for _, u := range a.Units {
			if u.Principal == "" {
				principalApp[u.Name] = a.Name
			}
		}
	}
	for _, a := range apps {
		for _, u := range a.Units {
			if u.Principal == "" {
				continue
			}
			pa, ok := doc.Applications[principalApp[u.Principal]]
			if !ok {
				continue
			}
			pu, ok := pa.Units[u.Principal]
			if !ok {
				continue
			}
			if pu.Subordinates == nil {
				pu.Subordinates = map[string]fullstatus.Unit{}
			}
			pu.Subordinates[u.Name] = fullstatus.Unit{WorkloadStatus: info(u.Workload), JujuStatus: info(u.Agent), Leader: u.Leader,
				PublicAddress: u.Address, Address: u.Address}
			pa.Units[u.Principal] = pu
		}
	}
}
