package sourcemysql

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/source"
)

// typeCase is one MySQL column type: its DDL, a value as an SQL literal,
// the kind it lands as, and the landed value as parquettest.Value renders it.
type typeCase struct {
	name, ddl, literal string
	kind               coltype.Kind
	prec, scale        int
	want               any
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var mysqlTypes = []typeCase{
	{"ti", "tinyint", "-128", coltype.Int16, 0, 0, int64(-128)},
	{"tiu", "tinyint unsigned", "255", coltype.Int16, 0, 0, int64(255)},
	{"si", "smallint", "-32768", coltype.Int16, 0, 0, int64(-32768)},
	{"siu", "smallint unsigned", "65535", coltype.Int32, 0, 0, int64(65535)},
	{"mi", "mediumint", "-8388608", coltype.Int32, 0, 0, int64(-8388608)},
	{"miu", "mediumint unsigned", "16777215", coltype.Int32, 0, 0, int64(16777215)},
	{"i", "int", "-2147483648", coltype.Int32, 0, 0, int64(math.MinInt32)},
	{"iu", "int unsigned", "4294967295", coltype.Int64, 0, 0, int64(math.MaxUint32)},
	{"bi", "bigint", "-9223372036854775808", coltype.Int64, 0, 0, int64(math.MinInt64)},
	{"biu", "bigint unsigned", "18446744073709551615", coltype.Decimal, 20, 0, "18446744073709551615"},
	{"b1", "tinyint(1)", "1", coltype.Bool, 0, 0, true},
	{"bo", "boolean", "0", coltype.Bool, 0, 0, false},
	{"d", "decimal(12,2)", "-1234567890.12", coltype.Decimal, 12, 2, "-1234567890.12"},
	{"d18", "decimal(18,18)", "0.000000000000000001", coltype.Decimal, 18, 18, "0.000000000000000001"},
	{"d38", "decimal(38,10)", "9999999999999999999999999999.9999999999", coltype.Decimal, 38, 10, "9999999999999999999999999999.9999999999"},
	{"d65", "decimal(65,30)", "-12345678901234567890123456789012345.123456789012345678901234567890", coltype.String, 0, 0,
		"-12345678901234567890123456789012345.123456789012345678901234567890"},
	{"du", "decimal(5,2) unsigned", "999.99", coltype.Decimal, 5, 2, "999.99"},
	{"f", "float", "16777216", coltype.Float32, 0, 0, float64(16777216)},
	{"f01", "float", "0.1", coltype.Float32, 0, 0, float64(float32(0.1))},
	{"db", "double", "1.7976931348623157e308", coltype.Float64, 0, 0, math.MaxFloat64},
	{"db2", "double", "-2.5e-300", coltype.Float64, 0, 0, -2.5e-300},
	{"bit1", "bit(1)", "b'1'", coltype.Bool, 0, 0, true},
	{"bit10", "bit(10)", "b'1010101010'", coltype.Int64, 0, 0, int64(682)},
	{"bit64", "bit(64)", "b'1111111111111111111111111111111111111111111111111111111111111111'", coltype.Decimal, 20, 0, "18446744073709551615"},
	{"ch", "char(5)", "'ab'", coltype.String, 0, 0, "ab"},
	{"vc", "varchar(20)", "'héllo 世界 🚀'", coltype.String, 0, 0, "héllo 世界 🚀"},
	{"latin", "varchar(20) character set latin1", "'café, naïve'", coltype.String, 0, 0, "café, naïve"},
	{"cp", "varchar(20) character set cp1251", "'Привет'", coltype.String, 0, 0, "Привет"},
	{"tt", "tinytext", "'tiny'", coltype.String, 0, 0, "tiny"},
	{"tx", "text", "'it''s \"quoted\" \\\\ text'", coltype.String, 0, 0, `it's "quoted" \ text`},
	{"mt", "mediumtext", "'medium'", coltype.String, 0, 0, "medium"},
	{"lt", "longtext", "''", coltype.String, 0, 0, ""},
	{"bin", "binary(4)", "x'0001'", coltype.Bytes, 0, 0, unhex("00010000")},
	{"vb", "varbinary(10)", "x'00ff00'", coltype.Bytes, 0, 0, unhex("00ff00")},
	{"tb", "tinyblob", "x''", coltype.Bytes, 0, 0, []byte(nil)}, // empty, not NULL
	{"bl", "blob", "x'deadbeef'", coltype.Bytes, 0, 0, unhex("deadbeef")},
	{"mb", "mediumblob", "x'00'", coltype.Bytes, 0, 0, unhex("00")},
	{"lb", "longblob", "x'ff'", coltype.Bytes, 0, 0, unhex("ff")},
	{"en", "enum('small','large')", "'large'", coltype.String, 0, 0, "large"},
	{"st", "set('x','y','z')", "'z,x'", coltype.String, 0, 0, "x,z"},
	{"js", "json", `'{"a": [1, 2.5, null], "b": "é"}'`, coltype.JSON, 0, 0, `{"a": [1, 2.5, null], "b": "é"}`},
	{"dt", "date", "'1000-01-01'", coltype.Date, 0, 0, "1000-01-01"},
	{"dt2", "date", "'9999-12-31'", coltype.Date, 0, 0, "9999-12-31"},
	{"dtm0", "datetime", "'2024-02-29 23:59:59'", coltype.Timestamp, 0, 0, time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)},
	{"dtm3", "datetime(3)", "'1000-01-01 00:00:00.123'", coltype.Timestamp, 0, 0, time.Date(1000, 1, 1, 0, 0, 0, 123000000, time.UTC)},
	{"dtm6", "datetime(6)", "'9999-12-31 23:59:59.999999'", coltype.Timestamp, 0, 0, time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
	// Inserted by a session at +05:30: the instant is 2038-01-19 03:14:07 UTC.
	{"ts", "timestamp(6) NULL", "'2038-01-19 08:44:07.5'", coltype.TimestampTZ, 0, 0, time.Date(2038, 1, 19, 3, 14, 7, 500000000, time.UTC)},
	{"ts0", "timestamp NULL", "'1970-01-01 05:30:01'", coltype.TimestampTZ, 0, 0, time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)},
	{"tm", "time(6)", "'23:59:59.999999'", coltype.Time, 0, 0, "23:59:59.999999"},
	{"tm0", "time", "'00:00:00'", coltype.Time, 0, 0, "00:00:00.000000"},
	{"yr", "year", "2155", coltype.Int16, 0, 0, int64(2155)},
	{"geo", "geometry", "ST_GeomFromText('POINT(1 2)')", coltype.Bytes, 0, 0, unhex("0101000000000000000000f03f0000000000000040")},
	{"pt", "point", "ST_GeomFromText('POINT(-1.5 0)')", coltype.Bytes, 0, 0, unhex("0101000000000000000000f8bf0000000000000000")},
}

