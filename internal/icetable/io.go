package icetable

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"

	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/io/gocloud/blobfs"
	"gocloud.dev/blob"

	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
)

// Every file of an Iceberg table (data, manifests, metadata) is read and
// written through the bucket of the wharf lake that holds it, with the
// lake's own credentials, retries and URL parameters: iceberg-go finds a
// table's FileIO by the scheme of a location, so this package registers
// itself for the lake schemes and maps a location to the open lake whose
// Root it is under. Nothing of the lake's credentials goes into the
// catalog or the table's properties.

var roots struct {
	sync.RWMutex
	buckets map[string]*blob.Bucket // lake root -> its bucket
}

func init() {
	for _, scheme := range []string{"file", "s3", "gs", "azblob"} {
		iceio.Unregister(scheme)
		iceio.Register(scheme, openIO)
	}
}

// register makes lk's files reachable to iceberg-go.
func register(lk *lake.Lake) {
	roots.Lock()
	defer roots.Unlock()
	if roots.buckets == nil {
		roots.buckets = map[string]*blob.Bucket{}
	}
	roots.buckets[lk.Root()] = lk.Bucket()
}

// openIO is iceberg-go's FileIO for a location: the bucket of the open lake
// whose root holds it; for a local path no lake holds, the local file system.
func openIO(ctx context.Context, parsed *url.URL, _ map[string]string) (iceio.IO, error) {
	loc := parsed.String()
	roots.RLock()
	var root string
	var bucket *blob.Bucket
	for r, b := range roots.buckets {
		if (loc == r || strings.HasPrefix(loc, r+"/")) && len(r) > len(root) {
			root, bucket = r, b
		}
	}
	roots.RUnlock()
	if bucket == nil {
		if parsed.Scheme == "file" {
			return iceio.LocalFS{}, nil
		}
		return nil, fmt.Errorf("%s is in no lake this process opened (an Iceberg table's files must be in its lake)", secret.RedactURL(loc))
	}
	return blobfs.New(ctx, bucket, func(location string) (blobfs.ObjectLocation, error) {
		key, ok := strings.CutPrefix(location, root+"/")
		if !ok || key == "" {
			return blobfs.ObjectLocation{}, fmt.Errorf("%s is not under the lake %s", secret.RedactURL(location), root)
		}
		scheme, authority, _ := strings.Cut(root, "://")
		return blobfs.NewObjectLocation(scheme, authority, key), nil
	}), nil
}
