package cmdline

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseKeyValues(t *testing.T) {
	got, err := ParseKeyValues([]string{"inty=42", "stry=A string.", "empty=", "url=a=b", "inty=43", "mem=16G"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"inty": "43", "stry": "A string.", "empty": "", "url": "a=b", "mem": "16G"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseKeyValues = %v, want %v", got, want)
	}
	if got, err := ParseKeyValues(nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("ParseKeyValues(nil) = %v, %v; want empty non-nil map", got, err)
	}
}

func TestParseKeyValuesErrors(t *testing.T) {
	for _, tok := range []string{"novalue", "=v", " =v", ""} {
		_, err := ParseKeyValues([]string{"ok=1", tok})
		if err == nil {
			t.Errorf("ParseKeyValues(%q) succeeded", tok)
			continue
		}
		if !strings.Contains(err.Error(), `"`+tok+`"`) {
			t.Errorf("error %q does not name the token %q", err, tok)
		}
	}
}
