package coltype

import (
	"testing"
	"time"
)

func TestWatermarkMinus(t *testing.T) {
	ts := &Watermark{Kind: TimestampTZ, Text: "2024-03-01T00:10:00.000001Z"}
	for _, c := range []struct {
		w    *Watermark
		d    time.Duration
		want string
	}{
		{ts, 0, "2024-03-01T00:10:00.000001Z"},
		{ts, 15 * time.Minute, "2024-02-29T23:55:00.000001Z"},
		{&Watermark{Kind: Timestamp, Text: "2024-01-01T00:00:00.000000"}, time.Microsecond, "2023-12-31T23:59:59.999999"},
		{&Watermark{Kind: Date, Text: "2024-03-01"}, time.Hour, "2024-02-29"},
		{&Watermark{Kind: Date, Text: "2024-03-01"}, 48 * time.Hour, "2024-02-28"},
	} {
		got, err := c.w.Minus(c.d)
		if err != nil || got.Text != c.want || got.Kind != c.w.Kind {
			t.Errorf("%v minus %v = %v, %v; want %s", c.w, c.d, got, err, c.want)
		}
	}
	if _, err := (&Watermark{Kind: Int64, Text: "5"}).Minus(time.Minute); err == nil {
		t.Error("a lookback on an integer cursor must be an error")
	}
	var none *Watermark
	if got, err := none.Minus(time.Hour); got != nil || err != nil {
		t.Errorf("nil watermark minus = %v, %v", got, err)
	}
}

func TestWatermarkValidateAndTime(t *testing.T) {
	good := []Watermark{
		{Int64, "-9223372036854775808"}, {Decimal, "12345678901234567890.000000001"}, {Float64, "1e+300"},
		{String, "it's"}, {Date, "0001-01-01"}, {Timestamp, "9999-12-31T23:59:59.999999"},
		{TimestampTZ, "1969-07-20T20:17:40.000000Z"},
	}
	for _, w := range good {
		if err := w.Validate(); err != nil {
			t.Errorf("%v: %v", w, err)
		}
	}
	bad := []Watermark{
		{Int64, "1.5"}, {Decimal, "1e5x"}, {Date, "2024-13-01"}, {Timestamp, "2024-01-01 00:00:00"},
		{TimestampTZ, "2024-01-01T00:00:00.000000+01:00"}, {Bool, "true"}, {UUID, "x"},
	}
	for _, w := range bad {
		if err := w.Validate(); err == nil {
			t.Errorf("%v should be invalid", w)
		}
	}
	tz := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	w := TimeWatermark(TimestampTZ, tz)
	if w.Text != "2024-05-06T06:08:09.123456Z" {
		t.Errorf("TimeWatermark = %s", w.Text)
	}
	back, err := w.Time()
	if err != nil || !back.Equal(tz.Truncate(time.Microsecond)) {
		t.Errorf("Time() = %v, %v", back, err)
	}
}

func TestKindNamesRoundTrip(t *testing.T) {
	for k := Bool; k <= JSON; k++ {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
		if c := (Column{Name: "c", Kind: k, Precision: 10, Scale: 2}); c.ArrowType() == nil {
			t.Errorf("%v has no Arrow type", k)
		}
	}
	if _, err := ParseKind("invalid"); err == nil {
		t.Error("ParseKind(invalid) should fail")
	}
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		w, c Kind
		want bool
	}{
		{Int16, Int64, true}, {Int64, Int32, true}, {Float32, Float64, true}, {Date, Date, true},
		{Int64, Float64, false}, {String, Timestamp, false}, {Timestamp, TimestampTZ, false}, {Decimal, Int64, false},
	} {
		if got := Bounds(tc.w, tc.c); got != tc.want {
			t.Errorf("Bounds(%v, %v) = %v, want %v", tc.w, tc.c, got, tc.want)
		}
	}
}
