package lake_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/testdb"
)

// A failed write names the lake, the object and the cause once each:
// gocloud's own wrapper, which repeats the key, is left out of the text.
func TestStoreErrorNamesTheObjectOnce(t *testing.T) {
	t.Parallel()
	m := &lake.Manifest{RunID: "r1", Prefix: "db/t"}
	const key = "_wharf/manifests/db/t/r1.json"

	dir := t.TempDir()
	// A file where the manifests' directory must go: mkdir fails, even as root.
	if err := os.WriteFile(filepath.Join(dir, "_wharf"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openStore(t, "file://"+dir, "", lake.Options{})
	err := l.WriteManifest(context.Background(), m)
	want := "lake file://" + dir + ": write " + key + ": mkdir " + filepath.Join(dir, "_wharf") + ": not a directory"
	if err == nil || err.Error() != want {
		t.Errorf("file lake write error:\n%v\nwant\n%s", err, want)
	}

	s := testdb.S3Bucket(t)
	missing := "no-such-bucket-" + testdb.RandomSuffix()
	l = openStore(t, strings.Replace(s.URL("p"), s.Bucket, missing, 1), s.Secret(), lake.Options{MaxAttempts: 1})
	err = l.WriteManifest(context.Background(), m)
	prefix := "lake " + l.URL() + ": write " + key + ": the bucket does not exist (operation error S3: PutObject, "
	if err == nil || !strings.HasPrefix(err.Error(), prefix) || strings.Count(err.Error(), key) != 1 {
		t.Errorf("S3 write error:\n%v\nwant it to start\n%s\nand name the key once", err, prefix)
	}
}

// On a file lake the OS error names the object's path, the key again: the
// message keeps the operation and the cause; a directory's path stays.
func TestStoreErrorLeavesOutTheObjectsPath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "remove", Path: "/l/db/t/f.parquet", Err: syscall.ENOTDIR}, "lake file:///l: delete db/t/f.parquet: remove: not a directory"},
		{&fs.PathError{Op: "mkdir", Path: "/l/db", Err: syscall.ENOTDIR}, "lake file:///l: delete db/t/f.parquet: mkdir /l/db: not a directory"},
	} {
		se := &lake.StoreError{Lake: "file:///l", Op: "delete", Key: "db/t/f.parquet", Err: c.err}
		if se.Error() != c.want {
			t.Errorf("got\n%s\nwant\n%s", se, c.want)
		}
	}
}
