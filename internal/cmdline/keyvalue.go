package cmdline

import (
	"fmt"
	"strings"
)

// ParseKeyValues parses tokens of the form key=value, as given to `config`,
// `model-config`, `deploy --config` or `add-model --config`, into a map.
// The value is everything after the first "=", spaces and further "="
// included, and may be empty ("key="). A later token for the same key
// replaces an earlier one. A token without "=" or with an empty key is an
// error naming that token.
func ParseKeyValues(tokens []string) (map[string]string, error) {
	out := make(map[string]string, len(tokens))
	for _, tok := range tokens {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, fmt.Errorf("expected key=value, got %q: write it as key=value, or key= for an empty value", tok)
		}
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("expected key=value, got %q: the key is empty", tok)
		}
		out[k] = v
	}
	return out, nil
}
