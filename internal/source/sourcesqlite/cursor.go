package sourcesqlite

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/wharf-data/wharf/internal/coltype"
)

// key is a cursor value in a form Go can compare. Which field is used
// depends on the cursor column's kind: i for integers (and dates as days,
// timestamps as microseconds), f for floats, d for decimals, s for text.
type key struct {
	i int64
	f float64
	d decimal128.Num
	s string
}

// cursor is the plan for one incremental window.
type cursor struct {
	col    coltype.Column
	quoted string // the column, quoted, for SQL
	after  *key   // exclusive lower bound; nil = from the start
	high   *key   // max(cursor) in the snapshot; nil = no non-NULL value
	// lowerArg and upperArg are the SQL parameters for "col > ? AND col <= ?":
	// the lower one written the way the column stores its values, the upper
	// one the stored max value itself.
	lowerArg, upperArg any
}

// keyOf converts a stored cursor value.
func keyOf(c coltype.Column, v any) (key, error) {
	var k key
	var err error
	switch c.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64:
		k.i, err = toInt64(v)
	case coltype.Float32, coltype.Float64:
		k.f, err = toFloat64(v)
	case coltype.Decimal:
		k.d, err = toDecimal(v, c.Precision, c.Scale)
	case coltype.String:
		if _, ok := v.(string); !ok {
			return k, fmt.Errorf("%s value in a text cursor column (compare needs text; declare the column's type)", storageClass(v))
		}
		k.s = v.(string)
	case coltype.Date:
		var d int32
		d, err = toDate(v)
		k.i = int64(d)
	case coltype.Timestamp, coltype.TimestampTZ:
		k.i, err = toMicros(v, c.Kind == coltype.TimestampTZ)
	default:
		err = fmt.Errorf("kind %s cannot be a cursor", kindText(c))
	}
	return k, err
}

// compareKeys orders two keys of column c.
func compareKeys(c coltype.Column, a, b key) int {
	switch c.Kind {
	case coltype.Float32, coltype.Float64:
		return cmp.Compare(a.f, b.f)
	case coltype.Decimal:
		return a.d.Cmp(b.d)
	case coltype.String:
		return strings.Compare(a.s, b.s)
	}
	return cmp.Compare(a.i, b.i)
}

// watermarkKey reads a watermark as a key of column c.
func watermarkKey(c coltype.Column, w *coltype.Watermark) (key, error) {
	var k key
	intKind := func(k coltype.Kind) bool {
		return k == coltype.Int16 || k == coltype.Int32 || k == coltype.Int64
	}
	if w.Kind != c.Kind && !(intKind(w.Kind) && intKind(c.Kind)) {
		return k, fmt.Errorf("watermark is a %s but the cursor column is %s", w.Kind, kindText(c))
	}
	var err error
	switch c.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64:
		k.i, err = strconv.ParseInt(w.Text, 10, 64)
	case coltype.Float32, coltype.Float64:
		k.f, err = strconv.ParseFloat(w.Text, 64)
	case coltype.Decimal:
		k.d, err = parseDecimal(w.Text, c.Precision, c.Scale)
	case coltype.String:
		k.s = w.Text
	case coltype.Date, coltype.Timestamp, coltype.TimestampTZ:
		var t time.Time
		if t, err = w.Time(); err == nil {
			if c.Kind == coltype.Date {
				k.i = t.Unix() / 86400
			} else {
				k.i = timeMicros(t)
			}
		}
	default:
		err = fmt.Errorf("kind %s cannot be a cursor", kindText(c))
	}
	if err != nil {
		return k, fmt.Errorf("watermark %q: %w", w.Text, err)
	}
	return k, nil
}

// watermark is the canonical watermark of a key of column c.
func watermark(c coltype.Column, k key) *coltype.Watermark {
	switch c.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64:
		return &coltype.Watermark{Kind: c.Kind, Text: strconv.FormatInt(k.i, 10)}
	case coltype.Float32, coltype.Float64:
		return &coltype.Watermark{Kind: c.Kind, Text: strconv.FormatFloat(k.f, 'g', -1, 64)}
	case coltype.Decimal:
		return &coltype.Watermark{Kind: c.Kind, Text: k.d.ToString(int32(c.Scale))}
	case coltype.String:
		return &coltype.Watermark{Kind: c.Kind, Text: k.s}
	case coltype.Date:
		return coltype.TimeWatermark(c.Kind, time.Unix(k.i*86400, 0).UTC())
	}
	return coltype.TimeWatermark(c.Kind, time.UnixMicro(k.i).UTC())
}

