package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the units a file size may have.
var sizeUnits = map[string]int64{
	"":    1,
	"B":   1,
	"KB":  1000,
	"MB":  1000 * 1000,
	"GB":  1000 * 1000 * 1000,
	"TB":  1000 * 1000 * 1000 * 1000,
	"KIB": 1 << 10,
	"MIB": 1 << 20,
	"GIB": 1 << 30,
	"TIB": 1 << 40,
}

// ParseSize reads a byte size: a whole number of bytes, or a whole number
// with a unit (KiB, MiB, GiB, TiB, or KB, MB, GB, TB), e.g. "256MiB".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a size: want bytes or a number with KiB, MiB, GiB (or KB, MB, GB), e.g. 256MiB", s)
	}
	unit := strings.ToUpper(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q: want KiB, MiB, GiB, TiB, KB, MB, GB or TB", s, strings.TrimSpace(t[i:]))
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
