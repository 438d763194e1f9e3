package coltype

import (
	"fmt"
	"math/big"
	"strconv"
	"time"
)

// Watermark is a typed cursor value at full precision: the last cursor value
// whose rows are committed to the lake. Text is canonical for its Kind:
//
//	Int16/Int32/Int64   base-10 integer                      "42"
//	Decimal             plain decimal, no exponent            "123.4500"
//	Float32/Float64     strconv 'g' -1                        "1.5"
//	String              the value itself                      "abc"
//	Date                2006-01-02                            "2024-03-01"
//	Timestamp           2006-01-02T15:04:05.000000            "2024-03-01T10:00:00.123456"
//	TimestampTZ         2006-01-02T15:04:05.000000Z (UTC)     "2024-03-01T10:00:00.123456Z"
//
// Other kinds cannot be cursors.
type Watermark struct {
	Kind Kind   `json:"kind"`
	Text string `json:"value"`
}

const (
	DateLayout        = "2006-01-02"
	TimestampLayout   = "2006-01-02T15:04:05.000000"
	TimestampTZLayout = "2006-01-02T15:04:05.000000Z"
)

func (w *Watermark) String() string {
	if w == nil {
		return ""
	}
	return w.Text
}

// CursorKind reports whether k can be used as a cursor column.
func CursorKind(k Kind) bool {
	switch k {
	case Int16, Int32, Int64, Decimal, Float32, Float64, String, Date, Timestamp, TimestampTZ:
		return true
	}
	return false
}

// Bounds reports whether a watermark of kind w can bound a cursor column of
// kind c: the same kind, or both integers, or both floats (so widening a
// column keeps its watermark).
func Bounds(w, c Kind) bool {
	if w == c {
		return true
	}
	isInt := func(k Kind) bool { return k == Int16 || k == Int32 || k == Int64 }
	isFloat := func(k Kind) bool { return k == Float32 || k == Float64 }
	return (isInt(w) && isInt(c)) || (isFloat(w) && isFloat(c))
}

// TimeWatermark builds the canonical watermark of a time value for kind
// Date, Timestamp or TimestampTZ. Timestamps are truncated to microseconds.
func TimeWatermark(k Kind, t time.Time) *Watermark {
	switch k {
	case Date:
		return &Watermark{Kind: k, Text: t.Format(DateLayout)}
	case Timestamp:
		return &Watermark{Kind: k, Text: t.Truncate(time.Microsecond).Format(TimestampLayout)}
	case TimestampTZ:
		return &Watermark{Kind: k, Text: t.UTC().Truncate(time.Microsecond).Format(TimestampTZLayout)}
	}
	panic(fmt.Sprintf("coltype: TimeWatermark of %v", k))
}

// Time parses a Date, Timestamp or TimestampTZ watermark. Zone-less values
// come back in UTC.
func (w *Watermark) Time() (time.Time, error) {
	switch w.Kind {
	case Date:
		return time.Parse(DateLayout, w.Text)
	case Timestamp:
		return time.Parse(TimestampLayout, w.Text)
	case TimestampTZ:
		return time.Parse(TimestampTZLayout, w.Text)
	}
	return time.Time{}, fmt.Errorf("watermark of kind %v is not a time", w.Kind)
}

// Validate checks that Text is canonical for Kind.
func (w *Watermark) Validate() error {
	switch w.Kind {
	case Int16, Int32, Int64:
		_, err := strconv.ParseInt(w.Text, 10, 64)
		return err
	case Float32, Float64:
		_, err := strconv.ParseFloat(w.Text, 64)
		return err
	case Decimal:
		if _, ok := new(big.Rat).SetString(w.Text); !ok {
			return fmt.Errorf("invalid decimal watermark %q", w.Text)
		}
		return nil
	case String:
		return nil
	case Date, Timestamp, TimestampTZ:
		_, err := w.Time()
		return err
	}
	return fmt.Errorf("kind %v cannot be a cursor", w.Kind)
}

// Minus moves a time watermark back by d (the lookback). Other kinds, and
// d <= 0, return w unchanged. A Date moves back by whole days, rounding up.
func (w *Watermark) Minus(d time.Duration) (*Watermark, error) {
	if w == nil || d <= 0 {
		return w, nil
	}
	switch w.Kind {
	case Date, Timestamp, TimestampTZ:
	default:
		return nil, fmt.Errorf("lookback needs a date or timestamp cursor, not %v", w.Kind)
	}
	t, err := w.Time()
	if err != nil {
		return nil, err
	}
	if w.Kind == Date {
		days := int((d + 24*time.Hour - 1) / (24 * time.Hour))
		return TimeWatermark(Date, t.AddDate(0, 0, -days)), nil
	}
	return TimeWatermark(w.Kind, t.Add(-d)), nil
}
