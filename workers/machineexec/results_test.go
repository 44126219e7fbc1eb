package machineexec

import (
	"reflect"
	"testing"
)

func TestResults(t *testing.T) {
	for _, c := range []struct {
		name           string
		code           int
		stdout, stderr []byte
		want           map[string]any
	}{
		{"empty", 0, nil, nil, map[string]any{"return-code": 0}},
		{"both", 3, []byte("hi\n"), []byte("err\n"), map[string]any{"return-code": 3, "stdout": "hi\n", "stderr": "err\n"}},
		{"stderr only", 1, nil, []byte("x"), map[string]any{"return-code": 1, "stderr": "x"}},
		{"binary", 0, []byte{0xff, 0x00}, nil, map[string]any{"return-code": 0, "stdout": "/wA=", "stdout-encoding": "base64"}},
	} {
		if got := Results(c.code, c.stdout, c.stderr); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
