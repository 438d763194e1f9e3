package lake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gocloud.dev/blob"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestWriteAllOnFullDiskLeavesNothing: a write that fails for lack of space
// (a 4 kB tmpfs of the test's own, which needs root or CAP_SYS_ADMIN) leaves
// no object behind, not the empty or partial file gocloud's
// Bucket.WriteAll commits.
func TestWriteAllOnFullDiskLeavesNothing(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=4k"); err != nil {
		testdb.Unavailable(t, "a tmpfs mount (root or CAP_SYS_ADMIN)", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, 0) })
	l, err := Open(context.Background(), "file://"+mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = l.writeAll(context.Background(), "_wharf/manifests/m.json", make([]byte, 64<<10), &blob.WriterOptions{ContentType: "application/json"})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("want no space left on device, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "_wharf", "manifests", "m.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed write left the object behind: %v", err)
	}
}
