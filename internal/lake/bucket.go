package lake

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

// This file is the only place that knows about URL schemes. Adding an object
// store (s3://, gs://, azblob://) means importing its gocloud.dev/blob driver
// and adding a case to openBucket; everything else works on *blob.Bucket.

// supportedSchemes is listed in the error for an unknown scheme.
var supportedSchemes = []string{"file"}

// openBucket opens the bucket behind a lake URL and returns it with the
// URL's printable form (credentials redacted).
func openBucket(ctx context.Context, raw string) (*blob.Bucket, string, error) {
	_ = ctx // used by the object-store openers to come
	if strings.TrimSpace(raw) == "" {
		return nil, "", fmt.Errorf("lake URL is empty")
	}
	if !strings.Contains(raw, "://") {
		// A plain path, absolute or relative: a directory on this machine.
		return openFileBucket(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the raw URL, which may hold a secret.
		return nil, "", fmt.Errorf("lake URL %s: not a valid URL", redactURL(raw))
	}
	printable := redactURL(raw)
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, "", fmt.Errorf("lake URL %s: file URLs take no host (want file:///absolute/path)", printable)
		}
		if u.User != nil {
			return nil, "", fmt.Errorf("lake URL %s: file URLs take no user", printable)
		}
		if len(u.Query()) > 0 {
			return nil, "", fmt.Errorf("lake URL %s: file URLs take no query parameters (got %s)", printable, strings.Join(sortedKeys(u.Query()), ", "))
		}
		if u.Path == "" {
			return nil, "", fmt.Errorf("lake URL %s: no directory (want file:///absolute/path)", printable)
		}
		return openFileBucket(filepath.FromSlash(u.Path))
	default:
		return nil, "", fmt.Errorf("lake URL %s: scheme %q is not supported (supported: %s)", printable, u.Scheme, strings.Join(supportedSchemes, ", "))
	}
}

// openFileBucket opens a local directory, creating it when missing.
// Temporary files are written next to their final name (a rename across
// file systems would fail) and no .attrs sidecar files are written, so the
// lake directory holds nothing but data files.
func openFileBucket(dir string) (*blob.Bucket, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", fmt.Errorf("lake directory %s: %w", dir, err)
	}
	printable := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	b, err := fileblob.OpenBucket(abs, &fileblob.Options{
		CreateDir: true,
		NoTempDir: true,
		Metadata:  fileblob.MetadataDontWrite,
	})
	if err != nil {
		return nil, "", fmt.Errorf("lake %s: open directory: %w", printable, err)
	}
	return b, printable, nil
}

// secretParams are query parameters whose values are redacted in messages.
var secretParams = []string{"secret", "password", "token", "key", "sig", "signature", "credential"}

// redactURL returns raw with any password and secret-looking query values
// replaced by "xxxxx". Unparseable input is reduced to its scheme.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.Index(raw, "://"); i > 0 {
			return raw[:i] + "://(unparseable URL)"
		}
		return "(unparseable URL)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			lk := strings.ToLower(k)
			for _, s := range secretParams {
				if strings.Contains(lk, s) {
					q[k] = []string{"xxxxx"}
					break
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func sortedKeys(q url.Values) []string {
	ks := make([]string, 0, len(q))
	for k := range q {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
