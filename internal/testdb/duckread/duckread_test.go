package duckread

import "testing"

func TestStrings(t *testing.T) {
	db := Open(t)
	got := Strings(t, db, "SELECT 'a', NULL::VARCHAR, to_json([1, 2])::VARCHAR")
	if len(got) != 1 || *got[0][0] != "a" || got[0][1] != nil || *got[0][2] != "[1,2]" {
		t.Fatalf("got %v", got)
	}
}
