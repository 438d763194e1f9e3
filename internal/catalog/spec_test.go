package catalog

import (
	"reflect"
	"testing"
	"time"
)

// fillAll sets every field of v (a pointer to a struct) to a non-zero
// value derived from its path, recursively; Pos is left alone.
func fillAll(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		p := path + "." + sf.Name
		switch {
		case sf.Type == reflect.TypeFor[Pos]():
		case sf.Type == reflect.TypeFor[time.Duration]():
			f.SetInt(int64(len(p)) * int64(time.Second))
		case f.Kind() == reflect.String:
			f.SetString(p + " ünï \"q\" <&>")
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.CanInt():
			f.SetInt(int64(len(p)))
		case f.Kind() == reflect.Struct:
			fillAll(t, f, p)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{p, "ünï"}))
		case f.Kind() == reflect.Map && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf(map[string]string{p: "ünï", "b": "<&>"}))
		default:
			t.Fatalf("%s: field of kind %v: teach fillAll and EncodeSpec about it", p, f.Kind())
		}
	}
}

// TestSpecCoversCatalog fails when a field is added to Workflow,
// Connection, Lake or Schedule without being added to the canonical spec.
func TestSpecCoversCatalog(t *testing.T) {
	var r Resolved
	fillAll(t, reflect.ValueOf(&r).Elem(), "r")
	got, err := DecodeSpec("test", EncodeSpec(r))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("spec round trip lost fields:\ngot  %+v\nwant %+v", got, r)
	}
}

func TestEncodeSpecStable(t *testing.T) {
	r := Resolved{
		Workflow: Workflow{Name: "hr_employees", Connection: "hr", Table: "public.employees", Lake: "raw",
			Blueprint: "landing", Cursor: "updated_at", Lookback: 5 * time.Minute, Format: "parquet",
			Schedule: Schedule{Kind: Rate, Expr: "rate(15 minutes)", Every: 15 * time.Minute},
			Pos:      Pos{File: "yaml", Line: 12, Column: 5}},
		Connection: Connection{Name: "hr", Engine: "postgres", Secret: "env:HR_DSN"},
		Lake:       Lake{Name: "raw", URL: "file:///lake?a=1&b=<2>", Compression: "zstd", RowGroupRows: 262144, FileBytes: 268435456},
	}
	want := `{"workflow":{"name":"hr_employees","connection":"hr","table":"public.employees","lake":"raw","blueprint":"landing",` +
		`"cursor":"updated_at","cursor_auto":false,"lookback":"5m0s","partition_by":"","format":"parquet","file_count_hint":0,` +
		`"schedule":{"kind":"rate","expr":"rate(15 minutes)","dialect":"","every":"15m0s","timezone":""}},` +
		`"connection":{"name":"hr","engine":"postgres","secret":"env:HR_DSN"},` +
		`"lake":{"name":"raw","url":"file:///lake?a=1&b=<2>","compression":"zstd","row_group_rows":262144,"file_bytes":268435456,"secret":""}}`
	if got := string(EncodeSpec(r)); got != want {
		t.Fatalf("EncodeSpec =\n%s\nwant\n%s", got, want)
	}
	// Where the entry sits in the file is not part of the spec.
	moved := r
	moved.Workflow.Pos = Pos{File: "other.yaml", Line: 99}
	if string(EncodeSpec(moved)) != want {
		t.Error("the spec depends on Pos")
	}
	changed := r
	changed.Lake.URL = "file:///other"
	if string(EncodeSpec(changed)) == want {
		t.Error("the spec ignores the lake URL")
	}
}

func TestDecodeSpecErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"workflow":{"name":"x","retries":3}}`, `deployed workflow x: spec: json: unknown field "retries" (deployed by a newer wharf?)`},
		{`{"workflow":{"lookback":"five"}}`, `deployed workflow x: spec: workflow.lookback: time: invalid duration "five"`},
		{`{"workflow":{"schedule":{"every":"1y"}}}`, `deployed workflow x: spec: workflow.schedule.every: time: unknown unit "y" in duration "1y"`},
		{`not json`, `deployed workflow x: spec: invalid character 'o' in literal null (expecting 'u') (deployed by a newer wharf?)`},
	} {
		_, err := DecodeSpec("deployed workflow x", []byte(tc.json))
		if err == nil || err.Error() != tc.want {
			t.Errorf("DecodeSpec(%s) error = %v\nwant %s", tc.json, err, tc.want)
		}
	}
}
