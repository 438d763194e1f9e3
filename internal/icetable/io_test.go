package icetable

import (
	"context"
	"strings"
	"testing"

	iceio "github.com/apache/iceberg-go/io"
)

// wharf's FileIO serves the lake schemes even in a process that also links
// iceberg-go's own (this test binary does, through internal/testdb's
// catalog server): a location in no lake this process opened is refused,
// not opened with iceberg-go's defaults.
func TestLakeSchemesAreWharfs(t *testing.T) {
	for _, loc := range []string{"s3://bucket/t/metadata/v1.json", "gs://bucket/t/metadata/v1.json", "azblob://c/t/metadata/v1.json"} {
		_, err := iceio.LoadFS(context.Background(), nil, loc)
		if err == nil || !strings.Contains(err.Error(), "is in no lake this process opened") {
			t.Errorf("%s: %v, want wharf's FileIO refusing it", loc, err)
		}
	}
}