// mariadbTypes are MariaDB's own types (10.7+ uuid, 10.10+ inet4/inet6).
var mariadbTypes = []typeCase{
	{"uu", "uuid", "'123e4567-e89b-12d3-a456-426614174000'", coltype.UUID, 0, 0, "123e4567-e89b-12d3-a456-426614174000"},
	{"ip4", "inet4", "'192.0.2.1'", coltype.String, 0, 0, "192.0.2.1"},
	{"ip6", "inet6", "'2001:db8::1'", coltype.String, 0, 0, "2001:db8::1"},
}

// TestTypes lands one row of every MySQL type and one row of NULLs, and
// checks each column's kind and value.
func TestTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, db := openTest(t)
	cases := mysqlTypes
	if src.mariadb {
		cases = append(append([]typeCase{}, mysqlTypes...), mariadbTypes...)
	}
	defs := []string{"id int NOT NULL PRIMARY KEY"}
	names := []string{"id"}
	vals := []string{"1"}
	for _, c := range cases {
		defs = append(defs, quoteIdent(c.name)+" "+c.ddl)
		names = append(names, quoteIdent(c.name))
		vals = append(vals, c.literal)
	}
	exec(t, db, "CREATE TABLE zoo ("+strings.Join(defs, ", ")+") CHARACTER SET utf8mb4")
	conn, err := db.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"SET time_zone = '+05:30'",
		"INSERT INTO zoo (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")",
		"INSERT INTO zoo (id) VALUES (2)"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	tbl, err := src.Describe(ctx, source.TableRef{Name: "zoo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Columns) != len(cases)+1 {
		t.Fatalf("described %d columns, want %d", len(tbl.Columns), len(cases)+1)
	}
	for i, c := range cases {
		got := tbl.Columns[i+1]
		if got.Name != c.name || got.Kind != c.kind || got.Precision != c.prec || got.Scale != c.scale || !got.Nullable {
			t.Errorf("%s %s: described as %+v, want %v(%d,%d) nullable", c.name, c.ddl, got, c.kind, c.prec, c.scale)
		}
	}
	rows := extractAll(t, src, source.Request{Table: tbl})
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	for i, c := range cases {
		if got := rows[0][i+1]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s = %#v, want %#v", c.name, c.ddl, got, c.want)
		}
		if got := rows[1][i+1]; got != nil {
			t.Errorf("%s %s NULL = %#v, want nil", c.name, c.ddl, got)
		}
	}
}

