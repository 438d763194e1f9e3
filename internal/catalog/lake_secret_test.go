package catalog

import "testing"

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
