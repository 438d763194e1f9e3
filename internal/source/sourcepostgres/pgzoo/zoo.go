// Package pgzoo is PostgreSQL's type zoo for tests: one column per type
// wharf lands, with NULLs and extremes, and for each the SQL that makes
// PostgreSQL itself say what must land. The source conformance suite and the
// end-to-end DuckDB read-back both use it.
package pgzoo

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/source/sourcetest"
)

// Rows is the number of rows of the zoo table: 1 typical values, 2 extremes,
// 3 NULL, 4 negative/empty values, 5 non-ASCII and 100 kB values.
const Rows = 5

// big is a 100 kB text value.
var big = "repeat('x', 100000)"

const (
	asJSON = "to_jsonb(%s)::text"
	// asText is the value's output (format's %s calls the type's output
	// function; a cast to text may differ, e.g. inet's adds the netmask).
	asText = "(CASE WHEN num_nulls(%[1]s) = 0 THEN to_jsonb(format('%%s', %[1]s)) END)::text"
)

// intervalJSON asks PostgreSQL for an interval's months, days and
// microseconds (extract returns exact numerics since PostgreSQL 14).
const intervalJSON = `CASE WHEN %[1]s IS NULL THEN NULL ELSE json_build_object(
 'months', extract(year from %[1]s) * 12 + extract(month from %[1]s),
 'days', extract(day from %[1]s),
 'microseconds', extract(hour from %[1]s) * 3600000000 + extract(minute from %[1]s) * 60000000 + extract(microseconds from %[1]s))::text END`

// Setup creates the zoo's types in the current schema. hstore is created by
// Prepare, in schema public.
var Setup = []string{
	"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
	"CREATE DOMAIN intlist AS integer[]",
	"CREATE DOMAIN ipaddr AS inet",
	"CREATE TYPE pair AS (a integer, b text, c numeric(5,2)[])",
	"CREATE TYPE netpair AS (a integer, ip inet)",
	"CREATE TYPE nested AS (p pair, iv interval, m money)",
}

