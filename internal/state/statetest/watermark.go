package statetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
)

// cursorSamples are watermarks of every cursor kind whose text must come
// back exactly: extremes, precision no float holds, trailing zeros, quotes.
var cursorSamples = []coltype.Watermark{
	{Kind: coltype.Int16, Text: "-32768"},
	{Kind: coltype.Int32, Text: "2147483647"},
	{Kind: coltype.Int64, Text: "-9223372036854775808"},
	{Kind: coltype.Int64, Text: "9007199254740993"}, // 2^53+1: not a float64
	{Kind: coltype.Decimal, Text: "12345678901234567890.123456789012345678"},
	{Kind: coltype.Decimal, Text: "-0.0100"},
	{Kind: coltype.Float32, Text: "1.5"},
	{Kind: coltype.Float64, Text: "0.1"},
	{Kind: coltype.Float64, Text: "1e+300"},
	{Kind: coltype.String, Text: "O'Brien \"quoted\"; DROP TABLE x; -- ünïcödé 🚢"},
	{Kind: coltype.String, Text: ""},
	{Kind: coltype.Date, Text: "2024-02-29"},
	{Kind: coltype.Timestamp, Text: "2024-03-01T10:00:00.123456"},
	{Kind: coltype.TimestampTZ, Text: "1969-12-31T23:59:59.999999Z"},
}

func testWatermarkEveryKind(t *testing.T, b Backend) {
	s := fresh(t, b)
	for i, want := range cursorSamples {
		wf := "wf_" + want.Kind.String() + "_" + string(rune('a'+i))
		cursor := "cursor_" + want.Kind.String()
		r := startRun(t, s, wf, base)
		r.WatermarkFrom = &coltype.Watermark{Kind: want.Kind, Text: want.Text}
		r.WatermarkTo = &coltype.Watermark{Kind: want.Kind, Text: want.Text}
		wm := want
		if err := s.CommitRun(t.Context(), r, nil, &wm, cursor); err != nil {
			t.Fatalf("CommitRun %v %q: %v", want.Kind, want.Text, err)
		}
		checkWatermark(t, s, wf, &want, cursor)
		checkRun(t, s, r) // the window round-trips too
	}
	// A second commit replaces the watermark, kind and cursor included.
	r := startRun(t, s, "wf_moves", base)
	if err := s.CommitRun(t.Context(), r, nil, &coltype.Watermark{Kind: coltype.Int64, Text: "41"}, "id"); err != nil {
		t.Fatal(err)
	}
	r = startRun(t, s, "wf_moves", base.Add(1))
	want := &coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2025-01-01T00:00:00.000001Z"}
	if err := s.CommitRun(t.Context(), r, nil, want, "updated_at"); err != nil {
		t.Fatal(err)
	}
	checkWatermark(t, s, "wf_moves", want, "updated_at")
}

func testWatermarkNoneAndReset(t *testing.T, b Backend) {
	s := fresh(t, b)
	checkWatermark(t, s, "never_ran", nil, "")
	if err := s.ResetWatermark(t.Context(), "never_ran"); err != nil {
		t.Fatalf("ResetWatermark of a workflow without one: %v", err)
	}
	wmA := &coltype.Watermark{Kind: coltype.Int64, Text: "100"}
	wmB := &coltype.Watermark{Kind: coltype.Date, Text: "2024-01-31"}
	for wf, wm := range map[string]*coltype.Watermark{"a": wmA, "b": wmB} {
		r := startRun(t, s, wf, base)
		if err := s.CommitRun(t.Context(), r, nil, wm, "c_"+wf); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ResetWatermark(t.Context(), "a"); err != nil {
		t.Fatalf("ResetWatermark: %v", err)
	}
	checkWatermark(t, s, "a", nil, "")
	checkWatermark(t, s, "b", wmB, "c_b") // other workflows keep theirs
	// After a reset the next commit sets it again.
	r := startRun(t, s, "a", base.Add(1))
	if err := s.CommitRun(t.Context(), r, nil, wmA, "c_a"); err != nil {
		t.Fatal(err)
	}
	checkWatermark(t, s, "a", wmA, "c_a")
}

func testWatermarkRejected(t *testing.T, b Backend) {
	s := fresh(t, b)
	prev := &coltype.Watermark{Kind: coltype.Int64, Text: "7"}
	r0 := startRun(t, s, "wf", base)
	if err := s.CommitRun(t.Context(), r0, nil, prev, "id"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		wm     coltype.Watermark
		cursor string
		want   []string // substrings of the error
	}{
		{"not a cursor kind", coltype.Watermark{Kind: coltype.Bool, Text: "true"}, "flag", []string{"wf", `"flag"`, "bool"}},
		{"not canonical", coltype.Watermark{Kind: coltype.Int64, Text: "12.5"}, "id", []string{"wf", `"id"`, "12.5"}},
		{"float text for decimal", coltype.Watermark{Kind: coltype.Decimal, Text: "1e5x"}, "amount", []string{"wf", `"amount"`}},
		{"bad timestamp", coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2024-03-01 10:00:00"}, "ts", []string{"wf", `"ts"`}},
		{"no cursor", coltype.Watermark{Kind: coltype.Int64, Text: "8"}, "", []string{"wf", "no cursor"}},
		{"NUL byte", coltype.Watermark{Kind: coltype.String, Text: "a\x00b"}, "name", []string{"wf", `"name"`, "NUL"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := startRun(t, s, "wf", base.Add(1))
			wm := tc.wm
			err := s.CommitRun(t.Context(), r, nil, &wm, tc.cursor)
			if err == nil {
				t.Fatalf("CommitRun with watermark %+v cursor %q succeeded", tc.wm, tc.cursor)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if errors.Is(err, state.ErrNotRunning) {
				t.Errorf("error %v wraps ErrNotRunning; it is a validation error", err)
			}
			checkWatermark(t, s, "wf", prev, "id")
			if got := mustRun(t, s, r.ID); got.Status != state.StatusRunning {
				t.Errorf("run status after a rejected commit = %s, want running", got.Status)
			}
		})
	}
}