// extractAll extracts and returns every row as parquettest.Value renders it.
func extractAll(t *testing.T, src *Source, req source.Request) [][]any {
	t.Helper()
	var rows [][]any
	_, err := src.Extract(context.Background(), req, func(rec arrow.RecordBatch) error {
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = parquettest.Value(rec.Column(c), r)
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return rows
}

func exec(t *testing.T, db *myDB, q string) {
	t.Helper()
	if _, err := db.db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestValuePolicies: values with no faithful landed form fail the run with
// a message naming table, column, row and value.
func TestValuePolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, db := openTest(t)
	exec(t, db, "SET SESSION sql_mode = ''")
	for _, tc := range []struct {
		name, ddl, literal, want string
	}{
		{"zero_date", "date", "'0000-00-00'", `"0000-00-00" is a MySQL zero date`},
		{"zero_in_date", "date", "'2024-00-10'", `"2024-00-10" is a MySQL zero date`},
		{"zero_datetime", "datetime", "'0000-00-00 00:00:00'", `"0000-00-00 00:00:00" is a MySQL zero date`},
		{"zero_timestamp", "timestamp NULL", "'0000-00-00 00:00:00'", `"0000-00-00 00:00:00" is a MySQL zero date`},
		{"negative_time", "time", "'-01:00:00'", `time "-01:00:00" is not a time of day`},
		{"long_time", "time", "'838:59:59'", `time "838:59:59" is not a time of day`},
		{"bool_two", "tinyint(1)", "2", "value 2: a tinyint(1) column lands as bool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := db.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, q := range []string{"SET SESSION sql_mode = ''",
				fmt.Sprintf("CREATE TABLE %s (id int, v %s)", tc.name, tc.ddl),
				fmt.Sprintf("INSERT INTO %s VALUES (1, NULL), (2, %s)", tc.name, tc.literal)} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			tbl, err := src.Describe(ctx, source.TableRef{Name: tc.name})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Extract(ctx, source.Request{Table: tbl}, func(arrow.RecordBatch) error { return nil })
			wantPrefix := fmt.Sprintf(`extract table %s.%s column "v" (%s), row 2 of the window: `, db.name, tc.name, strings.TrimSuffix(tbl.Columns[1].SourceType, ""))
			if err == nil || !strings.HasPrefix(err.Error(), wantPrefix) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %s...%s", err, wantPrefix, tc.want)
			}
		})
	}
}

// TestUnsupportedType: a type wharf has no mapping for (say MariaDB
// 11.7's vector) fails naming the column and type.
func TestUnsupportedType(t *testing.T) {
	_, uerr := mapColumn(rawColumn{name: "v", dataType: "vector", columnType: "vector(3)"}, false)
	if uerr == nil || uerr.Error() != `table  column "v": type vector(3) is not supported` {
		t.Errorf("unsupported type: %v", uerr)
	}
}
