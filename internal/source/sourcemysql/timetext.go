package sourcemysql

import (
	"time"

	"errors"
	"fmt"
	"github.com/wharf-data/wharf/internal/coltype"
)

// errZeroDate is the zero-date policy: MySQL's "zero" dates ('0000-00-00',
// and dates with a zero month or day that NO_ZERO_IN_DATE would refuse) name
// no day, so they fail the run instead of landing as an invented date or a
// silent NULL.
var errZeroDate = errors.New("is a MySQL zero date, which names no day: wharf lands no invented dates. " +
	"Set such values to NULL in the source (UPDATE ... SET col = NULL WHERE col = '0000-00-00'), or leave the column out of the workflow (exclude_columns; Glue: WharfExcludeColumns)")

// num reads b[i:j] as a non-negative decimal number.
func num(b []byte, i, j int) (int, bool) {
	if j > len(b) || i >= j {
		return 0, false
	}
	n := 0
	for _, c := range b[i:j] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysFromCivil counts days from 1970-01-01 to y-m-d (proleptic Gregorian;
// Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func daysIn(y, m int) int {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// ymd reads "YYYY-MM-DD" at the start of b.
func ymd(b []byte) (y, m, d int, err error) {
	y, ok1 := num(b, 0, 4)
	m, ok2 := num(b, 5, 7)
	d, ok3 := num(b, 8, 10)
	if !ok1 || !ok2 || !ok3 || b[4] != '-' || b[7] != '-' {
		return 0, 0, 0, fmt.Errorf("date %q: want YYYY-MM-DD", b)
	}
	if y == 0 || m == 0 || d == 0 {
		return 0, 0, 0, fmt.Errorf("%q %w", b, errZeroDate)
	}
	if m > 12 || d > daysIn(y, m) {
		return 0, 0, 0, fmt.Errorf("date %q does not exist", b)
	}
	return y, m, d, nil
}

// parseDate reads "YYYY-MM-DD" as days since 1970-01-01.
func parseDate(b []byte) (int32, error) {
	if len(b) != 10 {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", b)
	}
	y, m, d, err := ymd(b)
	if err != nil {
		return 0, err
	}
	return int32(daysFromCivil(y, m, d)), nil
}

// fraction reads ".ffffff" (1 to 6 digits) at b[i:] as microseconds.
func fraction(b []byte, i int) (int64, bool) {
	if i == len(b) {
		return 0, true
	}
	if b[i] != '.' || len(b)-i-1 < 1 || len(b)-i-1 > 6 {
		return 0, false
	}
	us, ok := num(b, i+1, len(b))
	if !ok {
		return 0, false
	}
	for k := len(b) - i - 1; k < 6; k++ {
		us *= 10
	}
	return int64(us), true
}

// parseDatetime reads "YYYY-MM-DD HH:MM:SS[.ffffff]" as microseconds since
// 1970-01-01 00:00:00 (UTC for TIMESTAMP columns, whose session zone is UTC).
func parseDatetime(b []byte) (int64, error) {
	if len(b) < 19 {
		return 0, fmt.Errorf("datetime %q: want YYYY-MM-DD HH:MM:SS[.ffffff]", b)
	}
	y, m, d, err := ymd(b)
	if err != nil {
		return 0, err
	}
	hh, ok1 := num(b, 11, 13)
	mi, ok2 := num(b, 14, 16)
	ss, ok3 := num(b, 17, 19)
	us, ok4 := fraction(b, 19)
	if !ok1 || !ok2 || !ok3 || !ok4 || b[10] != ' ' || b[13] != ':' || b[16] != ':' || hh > 23 || mi > 59 || ss > 59 {
		return 0, fmt.Errorf("datetime %q: want YYYY-MM-DD HH:MM:SS[.ffffff]", b)
	}
	secs := daysFromCivil(y, m, d)*86400 + int64(hh*3600+mi*60+ss)
	return secs*1_000_000 + us, nil
}

// parseTimeOfDay reads a TIME value "[-]HHH:MM:SS[.ffffff]" as microseconds
// since midnight. MySQL's TIME is also a duration (-838:59:59 to
// 838:59:59); values outside a day fail the run naming the value.
func parseTimeOfDay(b []byte) (int64, error) {
	s := 0
	if len(b) > 0 && b[0] == '-' {
		s = 1
	}
	colon := -1
	for i := s; i < len(b); i++ {
		if b[i] == ':' {
			colon = i
			break
		}
	}
	if colon < s+1 || len(b) < colon+6 || b[colon+3] != ':' {
		return 0, fmt.Errorf("time %q: want HH:MM:SS[.ffffff]", b)
	}
	hh, ok1 := num(b, s, colon)
	mi, ok2 := num(b, colon+1, colon+3)
	ss, ok3 := num(b, colon+4, colon+6)
	us, ok4 := fraction(b, colon+6)
	if !ok1 || !ok2 || !ok3 || !ok4 || mi > 59 || ss > 59 {
		return 0, fmt.Errorf("time %q: want HH:MM:SS[.ffffff]", b)
	}
	v := int64(hh*3600+mi*60+ss)*1_000_000 + us
	if (s == 1 && v != 0) || hh > 23 {
		return 0, fmt.Errorf("time %q is not a time of day (MySQL TIME also holds durations, -838:59:59 to 838:59:59): "+
			"TIME lands as a time of day; land such a column as text (CAST it in a view) or leave it out", b)
	}
	return v, nil
}

// civilText formats microseconds since the epoch as coltype.TimestampLayout.
func civilText(us int64) string {
	return time.UnixMicro(us).UTC().Format(coltype.TimestampLayout)
}
