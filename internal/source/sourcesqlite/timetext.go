package sourcesqlite

import (
	"errors"
	"time"
)

// timeText is a date or timestamp parsed from SQLite's ISO-8601 text forms:
//
//	YYYY-MM-DD
//	YYYY-MM-DD HH:MM[:SS[.fffffffff]]   (or 'T' between date and time)
//	... followed by Z or [+-]HH:MM (or [+-]HHMM)
//
// These are the forms SQLite's own date functions read and write, plus the
// one modernc.org/sqlite writes for a Go time.Time.
type timeText struct {
	year, month, day     int
	hour, minute, second int
	nanos                int // fraction of the second, truncated to nanoseconds
	layout               textLayout
}

// textLayout is how a time value is written, down to what matters for text
// comparisons between values of one column.
type textLayout struct {
	sep     byte // ' ' or 'T'; 0 for a bare date
	seconds bool // has :SS
	frac    int  // digits after the decimal point; 0 = none
	zone    byte // 0 (none), 'Z', or '+' for a numeric offset
	offset  int  // numeric offset in seconds east of UTC (zone '+')
}

var errTimeText = errors.New("not an ISO-8601 date or timestamp")

// parseTimeText reads s; it does not check that the date exists (the caller
// does that when building a time.Time).
func parseTimeText(s string) (timeText, error) {
	var t timeText
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return t, errTimeText
	}
	var ok bool
	if t.year, ok = digits(s[0:4]); !ok {
		return t, errTimeText
	}
	if t.month, ok = digits(s[5:7]); !ok {
		return t, errTimeText
	}
	if t.day, ok = digits(s[8:10]); !ok {
		return t, errTimeText
	}
	rest := s[10:]
	if rest == "" {
		return t, nil
	}
	if rest[0] != ' ' && rest[0] != 'T' && rest[0] != 't' {
		return t, errTimeText
	}
	t.layout.sep = 'T'
	if rest[0] == ' ' {
		t.layout.sep = ' '
	}
	rest = rest[1:]
	if len(rest) < 5 || rest[2] != ':' {
		return t, errTimeText
	}
	if t.hour, ok = digits(rest[0:2]); !ok {
		return t, errTimeText
	}
	if t.minute, ok = digits(rest[3:5]); !ok {
		return t, errTimeText
	}
	rest = rest[5:]
	if len(rest) >= 3 && rest[0] == ':' {
		if t.second, ok = digits(rest[1:3]); !ok {
			return t, errTimeText
		}
		t.layout.seconds = true
		rest = rest[3:]
		if len(rest) > 0 && rest[0] == '.' {
			n := 1
			for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
				if n <= 9 {
					t.nanos = t.nanos*10 + int(rest[n]-'0')
				}
				n++
			}
			if n == 1 {
				return t, errTimeText
			}
			t.layout.frac = n - 1
			for i := t.layout.frac; i < 9; i++ {
				t.nanos *= 10
			}
			rest = rest[n:]
		}
	}
	switch {
	case rest == "":
	case rest == "Z" || rest == "z":
		t.layout.zone = 'Z'
	case rest[0] == '+' || rest[0] == '-':
		var hh, mm int
		switch {
		case len(rest) == 6 && rest[3] == ':':
			hh, ok = digits(rest[1:3])
			if ok {
				mm, ok = digits(rest[4:6])
			}
		case len(rest) == 5:
			hh, ok = digits(rest[1:3])
			if ok {
				mm, ok = digits(rest[3:5])
			}
		default:
			ok = false
		}
		if !ok || hh > 23 || mm > 59 {
			return t, errTimeText
		}
		t.layout.zone = '+'
		t.layout.offset = hh*3600 + mm*60
		if rest[0] == '-' {
			t.layout.offset = -t.layout.offset
		}
	default:
		return t, errTimeText
	}
	if t.hour > 23 || t.minute > 59 || t.second > 59 {
		return t, errTimeText
	}
	return t, nil
}

// time builds the value as a time.Time: the wall clock in UTC for a value
// without zone, the instant for a value with one. It fails on dates that do
// not exist (2024-02-30).
func (t timeText) time() (time.Time, error) {
	loc := time.UTC
	if t.layout.zone == '+' {
		loc = time.FixedZone("", t.layout.offset)
	}
	v := time.Date(t.year, time.Month(t.month), t.day, t.hour, t.minute, t.second, t.nanos, loc)
	if v.Year() != t.year || int(v.Month()) != t.month || v.Day() != t.day {
		return time.Time{}, errors.New("no such date")
	}
	return v.UTC(), nil
}

// isDateOnly reports a bare YYYY-MM-DD.
func (t timeText) isDateOnly() bool { return t.layout.sep == 0 }

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseClock reads a time of day, HH:MM[:SS[.fffffffff]], as microseconds
// since midnight (sub-microsecond digits are truncated).
func parseClock(s string) (int64, error) {
	t, err := parseTimeText("2000-01-01 " + s)
	if err != nil || t.layout.zone != 0 {
		return 0, errors.New("not a time of day (want HH:MM[:SS[.ffffff]])")
	}
	return int64(t.hour)*3_600_000_000 + int64(t.minute)*60_000_000 +
		int64(t.second)*1_000_000 + int64(t.nanos/1000), nil
}
