package fullstatus

import (
	"encoding/json"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// WriteJSON writes s as one compact JSON document followed by a newline,
// as `juju status --format json` does.
func WriteJSON(w io.Writer, s *Status) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("cannot encode status as json: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("cannot write status: %w", err)
	}
	return nil
}

// WriteYAML writes s as one YAML document with two-space indentation.
func WriteYAML(w io.Writer, s *Status) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("cannot encode status as yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("cannot encode status as yaml: %w", err)
	}
	return nil
}
