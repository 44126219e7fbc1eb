package fullstatus

// fullDoc is a realistic machine-model status: a principal app with a
// leader, a unit in error and a subordinate on two of its units, a local
// charm with an executing agent and a long workload version, a subordinate
// app, an app whose status could not be read, containers, an offer, a
// consumed offer, storage and relations.
func fullDoc() *Status {
	since := "24 Feb 2025 12:03:17Z"
	st := func(cur, msg string) *StatusInfo { return &StatusInfo{Current: cur, Message: msg, Since: since} }
	agent := func(cur, msg string) *StatusInfo {
		return &StatusInfo{Current: cur, Message: msg, Since: since, Version: "3.6.11"}
	}
	jammy := &Base{Name: "ubuntu", Channel: "22.04"}
	telegraf := func(leader bool) Unit {
		return Unit{
			WorkloadStatus: st("active", "monitoring"),
			JujuStatus:     agent("idle", ""),
			Leader:         leader,
			PublicAddress:  "10.0.0.10",
		}
	}
	pgUnits := map[string]Unit{
		"postgresql/0": {
			WorkloadStatus: st("active", "Primary"),
			JujuStatus:     agent("idle", ""),
			Leader:         true,
			Machine:        "0",
			OpenPorts:      []string{"5432/tcp"},
			PublicAddress:  "10.0.0.10",
			Address:        "10.0.0.10",
			Subordinates:   map[string]Unit{"telegraf/1": telegraf(true)},
		},
		"postgresql/1": {
			WorkloadStatus: st("active", ""),
			JujuStatus:     agent("idle", ""),
			Machine:        "1",
			OpenPorts:      []string{"5432/tcp"},
			PublicAddress:  "10.0.0.11",
			Address:        "10.0.0.11",
			Subordinates:   map[string]Unit{"telegraf/0": telegraf(false)},
		},
		"postgresql/2": {
			WorkloadStatus: st("waiting", "waiting for replica"),
			JujuStatus:     agent("idle", ""),
			Machine:        "2",
			PublicAddress:  "10.0.0.12",
			Address:        "10.0.0.12",
		},
		"postgresql/10": {
			WorkloadStatus: st("error", `hook failed: "install"`),
			JujuStatus:     agent("idle", ""),
			Machine:        "10",
		},
	}
	pgStatus := DeriveApplicationStatus([]StatusInfo{
		*pgUnits["postgresql/0"].WorkloadStatus, *pgUnits["postgresql/1"].WorkloadStatus,
		*pgUnits["postgresql/2"].WorkloadStatus, *pgUnits["postgresql/10"].WorkloadStatus,
	})
	machine := func(n, addr string) Machine {
		return Machine{
			JujuStatus:    agent("started", ""),
			Hostname:      "juju-3f2a1b-" + n,
			DNSName:       addr,
			IPAddresses:   []string{addr},
			InstanceID:    "juju-3f2a1b-" + n,
			MachineStatus: st("running", "Running"),
			Base:          jammy,
			NetworkInterfaces: map[string]NetworkInterface{
				"eth0": {IPAddresses: []string{addr}, MACAddress: "00:16:3e:00:00:0" + n[len(n)-1:], Gateway: "10.0.0.1", Space: "alpha", IsUp: true},
			},
			Hardware: "arch=amd64 cores=2 mem=4096M virt-type=container availability-zone=zone1",
		}
	}
	m0 := machine("0", "10.0.0.10")
	m0.Constraints = "mem=4096M"
	m0.Containers = map[string]Machine{
		"0/lxd/0": {
			JujuStatus:    agent("started", ""),
			DNSName:       "10.0.3.20",
			IPAddresses:   []string{"10.0.3.20"},
			InstanceID:    "juju-3f2a1b-0-lxd-0",
			MachineStatus: st("running", "Container started"),
			Base:          jammy,
		},
	}
	return &Status{
		Model: ModelStatus{
			Name:        "prod",
			Type:        "iaas",
			Controller:  "lxd",
			Cloud:       "localhost",
			Region:      "localhost",
			Version:     "3.6.11",
			ModelStatus: &StatusInfo{Current: "available", Since: since},
		},
		Machines: map[string]Machine{
			"0": m0,
			"1": machine("1", "10.0.0.11"),
			"2": machine("2", "10.0.0.12"),
			"10": {
				JujuStatus:         agent("pending", ""),
				InstanceID:         "pending",
				MachineStatus:      st("allocating", "starting container"),
				ModificationStatus: &StatusInfo{Current: "idle", Since: since},
				Base:               jammy,
			},
		},
		Applications: map[string]Application{
			"postgresql": {
				Charm:             "postgresql",
				Base:              jammy,
				CharmOrigin:       "charmhub",
				CharmName:         "postgresql",
				CharmRev:          468,
				CharmChannel:      "14/stable",
				Exposed:           false,
				ApplicationStatus: &pgStatus,
				Relations: map[string][]RelatedApp{
					"database":    {{RelatedApplication: "wordpress", Interface: "postgresql_client", Scope: "global"}},
					"juju-info":   {{RelatedApplication: "telegraf", Interface: "juju-info", Scope: "container"}},
					"replication": {{RelatedApplication: "postgresql", Interface: "postgresql_replicas", Scope: "global"}},
				},
				Units:            pgUnits,
				Version:          "14.12",
				EndpointBindings: map[string]string{"": "alpha", "database": "alpha"},
			},
			"wordpress": {
				Charm:             "local:wordpress-0",
				Base:              jammy,
				CharmOrigin:       "local",
				CharmName:         "wordpress",
				CharmRev:          0,
				Exposed:           true,
				ApplicationStatus: st("active", "serving"),
				Relations: map[string][]RelatedApp{
					"db": {{RelatedApplication: "postgresql", Interface: "postgresql_client", Scope: "global"}},
				},
				Units: map[string]Unit{
					"wordpress/0": {
						WorkloadStatus: st("active", "serving"),
						JujuStatus:     agent("executing", "running config-changed hook"),
						Leader:         true,
						Machine:        "0/lxd/0",
						OpenPorts:      []string{"80/tcp", "443/tcp"},
						PublicAddress:  "10.0.3.20",
						Address:        "10.0.3.20",
					},
				},
				Version: "6.4.3-1ubuntu0.22.04.1",
			},
			"telegraf": {
				Charm:             "telegraf",
				Base:              jammy,
				CharmOrigin:       "charmhub",
				CharmName:         "telegraf",
				CharmRev:          75,
				CharmChannel:      "latest/stable",
				ApplicationStatus: st("active", "monitoring"),
				Relations: map[string][]RelatedApp{
					"juju-info": {{RelatedApplication: "postgresql", Interface: "juju-info", Scope: "container"}},
				},
				SubordinateTo: []string{"postgresql"},
			},
			"broken": {StatusError: "cannot read charm: not found"},
		},
		ApplicationEndpoints: map[string]RemoteApp{
			"mysql": {
				URL:               "central:admin/db.mysql",
				Endpoints:         map[string]RemoteEndpoint{"database": {Interface: "mysql_client", Role: "provider"}},
				Life:              "alive",
				ApplicationStatus: st("active", ""),
			},
		},
		Offers: map[string]Offer{
			"pg": {
				Application:          "postgresql",
				Charm:                "ch:amd64/postgresql-468",
				TotalConnectedCount:  2,
				ActiveConnectedCount: 1,
				Endpoints: map[string]RemoteEndpoint{
					"database":   {Interface: "postgresql_client", Role: "provider"},
					"db-metrics": {Interface: "prometheus_scrape", Role: "provider"},
				},
			},
		},
		Storage: &Storage{
			Storage: map[string]StorageInstance{
				"pgdata/0": {
					Kind:        "filesystem",
					Life:        "alive",
					Status:      EntityStatus{Current: "attached", Since: since},
					Persistent:  false,
					Attachments: &StorageAttachments{Units: map[string]UnitStorageAttachment{"postgresql/0": {Machine: "0", Location: "/var/lib/postgresql", Life: "alive"}}},
				},
			},
			Filesystems: map[string]Filesystem{
				"0/0": {Storage: "pgdata/0", Pool: "rootfs", Size: 10240, Life: "alive", Status: &EntityStatus{Current: "attached"},
					Attachments: &FilesystemAttachments{Machines: map[string]FilesystemAttachment{"0": {MountPoint: "/var/lib/postgresql", ReadOnly: false}}}},
			},
		},
		Controller: &ControllerStatus{Timestamp: "12:03:17Z"},
		Integrations: []Integration{
			{Provider: "postgresql:juju-info", Requirer: "telegraf:juju-info", Interface: "juju-info", Type: "subordinate", Status: "joined"},
			{Provider: "postgresql:database", Requirer: "wordpress:db", Interface: "postgresql_client", Type: "regular", Status: "joined"},
			{Provider: "postgresql:replication", Requirer: "postgresql:replication", Interface: "postgresql_replicas", Type: "peer", Status: "joined"},
			{Provider: "mysql:database", Requirer: "wordpress:mysql", Interface: "mysql_client", Type: "regular", Status: "error", Message: "remote offer removed"},
		},
	}
}

