package source

import (
	"math"
	"reflect"
	"testing"
)

func TestKeyChunks(t *testing.T) {
	for _, c := range []struct {
		lo, hi      int64
		want, width int
		out         []string
	}{
		{1, 100, 4, 1, []string{"k < 26", "k >= 26 AND k < 51", "k >= 51 AND k < 76", "k >= 76"}},
		{1, 100, 4, 50, []string{"k < 51", "k >= 51"}},
		{5, 5, 4, 1, []string{""}},
		{math.MinInt64, math.MaxInt64, 2, 1, []string{"k < 0", "k >= 0"}},
	} {
		if got := KeyChunks("k", c.lo, c.hi, c.want, c.width); !reflect.DeepEqual(got, c.out) {
			t.Errorf("KeyChunks(%d, %d, %d, %d) = %q, want %q", c.lo, c.hi, c.want, c.width, got, c.out)
		}
	}
}
