package sourcetest

import (
	"math"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
)

// typesTable is the "every portable type" table: id, one nullable column per
// kind and a NOT NULL string. Engines leave out the kinds they cannot hold.
var typesColumns = []coltype.Column{
	{Name: "id", Kind: coltype.Int64},
	{Name: "c_bool", Kind: coltype.Bool, Nullable: true},
	{Name: "c_int16", Kind: coltype.Int16, Nullable: true},
	{Name: "c_int32", Kind: coltype.Int32, Nullable: true},
	{Name: "c_int64", Kind: coltype.Int64, Nullable: true},
	{Name: "c_float32", Kind: coltype.Float32, Nullable: true},
	{Name: "c_float64", Kind: coltype.Float64, Nullable: true},
	{Name: "c_dec", Kind: coltype.Decimal, Precision: 12, Scale: 2, Nullable: true},
	{Name: "c_dec_wide", Kind: coltype.Decimal, Precision: 38, Scale: 10, Nullable: true},
	{Name: "c_string", Kind: coltype.String, Nullable: true},
	{Name: "c_bytes", Kind: coltype.Bytes, Nullable: true},
	{Name: "c_date", Kind: coltype.Date, Nullable: true},
	{Name: "c_time", Kind: coltype.Time, Nullable: true},
	{Name: "c_ts", Kind: coltype.Timestamp, Nullable: true},
	{Name: "c_tstz", Kind: coltype.TimestampTZ, Nullable: true},
	{Name: "c_uuid", Kind: coltype.UUID, Nullable: true},
	{Name: "c_json", Kind: coltype.JSON, Nullable: true},
	{Name: "c_required", Kind: coltype.String},
}

func ts(y int, mo time.Month, d, h, mi, s, us int) Timestamp {
	return Timestamp(time.Date(y, mo, d, h, mi, s, us*1000, time.UTC))
}

func tod(h, m, s, us int) TimeOfDay {
	return TimeOfDay(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(us)*time.Microsecond)
}

var (
	plus0530 = time.FixedZone("+05:30", 5*3600+1800)
	minus08  = time.FixedZone("-08:00", -8*3600)
)

// typesRows holds one value per typesColumns entry, in the same order.
var typesRows = [][]any{
	{int64(1), true, int16(12345), int32(123456789), int64(1234567890123), float32(1.5), 3.141592653589793,
		Decimal("100.00"), Decimal("1234567890123456789012345678.1234567890"),
		"hello", []byte{0x00, 0x01, 0x00, 0xff}, Date("2024-02-29"), tod(12, 34, 56, 789012),
		ts(2024, 2, 29, 12, 34, 56, 123456), time.Date(2024, 2, 29, 18, 4, 56, 123456000, plus0530),
		UUID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
		JSON(`{"a": 1, "b": [true, null, "x"]}`), "r1"},
	{int64(2), false, int16(math.MaxInt16), int32(math.MaxInt32), int64(math.MaxInt64), float32(math.MaxFloat32), 1e300,
		Decimal("9999999999.99"), Decimal("9999999999999999999999999999.9999999999"),
		"héllo wörld 世界 🚀", []byte{}, Date("1999-12-31"), tod(23, 59, 59, 999999),
		ts(1999, 12, 31, 23, 59, 59, 999999), time.Date(1999, 12, 31, 15, 59, 59, 999999000, minus08),
		UUID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		JSON(`[]`), "r2"},
	{int64(3), false, int16(math.MinInt16), int32(math.MinInt32), int64(math.MinInt64), float32(-0.25), -2.5e-300,
		Decimal("-0.01"), Decimal("-0.0000000001"),
		"", []byte("it's \"quoted\" \\ text"), Date("1969-07-20"), tod(0, 0, 0, 0),
		ts(1969, 7, 20, 20, 17, 40, 0), time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
		UUID{},
		JSON(`"just a string"`), "r3"},
	{int64(4), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, ""},
	{int64(5), true, int16(0), int32(0), int64(0), float32(0), 0.0,
		Decimal("0.00"), Decimal("100"),
		"line1\nline2\ttab", []byte("\x00"), Date("2000-01-01"), tod(0, 0, 0, 1),
		ts(2000, 1, 1, 0, 0, 0, 0), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		UUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00},
		JSON(`123.5`), "r5"},
	{int64(6), false, int16(-1), int32(-1), int64(-1), float32(-1), -1.0,
		Decimal("-1234.50"), Decimal("-1234567890123456789012345678.0000000001"),
		"it's \"quoted\" \\ text", []byte{0xde, 0xad, 0xbe, 0xef}, Date("2100-12-31"), tod(6, 0, 0, 500000),
		ts(2100, 6, 15, 8, 0, 0, 1), time.Date(2038, 1, 19, 3, 14, 7, 0, time.UTC),
		UUID{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11},
		JSON(`{"nested": {"k": "v"}, "n": -0.5}`), "r6"},
}

