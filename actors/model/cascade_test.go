package model_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/actors/application"
	"github.com/troupe-dev/troupe/actors/machine"
	"github.com/troupe-dev/troupe/actors/model"
	"github.com/troupe-dev/troupe/actors/relation"
	"github.com/troupe-dev/troupe/actors/unit"
	ent "github.com/troupe-dev/troupe/internal/entity"
	"github.com/troupe-dev/troupe/workers/cleaner"
)

// cascadeUnit, cascadeMachine and cascadeRef are the reference model of
// TestRandomizedCascadesResumeAfterRestarts: what the acknowledged
// operations and acknowledged cleaner steps, and only those, imply.
type cascadeUnit struct {
	life             ent.Life
	machine, message string
}

type cascadeMachine struct {
	life       ent.Life
	standalone bool
}

type cascadeRef struct {
	apps      map[string]ent.Life
	removed   map[string]bool // applications `remove-application` was acknowledged for
	units     map[string]*cascadeUnit
	machines  map[string]*cascadeMachine
	relations map[int]*refRelation
}

// leave takes u out of relation id's scope (the relation is removed with
// its last member when it is not alive).
func (r *cascadeRef) leave(id int, u string) {
	rel := r.relations[id]
	delete(rel.members, u)
	if rel.life != ent.Alive && len(rel.members) == 0 {
		delete(r.relations, id)
	}
}

var errCrashed = errors.New("the controller crashed in the middle of the cleanup pass")

// cascadeEntities is the cleaner's Entities over the test's controller:
// each step goes to the entity's actor through the model guardian, as
// controller/manifolds.go's entitySetter does, and an acknowledged step
// updates the reference. Before each step a seeded draw may inject a
// handler panic, or crash the whole controller (store and actor tree) and
// start it again, so that the pass stops after some but not all of a
// cascade's writes. Each step is also checked against the durable state
// (the reference) at the time it is taken: an order the cascade must keep
// (no machine released while a unit on it is not dead, no application
// dead while a unit or a relation of it is left) leaves no trace in the
// final state.
type cascadeEntities struct {
	t     *testing.T
	c     *controllerUnderTest
	ref   *cascadeRef
	rng   *rand.Rand
	stats map[string]int
	// faults enables the injections; steps counts the acknowledged steps
	// of the current pass, calls every step tried.
	faults       bool
	steps, calls int
}

func (e *cascadeEntities) before() error {
	e.calls++
	if !e.faults {
		return nil
	}
	switch e.rng.IntN(8) {
	case 0:
		e.c.stop()
		e.c.start()
		e.stats["controller restart between cleaner steps"]++
		if e.steps > 0 {
			e.stats["controller restart mid-cascade (after a step of the same pass)"]++
		}
		return errCrashed
	case 1:
		e.c.inject.Store(true)
		e.stats["panic injected in a cleaner step"]++
	}
	return nil
}

func (e *cascadeEntities) done(kind string, err error) error {
	e.c.inject.Store(false)
	if err == nil {
		e.steps++
		e.stats["cleaner "+kind]++
	}
	return err
}

func (e *cascadeEntities) DestroyUnit(_ context.Context, _, name string) error {
	if app, _, _ := strings.Cut(name, "/"); e.ref.apps[app] != ent.Dying {
		e.t.Errorf("cleaner destroys unit %s of %s application %s", name, e.ref.apps[app], app)
	}
	if err := e.before(); err != nil {
		return err
	}
	err := e.c.route(model.KindUnit, name, &unit.Destroy{})
	if u := e.ref.units[name]; err == nil && u.life == ent.Alive {
		u.life = ent.Dying
	}
	return e.done("destroy-unit", err)
}

func (e *cascadeEntities) DestroyRelation(_ context.Context, _ string, id int) error {
	if r := e.ref.relations[id]; r == nil || e.ref.apps[r.apps[0]] == ent.Alive && e.ref.apps[r.apps[1]] == ent.Alive {
		e.t.Errorf("cleaner destroys relation %d, gone or of alive applications", id)
	}
	if err := e.before(); err != nil {
		return err
	}
	err := e.c.route(model.KindRelation, strconv.Itoa(id), &relation.Destroy{})
	if r := e.ref.relations[id]; err == nil && r.life == ent.Alive {
		r.life = ent.Dying
		if len(r.members) == 0 {
			delete(e.ref.relations, id)
		}
	}
	return e.done("destroy-relation", err)
}

