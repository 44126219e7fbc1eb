package entity

import "testing"

func TestRelationLinkRenames(t *testing.T) {
	l := &RelationLink{Application: "kvstore", Alias: "kvs", ConsumerApp: "kvclient", RemoteName: "remote-0a1b2c3d4e5f60718293a4b5c6d7e8f9"}
	for _, tc := range []struct{ offering, consuming string }{
		{"kvstore", "kvs"}, {"kvstore/3", "kvs/3"},
		{l.RemoteName, "kvclient"}, {l.RemoteName + "/0", "kvclient/0"},
	} {
		if got := l.ToConsumer(tc.offering); got != tc.consuming {
			t.Errorf("ToConsumer(%q) = %q, want %q", tc.offering, got, tc.consuming)
		}
		if got := l.FromConsumer(tc.consuming); got != tc.offering {
			t.Errorf("FromConsumer(%q) = %q, want %q", tc.consuming, got, tc.offering)
		}
	}
	// Names of neither side pass through unchanged.
	if got := l.ToConsumer("other/1"); got != "other/1" {
		t.Errorf("ToConsumer(other/1) = %q", got)
	}
}

func TestNewRemoteNameIsAValidApplicationName(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		n := NewRemoteName()
		if !ValidApplicationName(n) || len(n) != len("remote-")+32 || seen[n] {
			t.Fatalf("NewRemoteName() = %q: want a fresh valid remote-<32 hex> name", n)
		}
		if _, _, ok := SplitUnitName(n + "/0"); !ok {
			t.Fatalf("%s/0 is not a valid unit name", n)
		}
		seen[n] = true
	}
}

func TestOfferURL(t *testing.T) {
	ra := &RemoteApplication{Controller: "c", Owner: "admin", ModelName: "prov", OfferName: "kv"}
	if got := ra.URL(); got != "c:admin/prov.kv" {
		t.Errorf("URL() = %q", got)
	}
	if got := OfferURL("", "admin", "m", "o"); got != "admin/m.o" {
		t.Errorf("OfferURL without controller = %q", got)
	}
}
