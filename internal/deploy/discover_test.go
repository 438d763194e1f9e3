package deploy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

func TestGuessCursor(t *testing.T) {
	col := func(name string, k coltype.Kind) coltype.Column { return coltype.Column{Name: name, Kind: k} }
	for _, tc := range []struct {
		cols []coltype.Column
		want string
	}{
		{[]coltype.Column{col("id", coltype.Int64), col("updated_at", coltype.TimestampTZ)}, "updated_at"},
		{[]coltype.Column{col("UpdatedAt", coltype.Timestamp)}, "UpdatedAt"},
		{[]coltype.Column{col("LAST_MODIFIED", coltype.Int64)}, "LAST_MODIFIED"},
		// Most likely name first, whatever the column order.
		{[]coltype.Column{col("modified", coltype.Timestamp), col("modified_at", coltype.Timestamp)}, "modified_at"},
		// Only timestamps and integers.
		{[]coltype.Column{col("updated", coltype.String), col("changed_at", coltype.Int32)}, "changed_at"},
		{[]coltype.Column{col("updated_at", coltype.Date), col("updated_at_text", coltype.String)}, ""},
		{[]coltype.Column{col("updated_at", coltype.Float64)}, ""},
		{[]coltype.Column{col("created_at", coltype.Timestamp), col("id", coltype.Int64)}, ""},
		{nil, ""},
	} {
		if got := GuessCursor(tc.cols); got != tc.want {
			t.Errorf("GuessCursor(%v) = %q, want %q", tc.cols, got, tc.want)
		}
	}
}

// fakeSource serves fixed tables.
type fakeSource struct {
	tables map[string][]coltype.Column // nil columns: unsupported
	order  []string
}

func (f *fakeSource) Tables(_ context.Context, schema string) ([]source.TableRef, error) {
	if schema != "" && schema != "public" {
		return nil, fmt.Errorf("schema %q: %w", schema, source.ErrNotFound)
	}
	var out []source.TableRef
	for _, n := range f.order {
		out = append(out, source.TableRef{Schema: "public", Name: n})
	}
	return out, nil
}

func (f *fakeSource) Describe(_ context.Context, ref source.TableRef) (*source.Table, error) {
	cols := f.tables[ref.Name]
	if ref.Name == "denied" {
		return nil, fmt.Errorf("table %s: permission denied", ref)
	}
	if cols == nil {
		return nil, &coltype.UnsupportedError{Table: ref.String(), Column: "shape", SourceType: "geometry"}
	}
	return &source.Table{Ref: ref, Columns: cols}, nil
}

func TestDiscover(t *testing.T) {
	cat := parse(t, `
connections:
  hr: {engine: postgres, secret: env:HR}
  other: {engine: postgres, secret: env:O}
lakes: {raw: {url: "file:///lake"}}
workflows:
  - {name: hr_regions, connection: hr, table: public.regions}
  - {name: hr_countries, connection: other, table: x}
`)
	ts := coltype.Column{Name: "updated_at", Kind: coltype.TimestampTZ}
	src := &fakeSource{
		order: []string{"Order Lines", "countries", "denied", "maps", "regions", "yes"},
		tables: map[string][]coltype.Column{
			"Order Lines": {{Name: "id", Kind: coltype.Int64}, {Name: "LastModified", Kind: coltype.Int64}},
			"countries":   {ts},
			"regions":     {ts},
			"yes":         {{Name: "id", Kind: coltype.Int64}},
		},
	}
	for _, tc := range []struct{ schema, want string }{
		{"", `# wharf discover: 6 table(s) in the default schema of connection hr
workflows:
  - name: hr_Order_Lines
    connection: hr
    table: "Order Lines"
    cursor: LastModified  # guessed
  - name: hr_countries_2
    connection: hr
    table: countries
    cursor: updated_at  # guessed
  # denied cannot land as is: table public.denied: permission denied
  # - name: hr_denied
  #   connection: hr
  #   table: denied
  # maps cannot land as is: table public.maps column "shape": type geometry is not supported
  # - name: hr_maps
  #   connection: hr
  #   table: maps
  # regions: already landed by workflow hr_regions
  - name: hr_yes
    connection: hr
    table: "yes"
    cursor: ""  # no cursor column found: every run is a full load
`},
		{"public", `# wharf discover: 6 table(s) in schema public of connection hr
workflows:
  - name: hr_Order_Lines
    connection: hr
    table: "public.Order Lines"
    cursor: LastModified  # guessed
`},
	} {
		entries, err := Discover(t.Context(), cat, "hr", tc.schema, src)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := WriteEntries(&b, "hr", "", tc.schema, entries); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), tc.want) {
			t.Errorf("discover %q =\n%s\nwant (prefix)\n%s", tc.schema, b.String(), tc.want)
		}
	}
	// What discover prints is a catalog: appended to the connections and
	// lakes, it loads, with the guessed cursors.
	entries, _ := Discover(t.Context(), cat, "hr", "", src)
	var b strings.Builder
	_ = WriteEntries(&b, "hr", "", "", entries)
	round := parse(t, "connections: {hr: {engine: postgres, secret: env:HR}}\nlakes: {raw: {url: \"file:///lake\"}}\n"+b.String())
	if len(round.Workflows) != 3 || round.Workflows[0].Table != "Order Lines" || round.Workflows[0].Cursor != "LastModified" ||
		round.Workflows[2].Name != "hr_yes" || round.Workflows[2].Cursor != "" {
		t.Errorf("discovered catalog: %+v", round.Workflows)
	}
	// In a catalog of several lakes (no defaults.lake) every entry names one.
	b.Reset()
	_ = WriteEntries(&b, "hr", "cold", "", entries)
	two := parse(t, "connections: {hr: {engine: postgres, secret: env:HR}}\nlakes: {raw: {url: \"file:///lake\"}, cold: {url: \"file:///cold\"}}\n"+b.String())
	if len(two.Workflows) != 3 || two.Workflows[0].Lake != "cold" || two.Workflows[2].Lake != "cold" {
		t.Errorf("discovered entries with a lake: %+v\n%s", two.Workflows, b.String())
	}
	// Tables a pattern of the connection matches are landed already.
	withPattern := parse(t, `
connections: {hr: {engine: postgres, secret: env:HR}}
lakes: {raw: {url: "file:///lake"}}
workflows:
  - {name: hr, table: "public.*", exclude: ["yes"]}
  - {name: other, table: "c*"}
`)
	entries, err := Discover(t.Context(), withPattern, "hr", "", src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Table+"="+e.LandedBy)
	}
	if want := "Order Lines=table pattern hr,countries=table pattern hr,denied=table pattern hr,maps=table pattern hr,regions=table pattern hr,yes="; strings.Join(got, ",") != want {
		t.Errorf("landed by patterns: %s\nwant %s", strings.Join(got, ","), want)
	}
	if _, err := Discover(t.Context(), cat, "nope", "", src); err == nil ||
		err.Error() != `no connection "nope" in c.yaml (it has: hr, other)` {
		t.Errorf("unknown connection: %v", err)
	}
	if _, err := Discover(t.Context(), cat, "hr", "sales", src); err == nil || !strings.Contains(err.Error(), `connection hr: schema "sales": not found`) {
		t.Errorf("missing schema: %v", err)
	}
}