// Columns are the zoo's columns; every row of docs/types.md's PostgreSQL
// table has at least one.
var Columns = []sourcetest.ZooColumn{
	// Arrays: declared dimensions, NULL elements, '{}', lower bounds.
	{Name: "ia", DDL: "integer[]", Lands: "list<int32>", Expect: asJSON,
		Values: []string{"'{1,NULL,3}'", "'{2147483647,-2147483648}'", "", "'{}'", "'[0:1]={7,8}'"}},
	{Name: "iaa", DDL: "integer[][]", Lands: "list<list<int32>>", Expect: asJSON,
		Values: []string{"'{{1,2},{3,NULL}}'", "'{{1},{2}}'", "", "'{}'", "'{{5,6,7}}'"}},
	{Name: "ba", DDL: "bigint[]", Lands: "list<int64>", Expect: asJSON,
		Values: []string{"'{1}'", "'{9223372036854775807,-9223372036854775808}'", "", "'{}'", "'{NULL}'"}},
	{Name: "ta", DDL: "text[]", Lands: "list<string>", Expect: asJSON,
		Values: []string{`'{"a","b c",NULL}'`, `'{""}'`, "", "'{}'", "ARRAY['héllo 世界 🚀', " + big + "]"}},
	{Name: "na", DDL: "numeric(10,2)[]", Lands: "list<decimal(10,2)>", Expect: asJSON,
		Values: []string{"'{1.50,-2}'", "'{99999999.99,-99999999.99}'", "", "'{}'", "'{0}'"}},
	{Name: "nua", DDL: "numeric[]", Lands: "list<decimal(38,9)>", Expect: asJSON,
		Values: []string{"'{1.5}'", "'{99999999999999999999999999999.999999999}'", "", "'{-0.000000001}'", "'{0}'"}},
	{Name: "da", DDL: "date[]", Lands: "list<date>", Expect: asJSON,
		Values: []string{"'{2024-02-29,NULL}'", "'{0001-01-01,9999-12-31}'", "", "'{}'", "'{2000-01-01}'"}},
	{Name: "tsa", DDL: "timestamptz[]", Lands: "list<timestamptz>", Expect: asJSON,
		Values: []string{"'{2024-02-29 12:34:56.123456+05:30}'", "'{0001-01-01 00:00:00Z,9999-12-31 23:59:59.999999Z}'", "", "'{}'", "'{1969-07-20 20:17:40Z}'"}},
	{Name: "ua", DDL: "uuid[]", Lands: "list<uuid>", Expect: asJSON,
		Values: []string{"'{00112233-4455-6677-8899-aabbccddeeff}'", "'{ffffffff-ffff-ffff-ffff-ffffffffffff,00000000-0000-0000-0000-000000000000}'", "", "'{}'", "'{NULL}'"}},
	{Name: "boola", DDL: "boolean[]", Lands: "list<bool>", Expect: asJSON,
		Values: []string{"'{true,false,NULL}'", "'{true}'", "", "'{}'", "'{false}'"}},
	{Name: "ja", DDL: "jsonb[]", Lands: "list<json>", Expect: asJSON,
		Values: []string{`ARRAY['{"a": [1, 2]}'::jsonb, 'null'::jsonb]`, `ARRAY['"é"'::jsonb]`, "", "'{}'", "ARRAY['[]'::jsonb]"}},
	{Name: "moods", DDL: "mood[]", Lands: "list<string>", Expect: asJSON,
		Values: []string{"'{sad,happy}'", "'{ok}'", "", "'{}'", "'{NULL}'"}},
	{Name: "ineta", DDL: "inet[]", Lands: "list<string>", Expect: "to_jsonb(%s::text[])::text",
		Values: []string{"'{10.0.0.1/8,::1}'", "'{255.255.255.255}'", "", "'{}'", "'{NULL}'"}},
	{Name: "pairs", DDL: "pair[]", Lands: "list<struct<a: int32, b: string, c: list<decimal(5,2)>>>", Expect: asJSON,
		Values: []string{"ARRAY[ROW(1, 'x', '{1.5}')::pair]", "ARRAY[ROW(NULL, NULL, NULL)::pair, NULL]", "", "'{}'", "ARRAY[ROW(2, 'é', '{}')::pair]"}},
	{Name: "il", DDL: "intlist", Lands: "list<int32>", Expect: asJSON,
		Values: []string{"'{1,2}'", "'{-2147483648}'", "", "'{}'", "'{NULL}'"}},

	// interval, money, composites, hstore.
	{Name: "iv", DDL: "interval", Lands: "struct<months: int32, days: int32, microseconds: int64>", Expect: intervalJSON,
		Values: []string{"'1 year 2 mons 3 days 04:05:06.789'", "'178000000 years 2147483647 days 2562047788:00:54.775807'", "",
			"'-1 mons -2 days -00:00:00.000001'", "'0'"}},
	{Name: "m", DDL: "money", Lands: "decimal(19,2)", Expect: "to_jsonb(%s::numeric)::text",
		Values: []string{"'12.34'", "'92233720368547758.07'", "", "'-92233720368547758.08'", "'0'"}},
	{Name: "p", DDL: "pair", Lands: "struct<a: int32, b: string, c: list<decimal(5,2)>>", Expect: asJSON,
		Values: []string{"ROW(1, 'x', '{1.5,NULL}')", "ROW(2147483647, " + big + ", '{999.99}')", "", "ROW(NULL, NULL, NULL)", "ROW(-1, '世界', '{}')"}},
	{Name: "np", DDL: "nested", Lands: "struct<p: struct<a: int32, b: string, c: list<decimal(5,2)>>, iv: struct<months: int32, days: int32, microseconds: int64>, m: decimal(19,2)>",
		Expect: "CASE WHEN to_jsonb(%[1]s) IS NULL THEN NULL ELSE jsonb_build_object('p', to_jsonb((%[1]s).p), 'iv', (" + strings.ReplaceAll(intervalJSON, "%[1]s", "(%[1]s).iv") + ")::jsonb, 'm', (%[1]s).m::numeric)::text END",
		Values: []string{"ROW(ROW(1, 'x', '{}'), '1 day', '1.00')", "ROW(NULL, '-1 mons', '-0.01')", "", "ROW(NULL, NULL, NULL)", "ROW(ROW(NULL, 'é', NULL), '00:00:01', NULL)"}},
	{Name: "netp", DDL: "netpair", Lands: "string", Expect: asText,
		Values: []string{"ROW(1, '10.0.0.1')", "ROW(NULL, NULL)", "", "ROW(-1, '::1')", "ROW(2, '192.168.0.0/16')"}},
	{Name: "hs", DDL: "public.hstore", Lands: "map<string, string>", Expect: "public.hstore_to_json(%s)::text",
		Values: []string{`'"a"=>"1", "b"=>NULL'`, `'""=>""'`, "", "''", `'"é"=>"世界"'`}},

	// Types landed in PostgreSQL's own text form.
	{Name: "ttz", DDL: "timetz", Lands: "string", Expect: asText,
		Values: []string{"'23:59:59.999999-14:59'", "'00:00:00+15:59'", "", "'12:00:00+05:30'", "'24:00:00-01'"}},
	{Name: "ip", DDL: "inet", Lands: "string", Expect: asText,
		Values: []string{"'192.168.0.1/24'", "'2001:db8::ff00:42:8329/128'", "", "'0.0.0.0'", "'::1'"}},
	{Name: "net", DDL: "cidr", Lands: "string", Expect: asText,
		Values: []string{"'10.0.0.0/8'", "'::/0'", "", "'192.168.100.128/25'", "'2001:db8::/32'"}},
	{Name: "mac", DDL: "macaddr", Lands: "string", Expect: asText,
		Values: []string{"'08:00:2b:01:02:03'", "'ff:ff:ff:ff:ff:ff'", "", "'00:00:00:00:00:00'", "'0800.2b01.0203'"}},
	{Name: "mac8", DDL: "macaddr8", Lands: "string", Expect: asText,
		Values: []string{"'08:00:2b:01:02:03:04:05'", "'ff:ff:ff:ff:ff:ff:ff:ff'", "", "'00:00:00:00:00:00:00:00'", "'08:00:2b:01:02:03'"}},
	{Name: "b3", DDL: "bit(3)", Lands: "string", Expect: asText,
		Values: []string{"B'101'", "B'111'", "", "B'000'", "B'010'"}},
	{Name: "vb", DDL: "varbit", Lands: "string", Expect: asText,
		Values: []string{"B'1'", "B'" + strings.Repeat("10", 500) + "'", "", "B''", "B'0'"}},
	{Name: "x", DDL: "xml", Lands: "string", Expect: asText,
		Values: []string{"'<a>1</a>'", "('<big>' || " + big + " || '</big>')::xml", "", "''", "'<é lang=\"世界\"/>'"}},
	{Name: "tsv", DDL: "tsvector", Lands: "string", Expect: asText,
		Values: []string{"'a fat cat'", "to_tsvector('simple', 'The quick brown fox')", "", "''", "'héllo:1A 世界:2'"}},
	{Name: "tsq", DDL: "tsquery", Lands: "string", Expect: asText,
		Values: []string{"'fat & rat'", "'!a | (b <-> c)'", "", "''", "'é:*'"}},
	{Name: "r", DDL: "int4range", Lands: "string", Expect: asText,
		Values: []string{"'[1,10)'", "'(,)'", "", "'empty'", "'[-2147483648,2147483647)'"}},
	{Name: "tsr", DDL: "tstzrange", Lands: "string", Expect: asText,
		Values: []string{"'[2024-01-01 00:00:00Z,2024-02-01 00:00:00Z)'", "'[-infinity,infinity]'", "", "'empty'", "'(,2000-01-01 00:00:00Z]'"}},
	{Name: "mr", DDL: "int4multirange", Lands: "string", Expect: asText,
		Values: []string{"'{[1,3), [5,7)}'", "'{(,)}'", "", "'{}'", "'{[1,2]}'"}},
	{Name: "pt", DDL: "point", Lands: "string", Expect: asText,
		Values: []string{"'(1.5,-2.25)'", "'(1e300,-1e-300)'", "", "'(0,0)'", "'(NaN,Infinity)'"}},
	{Name: "ln", DDL: "line", Lands: "string", Expect: asText,
		Values: []string{"'{1,-1,0}'", "'{1e300,1,-1e-300}'", "", "'{0,1,0}'", "'{1.5,2.5,3.5}'"}},
	{Name: "ls", DDL: "lseg", Lands: "string", Expect: asText,
		Values: []string{"'[(0,0),(1,1)]'", "'[(1e300,1),(2,2)]'", "", "'[(-1,-1),(0,0)]'", "'[(0.1,0.2),(0.3,0.4)]'"}},
	{Name: "bx", DDL: "box", Lands: "string", Expect: asText,
		Values: []string{"'(1,1),(0,0)'", "'(1e300,1e300),(-1e300,-1e300)'", "", "'(0,0),(0,0)'", "'(2.5,3.5),(1.5,0.5)'"}},
	{Name: "pa", DDL: "path", Lands: "string", Expect: asText,
		Values: []string{"'[(0,0),(1,1),(2,0)]'", "'((0,0),(1,1))'", "", "'[(0,0)]'", "'[(0.5,0.25),(1,1)]'"}},
	{Name: "pg", DDL: "polygon", Lands: "string", Expect: asText,
		Values: []string{"'((0,0),(1,1),(2,0))'", "'((1e300,0),(0,1e300),(0,0))'", "", "'((0,0))'", "'((0.5,0.5),(1,1),(1,0))'"}},
	{Name: "ci", DDL: "circle", Lands: "string", Expect: asText,
		Values: []string{"'<(0,0),1>'", "'<(1e300,-1e300),1e300>'", "", "'<(-1,-1),0>'", "'<(0.5,0.5),0.25>'"}},
	{Name: "lsn", DDL: "pg_lsn", Lands: "string", Expect: asText,
		Values: []string{"'16/B374D848'", "'FFFFFFFF/FFFFFFFF'", "", "'0/0'", "'1/1'"}},
	{Name: "o", DDL: "oid", Lands: "string", Expect: asText,
		Values: []string{"1", "4294967295", "", "0", "42"}},
	{Name: "rt", DDL: "regtype", Lands: "string", Expect: asText,
		Values: []string{"'integer'", "'timestamp with time zone'", "", "'-'", "'text[]'"}},
	{Name: "ch", DDL: `"char"`, Lands: "string", Expect: asText,
		Values: []string{"'a'", "'z'", "", "''", "'1'"}},
	{Name: "wide", DDL: "numeric(40,2)", Lands: "string", Expect: asText,
		Values: []string{"'12345678901234567890123456789012345678.12'", "'-99999999999999999999999999999999999999.99'", "", "'0'", "'1.5'"}},

	// enums and domains over text-form types.
	{Name: "md", DDL: "mood", Lands: "string", Expect: asText,
		Values: []string{"'sad'", "'happy'", "", "'ok'", "'ok'"}},
	{Name: "ipd", DDL: "ipaddr", Lands: "string", Expect: asText,
		Values: []string{"'10.1.2.3'", "'::ffff:1.2.3.4'", "", "'0.0.0.0/0'", "'fe80::1'"}},

	// Non-ASCII and long text, extremes of the base types.
	{Name: "t", DDL: "text", Lands: "string", Expect: asJSON,
		Values: []string{"'hello'", big, "", "''", "'héllo wörld 世界 🚀'"}},
	{Name: "ts", DDL: "timestamp", Lands: "timestamp", Expect: asJSON,
		Values: []string{"'2024-02-29 12:34:56.123456'", "'9999-12-31 23:59:59.999999'", "", "'0001-01-01 00:00:00'", "'1969-12-31 23:59:59.999999'"}},
	{Name: "f8", DDL: "double precision", Lands: "float64", Expect: asJSON,
		Values: []string{"1.5", "1.7976931348623157e308", "", "-5e-324", "0"}},
}

