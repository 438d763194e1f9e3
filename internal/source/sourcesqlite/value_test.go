package sourcesqlite

import (
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	ok := []struct {
		in   string
		p, s int
		want string // unscaled integer
	}{
		{"123.45", 8, 2, "12345"},
		{"-0.5", 3, 2, "-50"},
		{"+7", 3, 0, "7"},
		{"7.", 3, 0, "7"},
		{".25", 3, 2, "25"},
		{"100.000", 5, 2, "10000"},
		{"0007.10", 4, 2, "710"},
		{"1.5e3", 6, 1, "15000"},
		{"12345678901234567890123456789.012345678", 38, 9, "12345678901234567890123456789012345678"},
		{"-99999999999999999999999999999999999999", 38, 0, "-99999999999999999999999999999999999999"},
	}
	for _, c := range ok {
		n, err := parseDecimal(c.in, c.p, c.s)
		if err != nil || n.BigInt().String() != c.want {
			t.Errorf("parseDecimal(%q, %d, %d) = %v, %v; want %s", c.in, c.p, c.s, n.BigInt(), err, c.want)
		}
	}
	bad := []struct {
		in   string
		p, s int
		want string
	}{
		{"1.234", 8, 2, "more than 2 digits"},
		{"1000", 5, 2, "does not fit"},
		{"abc", 5, 2, "not a decimal"},
		{"1/2", 5, 2, "not a decimal"},
		{"0x10", 5, 0, "not a decimal"},
		{"", 5, 0, "not a decimal"},
		{".", 5, 0, "not a decimal"},
		{"1e40", 38, 0, "does not fit"},
		{"100000000000000000000000000000000000000", 38, 0, "does not fit"},
	}
	for _, c := range bad {
		if _, err := parseDecimal(c.in, c.p, c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseDecimal(%q, %d, %d) err = %v, want %q", c.in, c.p, c.s, err, c.want)
		}
	}
}

func TestParseTimeText(t *testing.T) {
	ok := map[string]int64{ // micros since epoch, UTC
		"2024-01-01":                    1704067200_000000,
		"2024-01-01 10:00":              1704103200_000000,
		"2024-01-01T10:00:00":           1704103200_000000,
		"2024-01-01t10:00:00.5":         1704103200_500000,
		"2024-01-01 10:00:00.123456789": 1704103200_123456,
		"2024-01-01 12:00:00+02:00":     1704103200_000000,
		"2024-01-01 05:00:00-0500":      1704103200_000000,
		"2024-01-01 10:00:00Z":          1704103200_000000,
		"1969-12-31 23:59:59.9999999":   -1,
	}
	for in, want := range ok {
		got, err := toMicros(in, true)
		if err != nil || got != want {
			t.Errorf("toMicros(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"2024-1-01", "2024-01-01 25:00:00", "2024-02-30", "2024-01-01 10:00:00.", "2024-01-01 10:00:00+2",
		"2024-01-01X10:00", "2024-01-01 10:00:00 UTC", "yesterday"} {
		if _, err := toMicros(in, true); err == nil {
			t.Errorf("toMicros(%q) accepted", in)
		}
	}
	if d, err := toDate("1970-01-02"); err != nil || d != 1 {
		t.Errorf("toDate = %d, %v", d, err)
	}
	if _, err := toDate("1970-01-02 00:00:00"); err == nil {
		t.Error("toDate accepted a timestamp")
	}
	if us, err := toClock("01:02:03.000004"); err != nil || us != 3723000004 {
		t.Errorf("toClock = %d, %v", us, err)
	}
	if _, err := toClock("10:00+01:00"); err == nil {
		t.Error("toClock accepted an offset")
	}
}

func TestKindOfAffinity(t *testing.T) {
	cases := map[string]string{
		"INT": "int64", "TINYINT": "int64", "UNSIGNED BIG INT": "int64", "INT8": "int64", "POINT": "int64",
		"NVARCHAR(100)": "string", "NATIVE CHARACTER(70)": "string", "text": "string",
		"BLOB": "bytes", "FLOAT": "float64", "DOUBLE": "float64", "NUMERIC": "float64", "MONEY": "float64",
		"decimal(10, 5)": "decimal", "NUMBER(12)": "decimal", "boolean": "bool", "TIMESTAMP(6)": "timestamp",
		"timestamp  with   time zone": "timestamptz", "uuid": "uuid", "json": "json", "Time": "time", "": "string",
	}
	for decl, want := range cases {
		c, reason := kindOf(decl)
		if reason != "" || c.Kind.String() != want || c.SourceType != decl {
			t.Errorf("kindOf(%q) = %v (%q), want %s", decl, c.Kind, reason, want)
		}
	}
	for _, decl := range []string{"DECIMAL(0)", "DECIMAL(39,2)", "DECIMAL(5,6)", "DECIMAL(x)"} {
		if _, reason := kindOf(decl); reason == "" {
			t.Errorf("kindOf(%q) accepted", decl)
		}
	}
}
