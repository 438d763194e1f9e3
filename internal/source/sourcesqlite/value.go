package sourcesqlite

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/google/uuid"
)

// The functions below convert one value as modernc.org/sqlite returns it
// for a column read without a declared type (int64, float64, string,
// []byte; never nil here) to the Go value of a neutral kind. They return a
// short reason on failure; the caller wraps it with table, column and row.
//
// SQLite is dynamically typed: a column declared INTEGER may hold text. A
// value that cannot be converted exactly fails the run; nothing becomes
// NULL or a rounded number silently.

// storageClass names the SQLite storage class of a value, for messages.
func storageClass(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case int64:
		return "integer"
	case float64:
		return "real"
	case string:
		return "text"
	case []byte:
		return "blob"
	}
	return fmt.Sprintf("%T", v)
}

// numericClass reports whether v is stored as INTEGER or REAL (SQLite
// compares the two numerically with each other).
func numericClass(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

func errClass(v any, want string) error {
	return fmt.Errorf("%s value cannot be read as %s", storageClass(v), want)
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x), nil
		}
		return 0, errors.New("real value is not a whole number in the int64 range")
	}
	return 0, errClass(v, "an integer")
}

func toIntRange(v any, bits int) (int64, error) {
	n, err := toInt64(v)
	if err != nil {
		return 0, err
	}
	lim := int64(1) << (bits - 1)
	if n < -lim || n >= lim {
		return 0, fmt.Errorf("integer value is out of the int%d range", bits)
	}
	return n, nil
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		f := float64(x)
		if f >= 1<<63 || int64(f) != x {
			return 0, errors.New("integer value is too large to be exact as a double")
		}
		return f, nil
	}
	return 0, errClass(v, "a floating-point number")
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case int64:
		switch x {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return false, errors.New("integer value is neither 0 nor 1")
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, errors.New("text value is neither 'true' nor 'false'")
	}
	return false, errClass(v, "a boolean")
}

// toDecimal reads an integer, a real (by its shortest decimal form, which
// is the decimal text SQLite parsed it from) or decimal text as an exact
// decimal of precision p and scale s. More fractional digits than s, or
// more integer digits than p-s, is an error, not a rounding.
func toDecimal(v any, p, s int) (decimal128.Num, error) {
	var text string
	switch x := v.(type) {
	case int64:
		text = strconv.FormatInt(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return decimal128.Num{}, errors.New("real value is not finite")
		}
		text = strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		text = strings.TrimSpace(x)
	default:
		return decimal128.Num{}, errClass(v, "a decimal")
	}
	return parseDecimal(text, p, s)
}

func parseDecimal(text string, p, s int) (decimal128.Num, error) {
	neg := false
	t := text
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if strings.ContainsAny(t, "eE") {
		return parseDecimalExp(text, p, s)
	}
	ip, fp, _ := strings.Cut(t, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) {
		return decimal128.Num{}, errors.New("value is not a decimal number")
	}
	ip = strings.TrimLeft(ip, "0")
	fp = strings.TrimRight(fp, "0")
	if len(fp) > s {
		return decimal128.Num{}, fmt.Errorf("value has more than %d digits after the decimal point", s)
	}
	if len(ip) > p-s {
		return decimal128.Num{}, fmt.Errorf("value does not fit in decimal(%d,%d)", p, s)
	}
	unscaled := ip + fp + strings.Repeat("0", s-len(fp))
	var n decimal128.Num
	if len(unscaled) <= 18 {
		u, _ := strconv.ParseInt("0"+unscaled, 10, 64)
		n = decimal128.FromI64(u)
	} else {
		b, _ := new(big.Int).SetString(unscaled, 10)
		n = decimal128.FromBigInt(b)
	}
	if neg {
		n = n.Negate()
	}
	return n, nil
}

