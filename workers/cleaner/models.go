package cleaner

import "github.com/troupe-dev/troupe/internal/entity"

// DecideModel is the pure core of model destruction. For a dying model:
//
//	each alive application ─▶ destroy-application (the application cascade follows)
//	each alive machine without a unit that is not dead ─▶ destroy-machine
//	(standalone machines included: the model is going)
//	every application, unit and machine dead ─▶ remove-model
//
// An alive model gets no action.
func DecideModel(m entity.Model, apps []entity.Application, units []entity.Unit, machines []entity.Machine) []Action {
	if m.Life == entity.Alive {
		return nil
	}
	var out []Action
	empty := true
	for _, a := range apps {
		if a.Life == entity.Alive {
			out = append(out, Action{Model: m.UUID, Kind: "destroy-application", Name: a.Name})
		}
		if a.Life != entity.Dead {
			empty = false
		}
	}
	occupied := map[string]bool{}
	for _, u := range units {
		if u.Life != entity.Dead {
			occupied[u.Machine] = true
			empty = false
		}
	}
	for _, mc := range machines {
		if mc.Life == entity.Alive && !occupied[mc.ID] {
			out = append(out, Action{Model: m.UUID, Kind: "destroy-machine", Name: mc.ID})
		}
		if mc.Life != entity.Dead {
			empty = false
		}
	}
	if empty {
		out = append(out, Action{Model: m.UUID, Kind: "remove-model", Name: m.Name})
	}
	return out
}
