package blueprint

import (
	"errors"
	"testing"

	"github.com/wharf-data/wharf/internal/catalog"
)

// TestLakePrefix: plain names keep the path they always had; any other
// name is one escaped path segment, never a traversal or a partition.
func TestLakePrefix(t *testing.T) {
	for table, want := range map[string]string{
		`regions`:                      "hr/regions",
		`public.regions`:               "hr/public.regions",
		`"public"."regions"`:           "hr/public.regions",
		`public."Mixed Case-1"`:        "hr/public.Mixed Case-1",
		`public."../up"`:               "hr/public.%2E%2E%2Fup",
		`"a.b".c`:                      "hr/a%2Eb.c",
		`a."b.c"`:                      "hr/a.b%2Ec",
		`"my ""odd"" schema"."t.able"`: "hr/my %22odd%22 schema.t%2Eable",
		`public."k=v"`:                 "hr/public.k%3Dv",
	} {
		ref, err := catalog.ParseTableRef(table)
		if err != nil {
			t.Fatal(err)
		}
		if got := LakePrefix("hr", ref); got != want {
			t.Errorf("LakePrefix(%s) = %s, want %s", table, got, want)
		}
	}
}

// TestLakeErrorNamesTheLakeOnce: a lake named by its URL (Glue's
// DestinationBucketName) is not named twice when the store's error starts
// with the URL already; a lake with a name of its own is.
func TestLakeErrorNamesTheLakeOnce(t *testing.T) {
	inner := errors.New("lake s3://b?region=us-east-1: list: the bucket does not exist")
	byURL := &catalog.Lake{Name: "s3://b?region=us-east-1", URL: "s3://b?region=us-east-1"}
	if got := lakeError(byURL, inner); got != inner {
		t.Errorf("lake named by its URL: %q", got)
	}
	named := &catalog.Lake{Name: "raw", URL: "s3://b?region=us-east-1"}
	if got := lakeError(named, inner).Error(); got != "lake raw: "+inner.Error() {
		t.Errorf("named lake: %q", got)
	}
}