// checkStoredForms compares the smallest and largest stored cursor values:
// SQLite orders every INTEGER/REAL before every TEXT, so if both are of one
// class all values are; for timestamps stored as text, the two must also be
// written alike (separator, zone) for text order to be time order. It
// returns the layout of the stored text, if any.
func checkStoredForms(c coltype.Column, minV, maxV any) (textLayout, error) {
	if numericClass(minV) != numericClass(maxV) ||
		(!numericClass(minV) && storageClass(minV) != storageClass(maxV)) {
		return textLayout{}, fmt.Errorf("it holds both %s and %s values, which SQLite cannot compare by %s order; store one form",
			storageClass(minV), storageClass(maxV), kindText(c))
	}
	switch c.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64, coltype.Float32, coltype.Float64, coltype.Decimal:
		if !numericClass(maxV) {
			return textLayout{}, fmt.Errorf("it holds %s values; a %s cursor must be stored as numbers", storageClass(maxV), kindText(c))
		}
	}
	if c.Kind != coltype.Timestamp && c.Kind != coltype.TimestampTZ {
		return textLayout{}, nil
	}
	lo, okLo := minV.(string)
	hi, okHi := maxV.(string)
	if !okLo || !okHi {
		return textLayout{}, nil
	}
	a, err1 := parseTimeText(lo)
	b, err2 := parseTimeText(hi)
	if err1 != nil || err2 != nil {
		return textLayout{}, nil // the conversion of the value reports it
	}
	l := b.layout
	if l.sep == 0 {
		l.sep = a.layout.sep
	}
	if l.sep == 0 {
		l.sep = ' '
	}
	mixed := ""
	switch {
	case a.layout.sep != 0 && b.layout.sep != 0 && a.layout.sep != b.layout.sep:
		mixed = "both ' ' and 'T' between date and time"
	case a.layout.zone != b.layout.zone || a.layout.offset != b.layout.offset:
		mixed = "different time zone suffixes"
	case l.zone == 'Z' && a.layout != b.layout:
		mixed = "a Z suffix after fractions of different widths"
	}
	if mixed != "" {
		return textLayout{}, fmt.Errorf("its text values are written with %s, so their text order is not their time order; store one form", mixed)
	}
	return l, nil
}

// lowerBound writes the exclusive lower bound k the way the column stores
// its values (stored is a stored value of the column; l its text layout).
func lowerBound(c coltype.Column, k key, stored any, l textLayout) any {
	switch c.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64:
		return k.i
	case coltype.Float32, coltype.Float64:
		return k.f
	case coltype.Decimal:
		f, _ := strconv.ParseFloat(k.d.ToString(int32(c.Scale)), 64)
		return f
	case coltype.String:
		return k.s
	case coltype.Date:
		return time.Unix(k.i*86400, 0).UTC().Format(coltype.DateLayout)
	}
	// Timestamps.
	if _, ok := stored.(string); !ok {
		// Integer Unix seconds: t > W exactly when t > floor(W).
		s := k.i / 1_000_000
		if k.i%1_000_000 < 0 {
			s--
		}
		return s
	}
	return timeBoundText(k.i, l)
}

// timeBoundText writes microseconds us as an exclusive lower bound for text
// comparison with values of layout l. Without a Z suffix the fraction is
// written to microseconds then padded with 9s: a stored value whose time
// truncated to microseconds is us compares below it however many fraction
// digits it has ('10:00:00', '10:00:00.5', '10:00:00.500000' against
// '10:00:00.500000999999999'), and any later time compares above it; an
// offset suffix (+HH:MM, -HH:MM) sorts before every digit, so it does not
// disturb that. A Z sorts after every digit, so for Z the bound is written
// exactly in the stored layout, truncated to its precision.
func timeBoundText(us int64, l textLayout) string {
	t := time.UnixMicro(us).UTC()
	if l.zone == '+' {
		t = t.In(time.FixedZone("", l.offset))
	}
	var b strings.Builder
	b.WriteString(t.Format("2006-01-02"))
	b.WriteByte(l.sep)
	micro := fmt.Sprintf("%06d", t.Nanosecond()/1000)
	if l.zone != 'Z' {
		b.WriteString(t.Format("15:04:05"))
		b.WriteString(".")
		b.WriteString(micro)
		b.WriteString("999999999")
		return b.String()
	}
	b.WriteString(t.Format("15:04"))
	if l.seconds {
		b.WriteString(t.Format(":05"))
		if l.frac > 0 {
			b.WriteByte('.')
			if l.frac <= 6 {
				b.WriteString(micro[:l.frac])
			} else {
				b.WriteString(micro)
				b.WriteString(strings.Repeat("9", l.frac-6))
			}
		}
	}
	b.WriteByte('Z')
	return b.String()
}
