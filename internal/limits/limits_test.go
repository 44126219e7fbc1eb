package limits

import (
	"errors"
	"testing"
)

func TestCheckAndSizes(t *testing.T) {
	if err := Check("status message", 10, 10); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	err := Check("status message", 11, 10)
	var tl *TooLargeError
	if !errors.As(err, &tl) || err.Error() != "status message too large (11 bytes, limit 10)" {
		t.Errorf("over the limit: %v", err)
	}
	if n := MapSize(map[string]string{"ab": "cde", "f": ""}); n != 6 {
		t.Errorf("MapSize = %d, want 6", n)
	}
	bag := map[string]string{"a": "xx", "b": "yyy"}
	if n := Merged(bag, map[string]string{"a": "", "b": "z", "c": "wwww"}); n != 2+5 {
		t.Errorf("Merged = %d, want 7", n)
	}
}
