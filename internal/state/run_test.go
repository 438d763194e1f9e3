package state

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
)

func TestDecodeWatermark(t *testing.T) {
	s := func(v string) *string { return &v }
	wm, err := DecodeWatermark("w", s("timestamptz"), s("2024-03-01T10:00:00.123456Z"))
	if err != nil || *wm != (coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2024-03-01T10:00:00.123456Z"}) {
		t.Fatalf("DecodeWatermark = %+v, %v", wm, err)
	}
	if wm, err := DecodeWatermark("w", nil, nil); wm != nil || err != nil {
		t.Fatalf("DecodeWatermark(NULL, NULL) = %+v, %v", wm, err)
	}
	for _, tc := range []struct {
		kind, text *string
		want       string
	}{
		{s("int64"), nil, "run r1 watermark_to: watermark kind and value must both be set or both be NULL"},
		{s("float128"), s("1"), `run r1 watermark_to: unknown column kind "float128"`},
		{s("bool"), s("true"), "run r1 watermark_to: kind bool cannot be a cursor"},
		{s("date"), s("2024-02-30"), `run r1 watermark_to: date value "2024-02-30"`},
	} {
		_, err := DecodeWatermark("run r1 watermark_to", tc.kind, tc.text)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("DecodeWatermark(%v, %v) error = %v, want prefix %q", *tc.kind, tc.text, err, tc.want)
		}
	}
}

func TestTime(t *testing.T) {
	in := time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", -5*3600))
	got := Time(in)
	if want := time.Date(2024, 1, 2, 8, 4, 5, 678901000, time.UTC); got != want {
		t.Errorf("Time(%v) = %v, want %v", in, got, want)
	}
	if !Time(time.Time{}).IsZero() {
		t.Error("Time(zero) is not zero")
	}
}

func TestStorableText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"ünï 🚢":          "ünï 🚢",
		"nul\x00byte":    "nul\uFFFDbyte",
		"bad\xff\xfeutf": "bad\uFFFDutf",
	} {
		if got := StorableText(in); got != want {
			t.Errorf("StorableText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrepareCommitFiles(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 999, time.UTC)
	r := Run{ID: "r1", Workflow: "wf", Status: StatusRunning}
	for _, tc := range []struct {
		files []File
		want  string
	}{
		{[]File{{Path: ""}}, "commit run r1 of workflow wf: file 0 has an empty path"},
		{[]File{{Path: "a", RunID: "r2"}}, "commit run r1 of workflow wf: file a belongs to run r2"},
		{[]File{{Path: "a", Workflow: "other"}}, "commit run r1 of workflow wf: file a belongs to workflow other"},
		{[]File{{Path: "a"}, {Path: "a"}}, "commit run r1 of workflow wf: file a is listed twice"},
		{[]File{{Path: "a", Rows: -1}}, "commit run r1 of workflow wf: file a: negative rows (-1) or bytes (0)"},
	} {
		c := r
		_, err := c.PrepareCommit(now, tc.files, nil, "")
		if err == nil || err.Error() != tc.want {
			t.Errorf("PrepareCommit(%+v) error = %v, want %q", tc.files, err, tc.want)
		}
	}
	c := r
	files, err := c.PrepareCommit(now, []File{{Path: "a", Rows: 2}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if files[0].RunID != "r1" || files[0].Workflow != "wf" || files[0].CreatedAt != Time(now) {
		t.Errorf("PrepareCommit filled %+v", files[0])
	}
	if c.Status != StatusSucceeded || c.Files != 1 || c.FinishedAt != Time(now) {
		t.Errorf("PrepareCommit left run %+v", c)
	}
}

func TestEffectiveLimit(t *testing.T) {
	for in, want := range map[int]int{0: DefaultLimit, 1: 1, 500: 500} {
		if got, err := (RunFilter{Limit: in}).EffectiveLimit(); err != nil || got != want {
			t.Errorf("EffectiveLimit(%d) = %d, %v", in, got, err)
		}
	}
	if _, err := (RunFilter{Limit: -3}).EffectiveLimit(); err == nil || err.Error() != "list runs: RunFilter.Limit -3 is negative" {
		t.Errorf("EffectiveLimit(-3) error = %v", err)
	}
}

func TestPrepareCommitSchema(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ hash, schema, want string }{
		{"h", `{"columns":[]}`, ""},
		{"", "", ""},
		{"h", `{"columns":`, "commit run r1 of workflow wf: schema is not valid JSON"},
		{"h\x00", `{}`, "commit run r1 of workflow wf: schema hash and schema must be valid UTF-8 without NUL"},
	} {
		r := Run{ID: "r1", Workflow: "wf", Status: StatusRunning, SchemaHash: tc.hash, Schema: tc.schema}
		_, err := r.PrepareCommit(now, nil, nil, "")
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("PrepareCommit with schema %q/%q: %v, want %q", tc.hash, tc.schema, err, tc.want)
		}
	}
}