// parseDecimalExp handles decimal text with an exponent ("1.5e3").
func parseDecimalExp(text string, p, s int) (decimal128.Num, error) {
	r, ok := new(big.Rat).SetString(text)
	if !ok || strings.ContainsAny(text, "/xXoObB_") {
		return decimal128.Num{}, errors.New("value is not a decimal number")
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil)))
	if !r.IsInt() {
		return decimal128.Num{}, fmt.Errorf("value has more than %d digits after the decimal point", s)
	}
	if r.Num().BitLen() > 127 {
		return decimal128.Num{}, fmt.Errorf("value does not fit in decimal(%d,%d)", p, s)
	}
	n := decimal128.FromBigInt(r.Num())
	if !n.FitsInPrecision(int32(p)) {
		return decimal128.Num{}, fmt.Errorf("value does not fit in decimal(%d,%d)", p, s)
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// toDate reads 'YYYY-MM-DD' text as days since 1970-01-01.
func toDate(v any) (int32, error) {
	x, ok := v.(string)
	if !ok {
		return 0, errClass(v, "a date (want 'YYYY-MM-DD' text)")
	}
	t, err := parseTimeText(x)
	if err != nil || !t.isDateOnly() {
		return 0, errors.New("text value is not a date (want YYYY-MM-DD)")
	}
	tm, err := t.time()
	if err != nil {
		return 0, fmt.Errorf("text value is not a date: %v", err)
	}
	return int32(tm.Unix() / 86400), nil
}

// toMicros reads a timestamp as microseconds since the Unix epoch:
// ISO-8601 text, or an integer count of Unix seconds. For a zone-less
// Timestamp (tz false) the result is the wall clock read as if UTC, and
// text with a non-zero UTC offset is an error (that column should be
// declared TIMESTAMPTZ). For TimestampTZ, text without a zone is UTC, as
// SQLite's date functions take it. Sub-microsecond digits are truncated.
func toMicros(v any, tz bool) (int64, error) {
	switch x := v.(type) {
	case string:
		t, err := parseTimeText(x)
		if err != nil {
			return 0, errors.New("text value is not an ISO-8601 timestamp (want YYYY-MM-DD HH:MM:SS[.ffffff])")
		}
		if !tz && t.layout.zone == '+' && t.layout.offset != 0 {
			return 0, errors.New("text value has a UTC offset but the column has no time zone (declare it TIMESTAMPTZ)")
		}
		tm, err := t.time()
		if err != nil {
			return 0, fmt.Errorf("text value is not a timestamp: %v", err)
		}
		return timeMicros(tm), nil
	case int64:
		if x > math.MaxInt64/1_000_000 || x < math.MinInt64/1_000_000 {
			return 0, errors.New("integer value is out of range for Unix seconds")
		}
		return x * 1_000_000, nil
	}
	return 0, errClass(v, "a timestamp (want ISO-8601 text or integer Unix seconds)")
}

// timeMicros is t in microseconds since the epoch, rounded down.
func timeMicros(t time.Time) int64 {
	return t.Unix()*1_000_000 + int64(t.Nanosecond()/1000)
}

func toClock(v any) (int64, error) {
	x, ok := v.(string)
	if !ok {
		return 0, errClass(v, "a time of day (want 'HH:MM:SS' text)")
	}
	us, err := parseClock(x)
	if err != nil {
		return 0, fmt.Errorf("text value is %v", err)
	}
	return us, nil
}

func toUUID(v any) ([16]byte, error) {
	switch x := v.(type) {
	case []byte:
		if len(x) != 16 {
			return [16]byte{}, fmt.Errorf("blob value has %d bytes, want 16", len(x))
		}
		return [16]byte(x), nil
	case string:
		u, err := uuid.Parse(x)
		if err != nil {
			return [16]byte{}, errors.New("text value is not a UUID")
		}
		return u, nil
	}
	return [16]byte{}, errClass(v, "a UUID (want a 16-byte blob or UUID text)")
}

// toJSON reads JSON text. SQLite's JSON column has NUMERIC affinity, so a
// bare JSON number arrives as an integer or real.
func toJSON(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if !json.Valid([]byte(x)) {
			return "", errors.New("text value is not valid JSON")
		}
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", errors.New("real value is not finite, so not JSON")
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", errClass(v, "JSON text (a blob may be SQLite's binary JSONB: select json(col) in a view)")
}

// toText reads text; integers and reals become their decimal text (a real
// keeps a ".0" when whole, as SQLite prints it).
func toText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return "", errors.New("text value is not valid UTF-8")
		}
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0"
		}
		return s, nil
	}
	return "", errClass(v, "text")
}

func toBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, errClass(v, "bytes")
}