func (e *cascadeEntities) ApplicationDead(_ context.Context, _, app string) error {
	if e.ref.apps[app] != ent.Dying {
		e.t.Errorf("cleaner makes %s application %s dead", e.ref.apps[app], app)
	}
	for name, u := range e.ref.units {
		if strings.HasPrefix(name, app+"/") && u.life != ent.Dead {
			e.t.Errorf("cleaner makes application %s dead while its unit %s is %s", app, name, u.life)
		}
	}
	for id, r := range e.ref.relations {
		if r.apps[0] == app || r.apps[1] == app {
			e.t.Errorf("cleaner makes application %s dead while its relation %d is left", app, id)
		}
	}
	if err := e.before(); err != nil {
		return err
	}
	err := e.c.route(model.KindApplication, app, &application.SetDead{})
	if err == nil {
		e.ref.apps[app] = ent.Dead
	}
	return e.done("application-dead", err)
}

func (e *cascadeEntities) DestroyMachine(_ context.Context, _, id string) error {
	if m := e.ref.machines[id]; m == nil || m.standalone {
		e.t.Errorf("cleaner destroys machine %s, unknown or standalone", id)
	}
	for name, u := range e.ref.units {
		if u.machine == id && u.life != ent.Dead {
			e.t.Errorf("cleaner releases machine %s while its unit %s is %s", id, name, u.life)
		}
	}
	if err := e.before(); err != nil {
		return err
	}
	err := e.c.route(model.KindMachine, id, &machine.Destroy{})
	if m := e.ref.machines[id]; err == nil && m.life == ent.Alive {
		m.life = ent.Dying
	}
	return e.done("destroy-machine", err)
}

func (e *cascadeEntities) DestroyApplication(context.Context, string, string) error {
	return fmt.Errorf("the model is alive: the cleaner must not destroy applications")
}

func (e *cascadeEntities) RemoveModel(context.Context, string) error {
	return fmt.Errorf("the model is alive: the cleaner must not remove it")
}

// pass runs one real cleaner pass against the controller's current store.
func (e *cascadeEntities) pass() error {
	e.steps = 0
	return cleaner.Pass(context.Background(), cleaner.Config{Store: e.c.store, Entities: e, Logger: slog.New(slog.DiscardHandler)})
}

