package cmdline

import (
	"fmt"
	"regexp"
	"strings"
)

// ModelRef is a parsed model reference, in any of the four forms Juju
// accepts: "m", "user/m", "ctrl:m" and "ctrl:user/m". Controller and User
// are empty when the reference leaves them out; the caller substitutes the
// current controller and the logged-in user.
type ModelRef struct {
	Controller string
	User       string
	Model      string
}

var (
	modelNameRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	userNameRE       = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9.+-]*(@[a-zA-Z0-9.-]+)?$`)
	controllerNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
)

// ValidateModelName checks a bare model name: lowercase letters, digits and
// hyphens, not starting with a hyphen.
func ValidateModelName(name string) error {
	if name == "" {
		return fmt.Errorf("model name is empty: give a name made of lowercase letters, digits and hyphens")
	}
	if !modelNameRE.MatchString(name) {
		return fmt.Errorf("invalid model name %q: model names may only contain lowercase letters, digits and hyphens, and must not start with a hyphen", name)
	}
	return nil
}

// ParseModelRef parses a model reference ("m", "user/m", "ctrl:m",
// "ctrl:user/m") and validates each part.
func ParseModelRef(s string) (ModelRef, error) {
	var r ModelRef
	rest := s
	if ctrl, after, ok := strings.Cut(s, ":"); ok {
		if ctrl == "" {
			return ModelRef{}, fmt.Errorf("invalid model reference %q: the controller before %q is empty; use [controller:][user/]model", s, ":")
		}
		if !controllerNameRE.MatchString(ctrl) {
			return ModelRef{}, fmt.Errorf("invalid model reference %q: invalid controller name %q; use [controller:][user/]model", s, ctrl)
		}
		r.Controller, rest = ctrl, after
	}
	if user, after, ok := strings.Cut(rest, "/"); ok {
		if !userNameRE.MatchString(user) {
			return ModelRef{}, fmt.Errorf("invalid model reference %q: invalid user name %q; use [controller:][user/]model", s, user)
		}
		r.User, rest = user, after
	}
	if err := ValidateModelName(rest); err != nil {
		return ModelRef{}, fmt.Errorf("invalid model reference %q: %w", s, err)
	}
	r.Model = rest
	return r, nil
}

// String renders the reference back in the shortest form that carries all
// of its parts; ParseModelRef(r.String()) == r for any parsed r.
func (r ModelRef) String() string {
	s := r.Model
	if r.User != "" {
		s = r.User + "/" + s
	}
	if r.Controller != "" {
		s = r.Controller + ":" + s
	}
	return s
}
