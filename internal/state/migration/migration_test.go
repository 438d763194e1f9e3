package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadSortsAndParses(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_add_things.sql": {Data: []byte("CREATE TABLE b (x int);")},
		"0001_init.sql":       {Data: []byte("CREATE TABLE a (x int);")},
		"README.md":           {Data: []byte("not a migration")},
	}
	ms, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[0].Name != "init" || ms[1].Version != 2 || ms[1].Name != "add_things" {
		t.Fatalf("Load = %+v", ms)
	}
	if ms[1].SQL != "CREATE TABLE b (x int);" {
		t.Errorf("SQL = %q", ms[1].SQL)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		fsys fstest.MapFS
		want string
	}{
		"bad name":  {fstest.MapFS{"1_init.sql": {Data: []byte("x")}}, "migration file 1_init.sql: name must be"},
		"upper":     {fstest.MapFS{"0001_Init.sql": {Data: []byte("x")}}, "migration file 0001_Init.sql: name must be"},
		"gap":       {fstest.MapFS{"0001_a.sql": {Data: []byte("x")}, "0003_c.sql": {Data: []byte("x")}}, "migration 0003_c: versions must run 1, 2, 3, ... without gaps; expected 2"},
		"duplicate": {fstest.MapFS{"0001_a.sql": {Data: []byte("x")}, "0001_b.sql": {Data: []byte("x")}}, "migration version 1 is used by two files (a, b)"},
		"empty":     {fstest.MapFS{"0001_a.sql": {Data: []byte(" \n")}}, "migration file 0001_a.sql is empty"},
		"none":      {fstest.MapFS{}, "no migration files found"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(tc.fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestPending(t *testing.T) {
	all := []Migration{{Version: 1, Name: "a"}, {Version: 2, Name: "b"}, {Version: 3, Name: "c"}}
	got, err := Pending(all, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Version != 2 || got[1].Version != 3 {
		t.Fatalf("Pending = %+v", got)
	}
	got, err = Pending(all, []int{3, 1, 2})
	if err != nil || len(got) != 0 {
		t.Fatalf("Pending(all applied) = %+v, %v", got, err)
	}
	_, err = Pending(all, []int{1, 2, 3, 4})
	want := "state schema version 4 was applied by a newer wharf (this one knows versions up to 3): upgrade wharf"
	if err == nil || err.Error() != want {
		t.Fatalf("Pending(newer) error = %v, want %q", err, want)
	}
}
