package fullstatus

import "encoding/json"

// Custom marshalers keep the two promises of the package doc: required
// collections are written as {} / [] even when nil, and an entity with a
// StatusError is written as {"status-error": "..."} alone. Each type is
// converted to a method-less twin ("plain") before encoding so that the
// marshaler does not call itself; nested values still go through their own
// marshalers.

// statusErrorDoc is Juju's stand-in for an entity whose status failed.
type statusErrorDoc struct {
	StatusError string `json:"status-error" yaml:"status-error"`
}

func (s Status) normalized() Status {
	if s.Machines == nil {
		s.Machines = map[string]Machine{}
	}
	if s.Applications == nil {
		s.Applications = map[string]Application{}
	}
	return s
}

type plainStatus Status

// MarshalJSON writes the document with `machines` and `applications`
// always present.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(plainStatus(s.normalized())) }

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (s Status) MarshalYAML() (any, error) { return plainStatus(s.normalized()), nil }

type plainStatusInfo StatusInfo

// MarshalJSON writes the status, or only its status-error when set.
func (s StatusInfo) MarshalJSON() ([]byte, error) {
	if s.StatusError != "" {
		return json.Marshal(statusErrorDoc{s.StatusError})
	}
	return json.Marshal(plainStatusInfo(s))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (s StatusInfo) MarshalYAML() (any, error) {
	if s.StatusError != "" {
		return statusErrorDoc{s.StatusError}, nil
	}
	return plainStatusInfo(s), nil
}

type plainApplication Application

// MarshalJSON writes the application, or only its status-error when set.
func (a Application) MarshalJSON() ([]byte, error) {
	if a.StatusError != "" {
		return json.Marshal(statusErrorDoc{a.StatusError})
	}
	return json.Marshal(plainApplication(a))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (a Application) MarshalYAML() (any, error) {
	if a.StatusError != "" {
		return statusErrorDoc{a.StatusError}, nil
	}
	return plainApplication(a), nil
}

type plainUnit Unit

// MarshalJSON writes the unit, or only its status-error when set.
func (u Unit) MarshalJSON() ([]byte, error) {
	if u.StatusError != "" {
		return json.Marshal(statusErrorDoc{u.StatusError})
	}
	return json.Marshal(plainUnit(u))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (u Unit) MarshalYAML() (any, error) {
	if u.StatusError != "" {
		return statusErrorDoc{u.StatusError}, nil
	}
	return plainUnit(u), nil
}

type plainMachine Machine

// MarshalJSON writes the machine, or only its status-error when set.
func (m Machine) MarshalJSON() ([]byte, error) {
	if m.StatusError != "" {
		return json.Marshal(statusErrorDoc{m.StatusError})
	}
	return json.Marshal(plainMachine(m))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (m Machine) MarshalYAML() (any, error) {
	if m.StatusError != "" {
		return statusErrorDoc{m.StatusError}, nil
	}
	return plainMachine(m), nil
}

type plainRemoteApp RemoteApp

// MarshalJSON writes the remote application, or only its status-error.
func (r RemoteApp) MarshalJSON() ([]byte, error) {
	if r.StatusError != "" {
		return json.Marshal(statusErrorDoc{r.StatusError})
	}
	return json.Marshal(plainRemoteApp(r))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (r RemoteApp) MarshalYAML() (any, error) {
	if r.StatusError != "" {
		return statusErrorDoc{r.StatusError}, nil
	}
	return plainRemoteApp(r), nil
}

type plainOffer Offer

func (o Offer) normalized() Offer {
	if o.Endpoints == nil {
		o.Endpoints = map[string]RemoteEndpoint{}
	}
	return o
}

// MarshalJSON writes the offer with `endpoints` always present, or only
// its status-error when set.
func (o Offer) MarshalJSON() ([]byte, error) {
	if o.StatusError != "" {
		return json.Marshal(statusErrorDoc{o.StatusError})
	}
	return json.Marshal(plainOffer(o.normalized()))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (o Offer) MarshalYAML() (any, error) {
	if o.StatusError != "" {
		return statusErrorDoc{o.StatusError}, nil
	}
	return plainOffer(o.normalized()), nil
}

type plainNetworkInterface NetworkInterface

func (n NetworkInterface) normalized() NetworkInterface {
	if n.IPAddresses == nil {
		n.IPAddresses = []string{}
	}
	return n
}

// MarshalJSON writes the interface with `ip-addresses` always a list.
func (n NetworkInterface) MarshalJSON() ([]byte, error) {
	return json.Marshal(plainNetworkInterface(n.normalized()))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (n NetworkInterface) MarshalYAML() (any, error) {
	return plainNetworkInterface(n.normalized()), nil
}

type plainLXDProfile LXDProfile

func (p LXDProfile) normalized() LXDProfile {
	if p.Config == nil {
		p.Config = map[string]string{}
	}
	if p.Devices == nil {
		p.Devices = map[string]map[string]string{}
	}
	for k, d := range p.Devices {
		if d == nil {
			p.Devices = copyDevices(p.Devices)
			p.Devices[k] = map[string]string{}
		}
	}
	return p
}

// copyDevices copies the outer map so normalizing never writes to the
// caller's map.
func copyDevices(in map[string]map[string]string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// MarshalJSON writes the profile with `config` and `devices` always maps.
func (p LXDProfile) MarshalJSON() ([]byte, error) {
	return json.Marshal(plainLXDProfile(p.normalized()))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (p LXDProfile) MarshalYAML() (any, error) { return plainLXDProfile(p.normalized()), nil }

type plainStorageAttachments StorageAttachments

func (a StorageAttachments) normalized() StorageAttachments {
	if a.Units == nil {
		a.Units = map[string]UnitStorageAttachment{}
	}
	return a
}

// MarshalJSON writes the attachments with `units` always a map.
func (a StorageAttachments) MarshalJSON() ([]byte, error) {
	return json.Marshal(plainStorageAttachments(a.normalized()))
}

// MarshalYAML is MarshalJSON's twin for gopkg.in/yaml.v3.
func (a StorageAttachments) MarshalYAML() (any, error) {
	return plainStorageAttachments(a.normalized()), nil
}
