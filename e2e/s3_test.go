package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestGlueCatalogIntoS3: the seed's Glue catalog shape, with an S3 URL in
// DestinationBucketName (endpoint, path style, plain HTTP, region) and the
// keys from the standard AWS chain (environment): the table lands in the
// bucket with its manifest. A second workflow into a bucket that does not
// exist fails at once, naming the lake and the cause, while the first lands.
func TestGlueCatalogIntoS3(t *testing.T) {
	t.Parallel()
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE regions (region_id integer PRIMARY KEY, region_name varchar(25), updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `INSERT INTO regions (region_id, region_name) VALUES (1,'Europe'),(2,'Americas'),(3,'Asia'),(4,'Middle East and Africa')`)
	s := testdb.S3Bucket(t)
	dir := t.TempDir()
	rdsSecret(t, filepath.Join(dir, "secrets"), "DemoDBSecret", u)
	missing := strings.Replace(s.URL(""), s.Bucket, "no-such-bucket-"+testdb.RandomSuffix(), 1)
	cat := fmt.Sprintf(`{"WorkflowList": [
  {"WorkflowName": "rds_to_s3_public_regions", "SecretName": "DemoDBSecret", "SourceTable": "%[1]s.regions",
   "DestinationBucketName": %[2]q, "JobScheduleType": "OnDemand"},
  {"WorkflowName": "to_missing_bucket", "SecretName": "DemoDBSecret", "SourceTable": "%[1]s.regions",
   "DestinationBucketName": %[3]q, "JobScheduleType": "OnDemand"}
]}`, schema, s.URL(""), missing)
	catPath := filepath.Join(dir, "glue.json")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"WHARF_SECRETS=file:" + filepath.Join(dir, "secrets"), "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"),
	}
	r := wharf(t, dir, env, "run", "-c", catPath, "--all")
	if r.code != 1 {
		t.Fatalf("want exit 1 (one workflow fails):\n%s", r)
	}
	if !strings.Contains(r.stdout, "rds_to_s3_public_regions") || !strings.Contains(r.stdout, "1 succeeded, 1 failed") {
		t.Errorf("the workflow into the real bucket should land:\n%s", r)
	}
	if !strings.Contains(r.stderr, "the bucket does not exist") || !strings.Contains(r.stderr, "lake s3://no-such-bucket-") {
		t.Errorf("the failure should name the lake and say the bucket does not exist:\n%s", r)
	}
	for _, secret := range []string{s.SecretKey, testPassword} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("output shows a secret:\n%s", r)
		}
	}
	var parquet, manifest int
	for _, k := range s.Keys(t) {
		switch {
		case strings.HasPrefix(k, "postgres/"+schema+".regions/ingestion_date=") && strings.HasSuffix(k, ".parquet"):
			parquet++
		case strings.HasPrefix(k, "_wharf/manifests/postgres/"+schema+".regions/") && strings.HasSuffix(k, ".json"):
			manifest++
		default:
			t.Errorf("unexpected object %s", k)
		}
	}
	if parquet != 1 || manifest != 1 {
		t.Errorf("bucket holds %d Parquet files and %d manifests, want 1 and 1", parquet, manifest)
	}
}
