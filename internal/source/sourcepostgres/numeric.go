package sourcepostgres

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Binary numeric: int16 ndigits, int16 weight, uint16 sign, int16 dscale,
// then ndigits base-10000 digit groups, most significant first. The value is
// sum(digit[i] * 10000^(weight-i)). Trailing zero groups are not sent, so
// 100.00 arrives as the single group 1 with weight 0.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

var pow10u64 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// numericDecoder lands numeric values as Decimal(precision, scale), exactly
// or not at all.
type numericDecoder struct {
	b                appender[decimal128.Num]
	precision, scale int
	// limitHi/limitLo is 10^precision: magnitudes must stay below it.
	limitHi, limitLo uint64
	// fastLimit is 10^precision when precision <= fastPrecision (fast
	// works in 64 bits), else 0 (fast declines every value).
	fastLimit uint64
}

// fastPrecision is the largest precision numericDecoder.fast serves, with
// room to spare in 64 bits.
const fastPrecision = 15

func newNumericDecoder(b appender[decimal128.Num], precision, scale int) *numericDecoder {
	lim := decimal128.GetScaleMultiplier(precision)
	d := &numericDecoder{b: b, precision: precision, scale: scale,
		limitHi: uint64(lim.HighBits()), limitLo: lim.LowBits()}
	if precision <= fastPrecision {
		d.fastLimit = pow10u64[precision]
	}
	return d
}

func (d *numericDecoder) appendNull() { d.b.AppendNull() }

func (d *numericDecoder) decode(v []byte) error {
	if n, ok := d.fast(v); ok {
		d.b.Append(n)
		return nil
	}
	n, err := numericToDecimal(v, d.scale, d.limitHi, d.limitLo)
	if err != nil {
		return castHint{"string", fmt.Errorf("value %s cannot land as decimal(%d,%d): %w", numericText(v), d.precision, d.scale, err)}
	}
	d.b.Append(n)
	return nil
}

// fast converts the common numeric in 64-bit arithmetic: finite, at most
// four digit groups, at most scale fractional digits, below 10^precision,
// precision <= fastPrecision. Any other value it declines (false), for
// numericToDecimal to convert or refuse with its message; where it accepts,
// the result is the same.
func (d *numericDecoder) fast(v []byte) (decimal128.Num, bool) {
	if len(v) < 8 || d.fastLimit == 0 {
		return decimal128.Num{}, false
	}
	ndigits := int(int16(binary.BigEndian.Uint16(v[0:])))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	if sign != numericPos && sign != numericNeg || ndigits < 0 || ndigits > 4 || len(v) != 8+2*ndigits {
		return decimal128.Num{}, false
	}
	// The groups as one base-10000 integer (< 10^16), whose units digit
	// stands at 10^exp in the unscaled value.
	var n uint64
	for i := 8; i < len(v); i += 2 {
		g := uint64(binary.BigEndian.Uint16(v[i:]))
		if g >= 10000 {
			return decimal128.Num{}, false
		}
		n = n*10000 + g
	}
	switch exp := 4*(weight-ndigits+1) + d.scale; {
	case n == 0:
	case exp >= 0:
		if exp >= len(pow10u64) {
			return decimal128.Num{}, false
		}
		hi, lo := bits.Mul64(n, pow10u64[exp])
		if hi != 0 {
			return decimal128.Num{}, false
		}
		n = lo
	case exp > -len(pow10u64):
		p := pow10u64[-exp]
		if n%p != 0 {
			return decimal128.Num{}, false
		}
		n /= p
	default:
		return decimal128.Num{}, false
	}
	if n >= d.fastLimit {
		return decimal128.Num{}, false
	}
	if sign == numericNeg {
		return decimal128.FromI64(-int64(n)), true
	}
	return decimal128.FromU64(n), true
}

