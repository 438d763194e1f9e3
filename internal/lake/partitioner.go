package lake

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
)

// Partitioner assigns the rows of a run to partition directories under the
// run's prefix.
type Partitioner interface {
	// FileSchema checks the partitioner against the run's schema and returns
	// the schema of the files: the run's schema less any column whose value
	// is carried by the directory name.
	FileSchema(schema *arrow.Schema) (*arrow.Schema, error)
	// Split appends to dst, in row order, the runs of consecutive rows of rec
	// that share a partition directory. Dir is "/"-separated and relative to
	// the run's prefix ("" = the prefix itself).
	Split(rec arrow.RecordBatch, dst []Span) ([]Span, error)
}

// Span is a run of consecutive rows of one record bound for one directory.
type Span struct {
	Dir          string
	Offset, Rows int64
}

// HiveDefaultPartition is the directory value of NULL (and empty strings),
// as Hive and Spark write it.
const HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// StaticPartition puts every row of the run in dir, for example
// "ingestion_date=2026-11-25" or "year=2026/month=11". An empty dir means no
// partition directory. The files keep every column.
func StaticPartition(dir string) Partitioner { return staticPartition{dir: dir} }

type staticPartition struct{ dir string }

func (p staticPartition) FileSchema(schema *arrow.Schema) (*arrow.Schema, error) {
	if err := checkDir("static partition", p.dir); err != nil {
		return nil, err
	}
	return schema, nil
}

func (p staticPartition) Split(rec arrow.RecordBatch, dst []Span) ([]Span, error) {
	if rec.NumRows() == 0 {
		return dst, nil
	}
	return append(dst, Span{Dir: p.dir, Rows: rec.NumRows()}), nil
}

// ColumnPartition partitions rows Hive style by the value of column: each
// row goes to "column=value". Values are written canonically for their type
// and escaped like Hive (see EscapePathName); NULL and the empty string go
// to "column=__HIVE_DEFAULT_PARTITION__". As Hive, Spark and Glue expect,
// the column is left out of the files: its value is in the directory name.
//
// Canonical values: booleans true/false; integers base 10; floats Go's
// shortest round-trip form (NaN, Infinity, -Infinity); decimals plain with
// their scale ("12.50"); dates 2006-01-02; times 15:04:05[.ffffff];
// timestamps "2006-01-02 15:04:05[.ffffff]" (UTC for zoned ones, as Spark
// writes them); UUIDs in their 36-character form. Binary, JSON and nested
// columns cannot partition.
func ColumnPartition(column string) (Partitioner, error) {
	if column == "" {
		return nil, fmt.Errorf("partition column name is empty")
	}
	if !utf8.ValidString(column) {
		return nil, fmt.Errorf("partition column name %q is not valid UTF-8", column)
	}
	return &columnPartition{column: column, dirPrefix: EscapePathName(column) + "="}, nil
}

// ColumnPartitionInFiles is ColumnPartition whose files keep the column:
// Iceberg readers take a row's values from its file, and the table's
// metadata (not the directory name) records each file's partition value.
func ColumnPartitionInFiles(column string) (Partitioner, error) {
	p, err := ColumnPartition(column)
	if err != nil {
		return nil, err
	}
	p.(*columnPartition).inFiles = true
	return p, nil
}

type columnPartition struct {
	column    string
	dirPrefix string // escaped "column="
	inFiles   bool   // the files keep the column
}

func (p *columnPartition) index(schema *arrow.Schema) (int, error) {
	idx := schema.FieldIndices(p.column)
	switch len(idx) {
	case 0:
		return 0, fmt.Errorf("partition column %q is not in the schema", p.column)
	case 1:
		return idx[0], nil
	default:
		return 0, fmt.Errorf("partition column %q appears %d times in the schema", p.column, len(idx))
	}
}

func (p *columnPartition) FileSchema(schema *arrow.Schema) (*arrow.Schema, error) {
	i, err := p.index(schema)
	if err != nil {
		return nil, err
	}
	f := schema.Field(i)
	if !partitionable(f.Type) {
		return nil, fmt.Errorf("partition column %q has type %s, which cannot be a partition value", p.column, f.Type)
	}
	if p.inFiles {
		return schema, nil
	}
	if schema.NumFields() == 1 {
		return nil, fmt.Errorf("partition column %q is the only column: the files would have none", p.column)
	}
	fields := make([]arrow.Field, 0, schema.NumFields()-1)
	fields = append(fields, schema.Fields()[:i]...)
	fields = append(fields, schema.Fields()[i+1:]...)
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md), nil
}

func (p *columnPartition) Split(rec arrow.RecordBatch, dst []Span) ([]Span, error) {
	i, err := p.index(rec.Schema())
	if err != nil {
		return dst, err
	}
	col := rec.Column(i)
	same, format, err := valueFuncs(col)
	if err != nil {
		return dst, fmt.Errorf("partition column %q: %w", p.column, err)
	}
	n := col.Len()
	start := 0
	for r := 1; r <= n; r++ {
		if r < n && same(r-1, r) {
			continue
		}
		dst = append(dst, Span{Dir: p.dirPrefix + p.value(col, start, format), Offset: int64(start), Rows: int64(r - start)})
		start = r
	}
	return dst, nil
}