// TestRandomizedCascadesResumeAfterRestarts is issue 3's "life cascades
// resume after a controller crash at any point", in the style of
// TestRandomizedModelSurvivesPanicsAndRestarts and on its harness:
// seeded operations (deploy, also onto existing and standalone machines,
// add-machine, add-unit, remove-unit, remove-application, integrate,
// remove-relation, set-status, the agents' scope and tear-down steps, the
// provisioner's release of dying machines) interleaved with passes of the
// real cleaner (workers/cleaner.Pass), with handler panics and
// whole-controller restarts injected between operations and between the
// steps of a pass, so that a cascade is cut after some but not all of its
// writes. Afterwards, once the cleaner and the agents are done: the
// durable state equals the reference; nothing is dying; every removed
// application and its units are dead and their relations are gone with
// their unit bags; a machine allocated for units is dead exactly when all
// its units are, a standalone one stays alive. Dead applications, units
// and machines keep their documents, as in the real system, until the
// model is removed. TROUPE_CASCADE_SEED and TROUPE_CASCADE_OPS replay or
// lengthen a run.
func TestRandomizedCascadesResumeAfterRestarts(t *testing.T) {
	seed, ops := uint64(11), 1500
	if v, err := strconv.ParseUint(os.Getenv("TROUPE_CASCADE_SEED"), 10, 64); err == nil {
		seed = v
	}
	if v, err := strconv.Atoi(os.Getenv("TROUPE_CASCADE_OPS")); err == nil && v > 0 {
		ops = v
	}
	rng := rand.New(rand.NewPCG(seed, 5))
	t.Logf("seed %d, %d operations", seed, ops)

	c := &controllerUnderTest{t: t, dir: t.TempDir()}
	c.start()
	defer func() { c.stop() }()
	if _, err := c.store.Commit(context.Background(), mustPut(t, ent.ModelKey(uuid), &ent.Model{UUID: uuid, Name: "default", Life: ent.Alive})); err != nil {
		t.Fatal(err)
	}
	ref := &cascadeRef{apps: map[string]ent.Life{}, removed: map[string]bool{}, units: map[string]*cascadeUnit{},
		machines: map[string]*cascadeMachine{}, relations: map[int]*refRelation{}}
	stats := map[string]int{}
	cl := &cascadeEntities{t: t, c: c, ref: ref, rng: rng, stats: stats}

	pick := func(keys []string) string { return keys[rng.IntN(len(keys))] }
	appsWith := func(life ent.Life) []string {
		var out []string
		for _, a := range slices.Sorted(maps.Keys(ref.apps)) {
			if ref.apps[a] == life {
				out = append(out, a)
			}
		}
		return out
	}
	unitsWith := func(life ent.Life) []string {
		var out []string
		for _, n := range slices.Sorted(maps.Keys(ref.units)) {
			if ref.units[n].life == life {
				out = append(out, n)
			}
		}
		return out
	}
	machinesWith := func(life ent.Life) []string {
		var out []string
		for _, id := range slices.Sorted(maps.Keys(ref.machines)) {
			if ref.machines[id].life == life {
				out = append(out, id)
			}
		}
		return out
	}
	relIDs := func(life ent.Life) []int {
		var out []int
		for _, id := range slices.Sorted(maps.Keys(ref.relations)) {
			if ref.relations[id].life == life {
				out = append(out, id)
			}
		}
		return out
	}
	appOf := func(u string) string { a, _, _ := strings.Cut(u, "/"); return a }
	placed := func(units, machines []string) {
		for i, u := range units {
			ref.units[u] = &cascadeUnit{life: ent.Alive, machine: machines[i], message: "waiting for machine"}
			if ref.machines[machines[i]] == nil {
				ref.machines[machines[i]] = &cascadeMachine{life: ent.Alive}
			}
		}
	}
	// tearDown is a dying unit's agent: it leaves each relation's scope,
	// then reports dead; it stops at the first failure.
	tearDown := func(u string) error {
		for _, id := range slices.Sorted(maps.Keys(ref.relations)) {
			if _, in := ref.relations[id].members[u]; !in {
				continue
			}
			if err := c.route(model.KindRelation, strconv.Itoa(id), &relation.LeaveScope{Unit: u}); err != nil {
				return err
			}
			ref.leave(id, u)
		}
		if err := c.route(model.KindUnit, u, &unit.EnsureDead{}); err != nil {
			return err
		}
		ref.units[u].life = ent.Dead
		return nil
	}
	nextApp := 0

	for i := 0; i < ops; i++ {
		if rng.IntN(100) == 0 {
			c.stop()
			c.start()
			stats["controller restart between operations"]++
		}
		faulty := rng.IntN(10) == 0
		c.inject.Store(faulty)
		var kind string
		var err error
		switch op := rng.IntN(100); {
		case op < 7:
			kind = "deploy"
			name, n := fmt.Sprintf("a%d", nextApp), rng.IntN(4)
			d := &model.Deploy{Charm: ent.Charm{Name: "c", SHA256: "x"}, App: ent.Application{Name: name}, NumUnits: n}
			if alive := machinesWith(ent.Alive); n > 0 && len(alive) > 0 && rng.IntN(3) == 0 {
				d.To = []string{pick(alive)} // shares a machine, or uses a standalone one
				kind = "deploy --to"
			}
			var res any
			if res, err = c.ask(d); err == nil {
				nextApp++
				ref.apps[name] = ent.Alive
				placed(res.(*model.Deployed).Units, res.(*model.Deployed).Machines)
			}
		case op < 9:
			kind = "add-machine"
			var res any
			if res, err = c.ask(&model.AddMachines{N: 1}); err == nil {
				for _, id := range res.(*model.MachinesAdded).Machines {
					ref.machines[id] = &cascadeMachine{life: ent.Alive, standalone: true}
				}
			}
		case op < 17:
			kind = "add-unit"
			alive := appsWith(ent.Alive)
			if len(alive) == 0 {
				continue
			}
			var res any
			if res, err = c.ask(&model.AddUnits{App: pick(alive), NumUnits: 1}); err == nil {
				// UnitsAdded names no machines: the new unit's document
				// says which one the guardian allocated.
				names := res.(*model.UnitsAdded).Units
				var ms []string
				for _, u := range names {
					var doc ent.Unit
					if _, err := c.store.Get(context.Background(), ent.UnitKey(uuid, u), &doc); err != nil {
						t.Fatal(err)
					}
					ms = append(ms, doc.Machine)
				}
				placed(names, ms)
			}
		case op < 23:
			kind = "remove-unit"
			alive := unitsWith(ent.Alive)
			if len(alive) == 0 {
				continue
			}
			u := pick(alive)
			if err = c.route(model.KindUnit, u, &unit.Destroy{}); err == nil {
				ref.units[u].life = ent.Dying
			}
		case op < 29:
			kind = "remove-application"
			alive := appsWith(ent.Alive)
			if len(alive) == 0 {
				continue
			}
			a := pick(alive)
			if err = c.route(model.KindApplication, a, &application.Destroy{}); err == nil {
				ref.apps[a] = ent.Dying
				ref.removed[a] = true
			}
		case op < 39:
			kind = "agent tear-down step"
			dying := unitsWith(ent.Dying)
			if len(dying) == 0 {
				continue
			}
			err = tearDown(pick(dying))
		case op < 45:
			kind = "integrate"
			alive := appsWith(ent.Alive)
			if len(alive) < 2 {
				continue
			}
			a, b := pick(alive), pick(alive)
			if a == b {
				continue
			}
			eps := [2]ent.Endpoint{{Application: a, Name: "r", Interface: "x", Role: ent.RoleRequirer, Scope: ent.ScopeGlobal},
				{Application: b, Name: "p", Interface: "x", Role: ent.RoleProvider, Scope: ent.ScopeGlobal}}
			var res any
			if res, err = c.ask(&model.AddRelation{Endpoints: eps}); err == nil {
				added := res.(*model.RelationAdded)
				ref.relations[added.ID] = &refRelation{key: added.Key, apps: [2]string{a, b}, life: ent.Alive, members: map[string]map[string]string{}}
			}
		case op < 48:
			kind = "remove-relation"
			alive := relIDs(ent.Alive)
			if len(alive) == 0 {
				continue
			}
			id := alive[rng.IntN(len(alive))]
			if err = c.route(model.KindRelation, strconv.Itoa(id), &relation.Destroy{}); err == nil {
				ref.relations[id].life = ent.Dying
				if len(ref.relations[id].members) == 0 {
					delete(ref.relations, id)
				}
			}
		case op < 56:
			kind = "agent enters scope"
			alive := relIDs(ent.Alive)
			if len(alive) == 0 {
				continue
			}
			id := alive[rng.IntN(len(alive))]
			r := ref.relations[id]
			var cands []string
			for _, u := range unitsWith(ent.Alive) {
				if a := appOf(u); a == r.apps[0] || a == r.apps[1] {
					cands = append(cands, u)
				}
			}
			if len(cands) == 0 {
				continue
			}
			u := pick(cands)
			auto := map[string]string{"private-address": "10.0.0." + strconv.Itoa(i%250)}
			if err = c.route(model.KindRelation, strconv.Itoa(id), &relation.EnterScope{Unit: u, Settings: auto}); err == nil {
				bag := r.members[u]
				if bag == nil {
					bag = map[string]string{}
					r.members[u] = bag
				}
				maps.Copy(bag, auto)
			}
		case op < 62:
			kind = "agent departs a dying relation"
			var cands [][2]string
			for _, id := range relIDs(ent.Dying) {
				for _, u := range slices.Sorted(maps.Keys(ref.relations[id].members)) {
					cands = append(cands, [2]string{strconv.Itoa(id), u})
				}
			}
			if len(cands) == 0 {
				continue
			}
			cand := cands[rng.IntN(len(cands))]
			if err = c.route(model.KindRelation, cand[0], &relation.LeaveScope{Unit: cand[1]}); err == nil {
				id, _ := strconv.Atoi(cand[0])
				ref.leave(id, cand[1])
			}
		case op < 67:
			kind = "provisioner releases a dying machine"
			dying := machinesWith(ent.Dying)
			if len(dying) == 0 {
				continue
			}
			id := pick(dying)
			if err = c.route(model.KindMachine, id, &machine.SetDead{}); err == nil {
				ref.machines[id].life = ent.Dead
			}
		case op < 75:
			kind = "set-status"
			var live []string
			for _, u := range slices.Sorted(maps.Keys(ref.units)) {
				if ref.units[u].life != ent.Dead {
					live = append(live, u)
				}
			}
			if len(live) == 0 {
				continue
			}
			u, msg := pick(live), "m"+strconv.Itoa(i)
			if err = c.route(model.KindUnit, u, &unit.SetStatus{Workload: &ent.Status{Current: "active", Message: msg}}); err == nil {
				ref.units[u].message = msg
			}
		default:
			kind = "cleaner pass"
			c.inject.Store(false)
			cl.faults = true
			err = cl.pass()
			cl.faults = false
		}
		stats[kind]++
		if err != nil {
			stats["refused or failed"]++
		}
		if faulty && !c.inject.Load() {
			stats["panic injected"]++
		}
		c.inject.Store(false)
	}

	// The cleaner, the agents and the provisioner finish: rounds until
	// one changes nothing. A failure here is only a parked entity cooling
	// off: retry.
	retry := func(what string, do func() error) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := do()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v", what, err)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	for round := 0; ; round++ {
		if round == 50 {
			t.Fatalf("the cascades did not settle in %d rounds", round)
		}
		calls := cl.calls
		retry("cleaner pass", cl.pass)
		work := cl.calls != calls
		for _, u := range unitsWith(ent.Dying) {
			retry("tear down "+u, func() error { return tearDown(u) })
			work = true
		}
		for _, id := range relIDs(ent.Dying) {
			for _, u := range slices.Sorted(maps.Keys(ref.relations[id].members)) {
				retry("leave scope", func() error {
					return c.route(model.KindRelation, strconv.Itoa(id), &relation.LeaveScope{Unit: u})
				})
				ref.leave(id, u)
				work = true
			}
		}
		for _, id := range machinesWith(ent.Dying) {
			retry("machine dead", func() error { return c.route(model.KindMachine, id, &machine.SetDead{}) })
			ref.machines[id].life = ent.Dead
			work = true
		}
		if !work {
			break
		}
	}

	// One last restart: what is compared is what is durable.
	c.stop()
	c.start()
	t.Logf("operations and steps by kind: %v", stats)
	for _, k := range []string{"controller restart between operations", "controller restart mid-cascade (after a step of the same pass)",
		"panic injected", "panic injected in a cleaner step", "remove-application", "cleaner destroy-unit", "cleaner destroy-relation",
		"cleaner application-dead", "cleaner destroy-machine", "provisioner releases a dying machine", "deploy --to", "add-machine"} {
		if stats[k] == 0 {
			t.Errorf("the run had no %q (%v): change TROUPE_CASCADE_SEED or raise TROUPE_CASCADE_OPS", k, stats)
		}
	}
	checkCascades(t, c, ref)
}

