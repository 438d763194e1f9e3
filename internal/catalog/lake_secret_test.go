package catalog

import (
	"strings"
	"testing"
)

func TestLakeSecret(t *testing.T) {
	cat, err := Load("testdata/lake_secret.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"minio": "file:/etc/wharf/lake-keys.json", "gcs": "gcs_lake_sa", "default_chain": ""}
	for name, secret := range want {
		lk := cat.Lakes[name]
		if lk == nil {
			t.Fatalf("lake %s missing: %s", name, dump(cat.Lakes))
		}
		if lk.Secret != secret {
			t.Errorf("lake %s: Secret = %q, want %q", name, lk.Secret, secret)
		}
	}
	if got := cat.Resolve("hr_regions").Lake.URL; got != "s3://lake/raw?endpoint=http://127.0.0.1:7070&use_path_style=true&disable_https=true&region=us-east-1" {
		t.Errorf("hr_regions lake URL = %q", got)
	}
}

func TestLakeFormat(t *testing.T) {
	cat, err := Load("testdata/lake_format.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l := cat.Lakes["ice"]; !l.Iceberg() || l.IcebergCatalog != "" {
		t.Errorf("ice: %+v", l)
	}
	if l := cat.Lakes["ice2"]; !l.Iceberg() || l.IcebergCatalog != "sql:sqlite:/data/catalog.db" {
		t.Errorf("ice2: %+v", l)
	}
	if ns := cat.Workflows[1].Namespace; ns != "staging" {
		t.Errorf("namespace %q", ns)
	}
	// A parquet lake's spec is what it was before lakes had a format;
	// an iceberg lake's round-trips.
	for _, wf := range cat.Workflows {
		r := Resolved{Workflow: *wf, Lake: *cat.Lakes[wf.Lake], Connection: *cat.Connections[wf.Connection]}
		back, err := DecodeSpec("x", EncodeSpec(r))
		if err != nil || back.Lake != r.Lake || back.Workflow.Namespace != wf.Namespace {
			t.Errorf("%s: round trip %+v, %v", wf.Name, back.Lake, err)
		}
	}
	r := Resolved{Lake: Lake{Name: "p", URL: "file:///x", Format: LakeParquet}}
	if s := string(EncodeSpec(r)); strings.Contains(s, "format\":\"parquet") || strings.Contains(s, "iceberg") {
		t.Errorf("parquet lake spec: %s", s)
	}
}