func (p *columnPartition) value(col arrow.Array, i int, format func(int) string) string {
	if col.IsNull(i) {
		return HiveDefaultPartition
	}
	v := format(i)
	if v == "" {
		return HiveDefaultPartition
	}
	return EscapePathName(v)
}

// partitionable reports whether valueFuncs handles t.
func partitionable(t arrow.DataType) bool {
	if _, ok := t.(*extensions.UUIDType); ok {
		return true
	}
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128,
		arrow.STRING, arrow.LARGE_STRING, arrow.DATE32, arrow.DATE64,
		arrow.TIME32, arrow.TIME64, arrow.TIMESTAMP:
		return true
	}
	return false
}

// valueFuncs returns, for one column, a cheap equality of two rows (NULLs
// equal each other only) and the canonical text of a non-NULL row. Split
// compares neighbours with same and formats once per run of equal rows.
func valueFuncs(col arrow.Array) (same func(i, j int) bool, format func(i int) string, err error) {
	nulls := func(i, j int) (decided, eq bool) {
		ni, nj := col.IsNull(i), col.IsNull(j)
		if ni || nj {
			return true, ni && nj
		}
		return false, false
	}
	eqBy := func(eq func(i, j int) bool) func(i, j int) bool {
		return func(i, j int) bool {
			if d, e := nulls(i, j); d {
				return e
			}
			return eq(i, j)
		}
	}
	switch a := col.(type) {
	case *extensions.UUIDArray:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i).String() }, nil
	case *array.Boolean:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatBool(a.Value(i)) }, nil
	case *array.Int8:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatInt(int64(a.Value(i)), 10) }, nil
	case *array.Int16:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatInt(int64(a.Value(i)), 10) }, nil
	case *array.Int32:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatInt(int64(a.Value(i)), 10) }, nil
	case *array.Int64:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatInt(a.Value(i), 10) }, nil
	case *array.Uint8:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatUint(uint64(a.Value(i)), 10) }, nil
	case *array.Uint16:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatUint(uint64(a.Value(i)), 10) }, nil
	case *array.Uint32:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatUint(uint64(a.Value(i)), 10) }, nil
	case *array.Uint64:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return strconv.FormatUint(a.Value(i), 10) }, nil
	case *array.Float32:
		return eqBy(func(i, j int) bool { return sameFloat(float64(a.Value(i)), float64(a.Value(j))) }),
			func(i int) string { return formatFloat(float64(a.Value(i)), 32) }, nil
	case *array.Float64:
		return eqBy(func(i, j int) bool { return sameFloat(a.Value(i), a.Value(j)) }),
			func(i int) string { return formatFloat(a.Value(i), 64) }, nil
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i).ToString(scale) }, nil
	case *array.String:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i) }, nil
	case *array.LargeString:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i) }, nil
	case *array.Date32:
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i).ToTime().Format(time.DateOnly) }, nil
	case *array.Date64:
		return eqBy(func(i, j int) bool {
				return a.Value(i).ToTime().Format(time.DateOnly) == a.Value(j).ToTime().Format(time.DateOnly)
			}),
			func(i int) string { return a.Value(i).ToTime().Format(time.DateOnly) }, nil
	case *array.Time32:
		unit := a.DataType().(*arrow.Time32Type).Unit
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i).ToTime(unit).Format("15:04:05.999999999") }, nil
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i).ToTime(unit).Format("15:04:05.999999999") }, nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return eqBy(func(i, j int) bool { return a.Value(i) == a.Value(j) }),
			func(i int) string { return a.Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05.999999999") }, nil
	}
	return nil, nil, fmt.Errorf("type %s cannot be a partition value", col.DataType())
}

// sameFloat is equality where NaN equals NaN (they share a directory).
func sameFloat(x, y float64) bool {
	return x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y)
}

func formatFloat(v float64, bits int) string {
	switch {
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, bits)
}

// EscapePathName escapes s for use in a Hive-style partition directory name,
// exactly as Hive's and Spark's escapePathName do on Unix: control
// characters, DEL and " # % ' * / : = ? \ { [ ] ^ become %XX (upper-case
// hex); everything else, spaces and non-ASCII letters included, is kept.
// Bytes that are not valid UTF-8 are escaped as %XX too, since object keys
// must be UTF-8.
func EscapePathName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			fmt.Fprintf(&b, "%%%02X", s[i])
			i++
			continue
		}
		if r < 0x80 && needsEscape[r] {
			fmt.Fprintf(&b, "%%%02X", r)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// UnescapePathName reverses EscapePathName.
func UnescapePathName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var needsEscape = func() (t [128]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for _, c := range "\"#%'*/:=?\\\x7f{[]^" {
		t[c] = true
	}
	return t
}()