// Prepare installs hstore into schema public if it is missing. Several
// tests may race: an advisory lock serialises them.
func Prepare(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7007)"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7007)") //nolint:errcheck
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public"); err != nil {
		return fmt.Errorf("install hstore: %w", err)
	}
	return nil
}

// QueryJSON runs sql on conn and returns its one text column, row by row.
func QueryJSON(ctx context.Context, conn *pgx.Conn, sql string) ([]*string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[*string])
}

// Create makes the zoo's types and a table named table (an "id" bigint key
// and every zoo column) with its Rows rows, in the connection's current
// schema. Prepare must have run.
func Create(ctx context.Context, conn *pgx.Conn, table string) error {
	for _, s := range Setup {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	defs := []string{"id bigint PRIMARY KEY"}
	for _, c := range Columns {
		defs = append(defs, pgx.Identifier{c.Name}.Sanitize()+" "+c.DDL)
	}
	ident := pgx.Identifier{table}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE TABLE "+ident+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return err
	}
	for r := range Rows {
		names, vals := []string{"id"}, []string{fmt.Sprint(r + 1)}
		for _, c := range Columns {
			if c.Values[r] != "" {
				names = append(names, pgx.Identifier{c.Name}.Sanitize())
				vals = append(vals, c.Values[r])
			}
		}
		sql := "INSERT INTO " + ident + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("row %d: %w", r+1, err)
		}
	}
	return nil
}