// TestDiscoverOddTablesAndGlue: names that need quotes are written quoted,
// names no catalog can hold are flagged, a table with its own
// ingestion_timestamp gets the added column renamed; the Glue form is a
// Glue catalog that loads back to the same workflows.
func TestDiscoverOddTablesAndGlue(t *testing.T) {
	glue := parse(t, `{"WorkflowList": [{"WorkflowName": "w", "SecretName": "DemoDBSecret",
  "SourceTable": "public.regions", "DestinationBucketName": "file:///lake"}]}`)
	id := coltype.Column{Name: "id", Kind: coltype.Int64}
	own := coltype.Column{Name: "ingestion_timestamp", Kind: coltype.TimestampTZ}
	src := &fakeSource{
		order: []string{"../up", `a"b.c`, "events", "tab\tle"},
		tables: map[string][]coltype.Column{
			"../up": {id}, `a"b.c`: {id}, "tab\tle": {id},
			"events": {id, own, {Name: "wharf_ingestion_timestamp", Kind: coltype.Int64}},
		},
	}
	entries, err := Discover(t.Context(), glue, "DemoDBSecret", "public", src)
	if err != nil {
		t.Fatal(err)
	}
	var yaml strings.Builder
	if err := WriteEntries(&yaml, "DemoDBSecret", "", "public", entries); err != nil {
		t.Fatal(err)
	}
	want := `# wharf discover: 4 table(s) in schema public of connection DemoDBSecret
workflows:
  - name: DemoDBSecret_.._up
    connection: DemoDBSecret
    table: 'public."../up"'
    cursor: ""  # no cursor column found: every run is a full load
  - name: DemoDBSecret_a_b.c
    connection: DemoDBSecret
    table: 'public."a""b.c"'
    cursor: ""  # no cursor column found: every run is a full load
  - name: DemoDBSecret_events
    connection: DemoDBSecret
    table: public.events
    ingestion_column: wharf_ingestion_timestamp_2  # the table has its own ingestion_timestamp column: the column wharf adds is named wharf_ingestion_timestamp_2
    cursor: ""  # no cursor column found: every run is a full load
  # public.tab le cannot land as is: "public.tab\tle" contains control characters
  # - name: DemoDBSecret_tab_le
  #   connection: DemoDBSecret
  #   table: "public.tab\tle"
`
	if yaml.String() != want {
		t.Errorf("discover =\n%s\nwant\n%s", yaml.String(), want)
	}

	var js strings.Builder
	notes, err := WriteGlueEntries(&js, "DemoDBSecret", "file:///lake", entries)
	if err != nil {
		t.Fatal(err)
	}
	wantNotes := []string{
		`public."../up": no cursor column found: every run is a full load`,
		`public."a""b.c": no cursor column found: every run is a full load`,
		`public.events: no cursor column found: every run is a full load`,
		`public.events: the table has its own ingestion_timestamp column: the column wharf adds is named wharf_ingestion_timestamp_2 (WharfIngestionColumn)`,
		`public.tab le cannot land as is (left out): "public.tab\tle" contains control characters`,
	}
	if strings.Join(notes, "\n") != strings.Join(wantNotes, "\n") {
		t.Errorf("notes:\n%s\nwant\n%s", strings.Join(notes, "\n"), strings.Join(wantNotes, "\n"))
	}
	// Pasted into the Glue catalog, the entries load.
	round := parse(t, js.String())
	if len(round.Workflows) != 3 || round.Workflows[1].Table != `public."a""b.c"` ||
		round.Workflows[2].IngestionColumn != "wharf_ingestion_timestamp_2" || round.Workflows[2].Cursor != "" ||
		round.Workflows[0].Lake != "file:///lake" || round.Workflows[0].Connection != "DemoDBSecret" {
		t.Errorf("discovered Glue catalog:\n%s\nloads as %+v", js.String(), round.Workflows)
	}
}