// checkCascades compares the store with the reference, and checks what
// the finished cascades imply whatever the reference says.
func checkCascades(t *testing.T, c *controllerUnderTest, ref *cascadeRef) {
	t.Helper()
	kvs, _, err := c.store.List(context.Background(), ent.ModelPrefix(uuid))
	if err != nil {
		t.Fatal(err)
	}
	apps, units, machines := map[string]ent.Application{}, map[string]ent.Unit{}, map[string]ent.Machine{}
	rels := map[int]ent.Relation{}
	scopes := map[int]map[string]ent.RelationUnit{}
	for _, kv := range kvs {
		kind, name, _ := strings.Cut(strings.TrimPrefix(kv.Key, ent.ModelPrefix(uuid)), "/")
		var err error
		switch kind {
		case "app":
			var a ent.Application
			err = json.Unmarshal(kv.Value, &a)
			apps[name] = a
		case "unit":
			var u ent.Unit
			err = json.Unmarshal(kv.Value, &u)
			units[name] = u
		case "machine":
			var m ent.Machine
			err = json.Unmarshal(kv.Value, &m)
			machines[name] = m
		case "relation":
			var r ent.Relation
			err = json.Unmarshal(kv.Value, &r)
			rels[r.ID] = r
		case "relation-unit":
			var ru ent.RelationUnit
			err = json.Unmarshal(kv.Value, &ru)
			if scopes[ru.Relation] == nil {
				scopes[ru.Relation] = map[string]ent.RelationUnit{}
			}
			scopes[ru.Relation][ru.Unit] = ru
		}
		if err != nil {
			t.Fatalf("%s: %v", kv.Key, err)
		}
	}

	// The durable state is the reference.
	if got, want := slices.Sorted(maps.Keys(apps)), slices.Sorted(maps.Keys(ref.apps)); !slices.Equal(got, want) {
		t.Errorf("applications: durable %v, acknowledged %v", got, want)
	}
	for name, life := range ref.apps {
		if a := apps[name]; a.Life != life {
			t.Errorf("application %s: durable %s, acknowledged %s", name, a.Life, life)
		}
	}
	if got, want := slices.Sorted(maps.Keys(units)), slices.Sorted(maps.Keys(ref.units)); !slices.Equal(got, want) {
		t.Errorf("units: durable %v, acknowledged %v", got, want)
	}
	for name, ru := range ref.units {
		if u := units[name]; u.Life != ru.life || u.Machine != ru.machine || u.Workload.Message != ru.message {
			t.Errorf("unit %s: durable %s on %q %q, acknowledged %s on %q %q", name, u.Life, u.Machine, u.Workload.Message, ru.life, ru.machine, ru.message)
		}
	}
	if got, want := slices.Sorted(maps.Keys(machines)), slices.Sorted(maps.Keys(ref.machines)); !slices.Equal(got, want) {
		t.Errorf("machines: durable %v, acknowledged %v", got, want)
	}
	for id, rm := range ref.machines {
		if m := machines[id]; m.Life != rm.life || m.Standalone != rm.standalone {
			t.Errorf("machine %s: durable %s standalone %v, acknowledged %s standalone %v", id, m.Life, m.Standalone, rm.life, rm.standalone)
		}
	}
	if got, want := slices.Sorted(maps.Keys(rels)), slices.Sorted(maps.Keys(ref.relations)); !slices.Equal(got, want) {
		t.Errorf("relations: durable %v, acknowledged %v", got, want)
	}
	for id, rr := range ref.relations {
		r := rels[id]
		if r.Key != rr.key || r.Life != rr.life {
			t.Errorf("relation %d: durable %q %s, acknowledged %q %s", id, r.Key, r.Life, rr.key, rr.life)
		}
		in := map[string]map[string]string{}
		for u, ru := range scopes[id] {
			if ru.InScope {
				in[u] = ru.Settings
				if in[u] == nil {
					in[u] = map[string]string{}
				}
			}
		}
		if !maps.EqualFunc(in, rr.members, maps.Equal) {
			t.Errorf("relation %d scope: durable %v, acknowledged %v", id, in, rr.members)
		}
	}

	// What the cascades imply, from the durable documents alone.
	for name, a := range apps {
		switch {
		case ref.removed[name] && a.Life != ent.Dead:
			t.Errorf("removed application %s is %s, not dead", name, a.Life)
		case !ref.removed[name] && a.Life != ent.Alive:
			t.Errorf("application %s was not removed but is %s", name, a.Life)
		}
	}
	live := map[string]bool{} // machines hosting a unit that is not dead
	for name, u := range units {
		if u.Life == ent.Dying {
			t.Errorf("unit %s stuck in dying", name)
		}
		if apps[u.Application].Life == ent.Dead && u.Life != ent.Dead {
			t.Errorf("unit %s of dead application %s is %s", name, u.Application, u.Life)
		}
		if u.Life != ent.Dead {
			live[u.Machine] = true
		}
	}
	for id, m := range machines {
		switch {
		case m.Standalone && m.Life != ent.Alive:
			t.Errorf("standalone machine %s is %s: only machines allocated for units are released", id, m.Life)
		case !m.Standalone && live[id] && m.Life != ent.Alive:
			t.Errorf("machine %s hosts a unit that is not dead but is %s", id, m.Life)
		case !m.Standalone && !live[id] && m.Life != ent.Dead:
			t.Errorf("machine %s has no unit left but is %s, not released", id, m.Life)
		}
	}
	for id, r := range rels {
		if r.Life != ent.Alive {
			t.Errorf("relation %d stuck in %s", id, r.Life)
		}
		for _, e := range r.Endpoints {
			if apps[e.Application].Life != ent.Alive {
				t.Errorf("relation %d of %s application %s remains", id, apps[e.Application].Life, e.Application)
			}
		}
	}
	for id := range scopes {
		if _, ok := rels[id]; !ok {
			t.Errorf("relation %d was removed but its unit bags remain", id)
		}
	}
}
