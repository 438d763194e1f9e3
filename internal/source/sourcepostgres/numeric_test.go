package sourcepostgres

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// binaryNumeric builds numeric_send's bytes from base-10000 groups.
func binaryNumeric(weight int16, sign uint16, groups ...uint16) []byte {
	v := make([]byte, 8+2*len(groups))
	binary.BigEndian.PutUint16(v[0:], uint16(len(groups)))
	binary.BigEndian.PutUint16(v[2:], uint16(weight))
	binary.BigEndian.PutUint16(v[4:], sign)
	for i, g := range groups {
		binary.BigEndian.PutUint16(v[8+2*i:], g)
	}
	return v
}

// TestNumericFastMatchesExact checks numericDecoder.fast against
// numericToDecimal: wherever fast accepts a value, it must land the same
// decimal, and it must accept the ordinary values it exists for (up to four
// digit groups).
func TestNumericFastMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for _, ps := range [][2]int{{12, 2}, {15, 0}, {15, 15}, {5, 3}, {1, 0}, {18, 4}, {38, 10}} {
		d := newNumericDecoder(nil, ps[0], ps[1])
		check := func(v []byte) {
			t.Helper()
			got, ok := d.fast(v)
			want, err := numericToDecimal(v, d.scale, d.limitHi, d.limitLo)
			if !ok {
				if err == nil && ps[0] <= fastPrecision && len(v) <= 8+2*4 {
					t.Errorf("decimal(%d,%d) %s: fast declined a value that lands as %v", ps[0], ps[1], numericText(v), want)
				}
				return
			}
			accepted++
			if err != nil || got != want {
				t.Errorf("decimal(%d,%d) %s: fast %v, exact %v (%v)", ps[0], ps[1], numericText(v), got, want, err)
			}
		}
		for _, sign := range []uint16{numericPos, numericNeg, numericNaN, numericPInf, 0x1234} {
			check(binaryNumeric(0, sign))
			check(binaryNumeric(1, sign, 1, 2345, 6700))
		}
		check(binaryNumeric(0, numericPos, 10000))
		check(binaryNumeric(-1, numericPos, 5)[:9]) // wrong length
		for range 20000 {
			n := rng.IntN(6)
			groups := make([]uint16, n)
			for i := range groups {
				groups[i] = uint16(rng.IntN(10000))
				if rng.IntN(3) == 0 {
					groups[i] -= groups[i] % 100
				}
			}
			sign := uint16(numericPos)
			if rng.IntN(2) == 0 {
				sign = numericNeg
			}
			check(binaryNumeric(int16(rng.IntN(12)-4), sign, groups...))
		}
	}
	if accepted < 10000 {
		t.Errorf("fast accepted only %d values", accepted)
	}
	var zero decimal128.Num
	if n, ok := newNumericDecoder(nil, 12, 2).fast(binaryNumeric(0, numericNeg)); !ok || n != zero {
		t.Errorf("-0: %v %v, want 0", n, ok)
	}
}
