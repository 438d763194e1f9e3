package deploy

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
)

// TestChangesCoverCatalog fails when a setting is added to the catalog's
// types without a name in Changes: changing any one field must be named
// (the entry names of the connection and lake are the workflow's
// references; Pos is where the entry is written).
func TestChangesCoverCatalog(t *testing.T) {
	skip := []string{"Workflow.Pos", "Workflow.Name", "Connection.Name", "Lake.Name"}
	base := resolved("w")
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), path+v.Type().Field(i).Name
			if slices.Contains(skip, name) {
				continue
			}
			if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Duration]() {
				walk(f, name+".")
				continue
			}
			saved := reflect.New(f.Type()).Elem()
			saved.Set(f)
			switch {
			case f.Kind() == reflect.String:
				f.SetString(f.String() + "x")
			case f.Kind() == reflect.Bool:
				f.SetBool(!f.Bool())
			case f.CanInt():
				f.SetInt(f.Int() + 1)
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
				f.Set(reflect.Append(f, reflect.ValueOf("x")))
			case f.Kind() == reflect.Map && f.Type().Elem().Kind() == reflect.String:
				f.Set(reflect.ValueOf(map[string]string{"x": "y"}))
			default:
				t.Fatalf("%s: kind %v: teach this test and Changes about it", name, f.Kind())
			}
			changed := reflect.ValueOf(&base).Elem().Interface().(catalog.Resolved)
			if got := Changes(resolved("w"), changed); len(got) == 0 {
				t.Errorf("changing %s is not named by Changes", name)
			}
			f.Set(saved)
		}
	}
	walk(reflect.ValueOf(&base).Elem(), "")
}