// emptyDoc is a fresh model with nothing deployed.
func emptyDoc() *Status {
	return &Status{Model: ModelStatus{Name: "m", Type: "iaas", Controller: "c", Cloud: "localhost", Version: "3.6.11"}}
}

// caasDoc is a Kubernetes model with one application scaling up.
func caasDoc() *Status {
	return &Status{
		Model: ModelStatus{Name: "k", Type: "caas", Controller: "mk8s", Cloud: "microk8s", Region: "localhost", Version: "3.6.11", UpgradeAvailable: "3.6.12"},
		Applications: map[string]Application{
			"mysql-k8s": {
				Charm: "mysql-k8s", CharmOrigin: "charmhub", CharmName: "mysql-k8s", CharmRev: 153, CharmChannel: "8.0/stable",
				Scale: 3, Address: "10.152.183.20", ApplicationStatus: &StatusInfo{Current: "waiting"},
				Version: "registry.jujucharms.com/charm/abcdef/mysql-image@sha256:0123456789",
				Units: map[string]Unit{
					"mysql-k8s/0": {WorkloadStatus: &StatusInfo{Current: "active"}, JujuStatus: &StatusInfo{Current: "idle"}, Leader: true, Address: "10.1.0.5", OpenPorts: []string{"3306/tcp"}},
					"mysql-k8s/1": {WorkloadStatus: &StatusInfo{Current: "waiting", Message: "installing agent"}, JujuStatus: &StatusInfo{Current: "allocating", Message: "pulling image"}},
				},
			},
		},
	}
}