// cursorCase is one cursor kind for the incremental tests: four increasing
// values and their canonical watermark texts.
type cursorCase struct {
	name string
	col  coltype.Column // named "cur", nullable
	vals [4]any
	text [4]string
}

var cursorCases = []cursorCase{
	{"int64", coltype.Column{Kind: coltype.Int64}, [4]any{int64(10), int64(20), int64(30), int64(40)},
		[4]string{"10", "20", "30", "40"}},
	{"int32", coltype.Column{Kind: coltype.Int32}, [4]any{int32(-5), int32(0), int32(7), int32(math.MaxInt32)},
		[4]string{"-5", "0", "7", "2147483647"}},
	{"int16", coltype.Column{Kind: coltype.Int16}, [4]any{int16(1), int16(2), int16(3), int16(4)},
		[4]string{"1", "2", "3", "4"}},
	{"decimal", coltype.Column{Kind: coltype.Decimal, Precision: 12, Scale: 2},
		[4]any{Decimal("1.50"), Decimal("2.25"), Decimal("10.00"), Decimal("100.75")},
		[4]string{"1.50", "2.25", "10.00", "100.75"}},
	{"float64", coltype.Column{Kind: coltype.Float64}, [4]any{1.5, 2.25, 10.125, 100.5},
		[4]string{"1.5", "2.25", "10.125", "100.5"}},
	{"string", coltype.Column{Kind: coltype.String}, [4]any{"a'b", `b\c`, `c"d`, "d"},
		[4]string{"a'b", `b\c`, `c"d`, "d"}},
	{"date", coltype.Column{Kind: coltype.Date},
		[4]any{Date("2024-01-01"), Date("2024-01-02"), Date("2024-02-29"), Date("2025-01-01")},
		[4]string{"2024-01-01", "2024-01-02", "2024-02-29", "2025-01-01"}},
	{"timestamp", coltype.Column{Kind: coltype.Timestamp},
		[4]any{ts(2024, 1, 1, 0, 0, 0, 1), ts(2024, 1, 1, 0, 0, 0, 2), ts(2024, 6, 1, 12, 0, 0, 0), ts(2039, 1, 1, 0, 0, 0, 500000)},
		[4]string{"2024-01-01T00:00:00.000001", "2024-01-01T00:00:00.000002", "2024-06-01T12:00:00.000000", "2039-01-01T00:00:00.500000"}},
	{"timestamptz", coltype.Column{Kind: coltype.TimestampTZ},
		[4]any{time.Date(2024, 1, 1, 2, 0, 0, 1000, time.FixedZone("+02:00", 7200)), time.Date(2024, 1, 1, 0, 0, 0, 2000, time.UTC),
			time.Date(2024, 6, 1, 4, 0, 0, 0, minus08), time.Date(2037, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		[4]string{"2024-01-01T00:00:00.000001Z", "2024-01-01T00:00:00.000002Z", "2024-06-01T12:00:00.000000Z", "2037-12-31T23:59:59.999999Z"}},
}
