package lake

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIdentity: URLs that name one place have one identity; others not.
func TestIdentity(t *testing.T) {
	same := [][]string{
		{"file:///data/lake", "file:///data/lake/", "file:///data/./lake", "file:////data/lake", "file://localhost/data/lake", "/data/lake", "/data//lake/"},
		{"s3://bucket/raw?region=eu-west-1", "s3://bucket/raw/?region=eu-west-1", "s3://bucket//raw?region=eu-west-1", "S3://Bucket/raw?region=eu-west-1"},
		{"s3://bucket?region=us-east-1&endpoint=http://h:7070", "s3://bucket/?endpoint=http://h:7070/&region=us-east-1", "s3://bucket?endpoint=HTTP://H:7070&region=us-east-1"},
		{"gs://b/p", "gs://b/p/"},
	}
	seen := map[string]string{}
	for _, group := range same {
		id := Identity(group[0])
		for _, u := range group[1:] {
			if got := Identity(u); got != id {
				t.Errorf("Identity(%s) = %s, want %s (as %s)", u, got, id, group[0])
			}
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("%s and %s have one identity %s", group[0], prev, id)
		}
		seen[id] = group[0]
	}
	for _, pair := range [][2]string{
		{"file:///data/lake", "file:///data/lake2"},
		{"s3://bucket/raw", "s3://bucket/Raw"},
		{"s3://bucket?endpoint=http://a:1", "s3://bucket?endpoint=http://b:1"},
	} {
		if Identity(pair[0]) == Identity(pair[1]) {
			t.Errorf("%s and %s: one identity %s", pair[0], pair[1], Identity(pair[0]))
		}
	}
}

// TestIdentityFollowsSymlinks: a lake directory reached through a symbolic
// link is the directory it points to.
func TestIdentityFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if a, b := Identity("file://"+real), Identity("file://"+link+"/"); a != b {
		t.Errorf("Identity of a directory %s and of a link to it %s", a, b)
	}
}

// TestFileURLWithoutSlashes: file:/data (one slash) is refused by Check and
// by Open, instead of becoming a directory named "file:" here.
func TestFileURLWithoutSlashes(t *testing.T) {
	for _, raw := range []string{"file:/tmp/x", "FILE:tmp/x"} {
		if err := Check(context.Background(), raw); err == nil || !strings.Contains(err.Error(), "file:///absolute/path") {
			t.Errorf("Check(%s) = %v", raw, err)
		}
		if _, err := openBucket(context.Background(), raw, Options{}); err == nil || !strings.Contains(err.Error(), "file:///absolute/path") {
			t.Errorf("openBucket(%s) = %v", raw, err)
		}
	}
	if err := Check(context.Background(), "file:///tmp/x?mode=1"); err == nil || !strings.Contains(err.Error(), "take no query parameters") {
		t.Errorf("Check of a file URL with a query = %v", err)
	}
}
