package cli

import (
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/fullstatus"
)

// addCrossModel fills status' `offers` and `application-endpoints`
// (consumed offers, Juju's SAAS), each left out when the model has none.
func addCrossModel(doc *fullstatus.Status, res *apipb.StatusResult) {
	for _, o := range res.Offers {
		if doc.Offers == nil {
			doc.Offers = map[string]fullstatus.Offer{}
		}
		eps := map[string]fullstatus.RemoteEndpoint{}
		for _, e := range o.Endpoints {
			eps[e.Name] = fullstatus.RemoteEndpoint{Interface: e.Interface, Role: e.Role}
		}
		doc.Offers[o.Name] = fullstatus.Offer{Application: o.Application, Charm: o.Charm, Endpoints: eps,
			TotalConnectedCount: int(o.TotalConnectedCount), ActiveConnectedCount: int(o.ActiveConnectedCount)}
	}
	for _, ra := range res.RemoteApplications {
		if doc.ApplicationEndpoints == nil {
			doc.ApplicationEndpoints = map[string]fullstatus.RemoteApp{}
		}
		eps := map[string]fullstatus.RemoteEndpoint{}
		for _, e := range ra.Endpoints {
			eps[e.Name] = fullstatus.RemoteEndpoint{Interface: e.Interface, Role: e.Role}
		}
		app := fullstatus.RemoteApp{URL: ra.Url, Endpoints: eps, Life: lifeIfNotAlive(ra.Life), ApplicationStatus: info(ra.Status)}
		for _, r := range res.Relations {
			if r.Life == "dead" {
				continue
			}
			for _, e := range r.Endpoints {
				if e.Application != ra.Name {
					continue
				}
				for _, other := range r.Endpoints {
					if other.Application != ra.Name {
						if app.Relations == nil {
							app.Relations = map[string][]string{}
						}
						app.Relations[e.Name] = append(app.Relations[e.Name], other.Application)
					}
				}
			}
		}
		doc.ApplicationEndpoints[ra.Name] = app
	}
}