// numericToDecimal converts a binary numeric to the unscaled integer at
// scale, failing when a digit would be lost or the magnitude reaches
// 10^precision (given as limitHi/limitLo).
func numericToDecimal(v []byte, scale int, limitHi, limitLo uint64) (decimal128.Num, error) {
	if len(v) < 8 {
		return decimal128.Num{}, fmt.Errorf("binary numeric has %d bytes, want at least 8", len(v))
	}
	ndigits := int(int16(binary.BigEndian.Uint16(v[0:])))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	switch sign {
	case numericPos, numericNeg:
	case numericNaN:
		return decimal128.Num{}, fmt.Errorf("NaN has no decimal value")
	case numericPInf, numericNInf:
		return decimal128.Num{}, fmt.Errorf("infinity has no decimal value")
	default:
		return decimal128.Num{}, fmt.Errorf("binary numeric has unknown sign 0x%04x", sign)
	}
	if ndigits < 0 || len(v) != 8+2*ndigits {
		return decimal128.Num{}, fmt.Errorf("binary numeric has %d bytes for %d digit groups", len(v), ndigits)
	}
	var hi, lo uint64
	ok := true
	for i := 0; i < ndigits; i++ {
		g := uint64(binary.BigEndian.Uint16(v[8+2*i:]))
		if g >= 10000 {
			return decimal128.Num{}, fmt.Errorf("binary numeric digit group %d is out of range", g)
		}
		// exp is the power of ten of this group's units digit in the
		// unscaled integer.
		exp := 4*(weight-i) + scale
		switch {
		case exp >= 0:
			hi, lo, ok = mulAdd128(hi, lo, 10000, g)
		case exp > -4:
			p := pow10u64[-exp]
			if g%p != 0 {
				return decimal128.Num{}, fmt.Errorf("more than %d fractional digits", scale)
			}
			hi, lo, ok = mulAdd128(hi, lo, pow10u64[4+exp], g/p)
		default:
			if g != 0 {
				return decimal128.Num{}, fmt.Errorf("more than %d fractional digits", scale)
			}
		}
		if !ok {
			return decimal128.Num{}, fmt.Errorf("too many digits")
		}
	}
	if ndigits > 0 {
		// Trailing zero groups that were not sent.
		for exp := 4*(weight-ndigits+1) + scale; exp > 0 && ok; {
			step := min(exp, 19)
			hi, lo, ok = mulAdd128(hi, lo, pow10u64[step], 0)
			exp -= step
		}
		if !ok {
			return decimal128.Num{}, fmt.Errorf("too many digits")
		}
	}
	if hi > limitHi || (hi == limitHi && lo >= limitLo) {
		return decimal128.Num{}, fmt.Errorf("too many integer digits")
	}
	n := decimal128.New(int64(hi), lo)
	if sign == numericNeg {
		n = n.Negate()
	}
	return n, nil
}

// mulAdd128 returns (hi,lo)*m + a and whether it fits in 127 bits.
func mulAdd128(hi, lo, m, a uint64) (uint64, uint64, bool) {
	h1, l1 := bits.Mul64(lo, m)
	h2, l2 := bits.Mul64(hi, m)
	if h2 != 0 {
		return 0, 0, false
	}
	nhi, c := bits.Add64(l2, h1, 0)
	if c != 0 {
		return 0, 0, false
	}
	nlo, c := bits.Add64(l1, a, 0)
	nhi, c2 := bits.Add64(nhi, 0, c)
	if c2 != 0 || nhi>>63 != 0 {
		return 0, 0, false
	}
	return nhi, nlo, true
}

// numericText renders a binary numeric as PostgreSQL prints it, for error
// messages.
func numericText(v []byte) string {
	if len(v) < 8 {
		return "(malformed numeric)"
	}
	ndigits := int(int16(binary.BigEndian.Uint16(v[0:])))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	dscale := int(int16(binary.BigEndian.Uint16(v[6:])))
	switch sign {
	case numericNaN:
		return "NaN"
	case numericPInf:
		return "Infinity"
	case numericNInf:
		return "-Infinity"
	}
	if ndigits < 0 || len(v) != 8+2*ndigits {
		return "(malformed numeric)"
	}
	group := func(i int) int {
		if i < 0 || i >= ndigits {
			return 0
		}
		return int(binary.BigEndian.Uint16(v[8+2*i:]))
	}
	var sb strings.Builder
	if sign == numericNeg {
		sb.WriteByte('-')
	}
	if weight < 0 {
		sb.WriteByte('0')
	} else {
		fmt.Fprintf(&sb, "%d", group(0))
		for i := 1; i <= weight; i++ {
			fmt.Fprintf(&sb, "%04d", group(i))
		}
	}
	if dscale > 0 {
		var frac strings.Builder
		for i := weight + 1; frac.Len() < dscale; i++ {
			fmt.Fprintf(&frac, "%04d", group(i))
		}
		sb.WriteByte('.')
		sb.WriteString(frac.String()[:dscale])
	}
	return sb.String()
}
