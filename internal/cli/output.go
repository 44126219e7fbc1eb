package cli

import (
	"encoding/json"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/troupe-dev/troupe/internal/api"
)

// writeYAML prints v as YAML with the key names of its JSON encoding (the
// documents here carry json tags only, Juju's kebab-case names).
func writeYAML(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	return enc.Encode(generic)
}

// dialClient connects with an already read client configuration.
func dialClient(cc ClientConfig) (*api.Conn, error) { return api.Dial(cc.Info) }
