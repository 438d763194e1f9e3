// Package lake writes runs of Arrow records as Parquet objects into a lake
// (a local directory, or an S3, GCS or Azure bucket through gocloud.dev/blob)
// and lists, checks or removes them.
//
// Layout: a run writes under a prefix such as "hr/public.regions", inside an
// optional partition directory ("ingestion_date=2026-11-25" or Hive-style
// "col=value" per row), into objects named part-<runID>-<n>.parquet. Objects
// are streamed as they are encoded (no local temporary copy; object stores
// get a multipart upload of PartBytes parts) and memory stays bounded by the
// row-group and part sizes, whatever the size of the table.
//
// A run's objects are not "committed" by this package: the caller records the
// FileInfo list returned by RunWriter.Close in its state store, then writes
// the run's Manifest under _wharf/manifests/. A run that fails calls
// RunWriter.Abort; the leftovers of a run that crashed are removed with
// Lake.DeleteRunFiles before its retry commits.
package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Lake is an open lake: a bucket plus its printable URL.
type Lake struct {
	bucket    *blob.Bucket
	url       string // printable, credentials redacted
	root      string // see Root
	keyPrefix string // the URL's path inside the bucket ("" or ending in "/")
	s3        *s3.Client
	s3Bucket  string
	// s3Checksum is the request checksum policy of the S3 client's config.
	s3Checksum aws.RequestChecksumCalculation
}

// FileInfo describes one object of the lake.
type FileInfo struct {
	Path  string // relative to the lake root, "/"-separated
	Rows  int64  // 0 when unknown (List)
	Bytes int64
}

// Open opens the lake at url with the store's standard credentials:
// file:///abs/path or a plain directory path (a missing directory is
// created), s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or
// azblob://CONTAINER/PREFIX, with gocloud.dev's query parameters (for S3:
// region, endpoint, use_path_style, disable_https, ...). Opening an object
// store does not contact it; Check does.
func Open(ctx context.Context, url string) (*Lake, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with credentials and retry options.
func OpenWith(ctx context.Context, url string, opts Options) (*Lake, error) {
	st, err := openBucket(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return &Lake{bucket: st.bucket, url: st.url, root: st.root, keyPrefix: st.keyPrefix, s3: st.s3, s3Bucket: st.s3Bucket, s3Checksum: st.s3Checksum}, nil
}

// Check lists one object of the lake: it fails at once, naming the lake
// and saying why, when the bucket does not exist or the credentials are
// wrong or lack permission.
func (l *Lake) Check(ctx context.Context) error {
	// One level ("/"): a file lake's full listing walks every directory,
	// and a run renaming its temp file meanwhile failed it ("lstat ...tmp:
	// no such file"), which read as a missing bucket.
	// fileblob still walks the whole tree: retried like listAll.
	err := l.retryVanished(ctx, func() error {
		_, err := l.bucket.List(&blob.ListOptions{Delimiter: "/"}).Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	})
	if err != nil {
		return l.storeError("list", "", err)
	}
	return nil
}

// URL returns the lake's URL for messages, credentials redacted.
func (l *Lake) URL() string { return l.url }

// Root is the lake's location as other engines name it, without query
// parameters: file:///abs/dir, s3://BUCKET/PREFIX, gs://..., azblob://...
// Root + "/" + a FileInfo.Path is that object's location (an Iceberg
// table's metadata names its files this way).
func (l *Lake) Root() string { return l.root }

// Bucket is the lake's bucket, rooted at Root: keys are FileInfo paths.
// It stays owned by the lake (closed by Close).
func (l *Lake) Bucket() *blob.Bucket { return l.bucket }

// Close releases the lake's resources.
func (l *Lake) Close() error {
	if err := l.bucket.Close(); err != nil {
		return fmt.Errorf("lake %s: close: %w", l.url, err)
	}
	return nil
}

// List returns every Parquet object (name ending in .parquet) under prefix,
// sorted by path. An empty prefix lists the whole lake. Rows is 0: reading
// row counts would mean reading every footer.
func (l *Lake) List(ctx context.Context, prefix string) ([]FileInfo, error) {
	dirPrefix, err := listPrefix(prefix)
	if err != nil {
		return nil, fmt.Errorf("lake %s: list: %w", l.url, err)
	}
	objs, err := l.listAll(ctx, dirPrefix)
	if err != nil {
		return nil, l.storeError("list", dirPrefix, err)
	}
	var out []FileInfo
	for _, obj := range objs {
		if obj.IsDir || !strings.HasSuffix(obj.Key, ".parquet") {
			continue
		}
		out = append(out, FileInfo{Path: obj.Key, Bytes: obj.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// listAll lists every object under prefix, through retryVanished.
func (l *Lake) listAll(ctx context.Context, prefix string) ([]*blob.ListObject, error) {
	var objs []*blob.ListObject
	err := l.retryVanished(ctx, func() error {
		objs = objs[:0]
		it := l.bucket.List(&blob.ListOptions{Prefix: prefix})
		for {
			obj, err := it.Next(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			objs = append(objs, obj)
		}
	})
	return objs, err
}

// retryVanished runs a file lake's listing again while it fails with
// NotFound, after a short pause, up to five times. A file lake's listing stats each file it
// walks, so another run renaming its temporary file in the same
// directories meanwhile ends the listing with NotFound ("lstat ...tmp: no
// such file"), which read as a missing bucket and failed attempts now and
// then when workflows share a lake. A directory that is really missing
// still fails; object stores list without stat and are not retried here
// (their SDKs retry what is transient).
func (l *Lake) retryVanished(ctx context.Context, list func() error) error {
	file := strings.HasPrefix(l.root, "file://")
	for attempt := 1; ; attempt++ {
		err := list()
		if err == nil || !file || gcerrors.Code(err) != gcerrors.NotFound || attempt == 5 || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

// DeleteRunFiles removes the leftovers of a run that crashed: every object
// under prefix, in any partition directory, named part-<runID>-<n>.parquet
// or, for a run read in chunks, part-<runID>-c<k>a<attempt>-<n>.parquet, the
// temporary files a local lake leaves behind when a process dies while
// writing one (….parquet.<hex>.tmp), the run's manifest if one was
// written, and (S3) the run's unfinished multipart uploads, whose parts are
// invisible but stored and billed. Objects of other runs are left alone.
// It returns how many objects it removed (uploads not counted).
func (l *Lake) DeleteRunFiles(ctx context.Context, prefix, runID string) (int, error) {
	if err := checkRunID(runID); err != nil {
		return 0, fmt.Errorf("lake %s: delete run files under %q: %w", l.url, prefix, err)
	}
	var extra []string
	if prefix != "" {
		extra = append(extra, ManifestKey(prefix, runID))
	}
	return l.deleteMatching(ctx, prefix, "run "+runID, runFilePattern(runID, "("+anyChunk+")?"), extra)
}

// DeleteChunkFiles removes what earlier attempts at chunk k of a run
// wrote (part-<runID>-c<k>a<attempt>-<n>.parquet in any partition
// directory under prefix, and their temporary files and uploads): a chunk
// read again starts clean. It returns how many objects it removed.
func (l *Lake) DeleteChunkFiles(ctx context.Context, prefix, runID string, k int) (int, error) {
	if err := checkRunID(runID); err != nil {
		return 0, fmt.Errorf("lake %s: delete chunk files under %q: %w", l.url, prefix, err)
	}
	return l.deleteMatching(ctx, prefix, fmt.Sprintf("chunk %d of run %s", k+1, runID), runFilePattern(chunkPrefix(runID, k), anyAttempt), nil)
}

// deleteMatching removes the objects under prefix whose base name re
// matches, then extra keys (if they exist), and the unfinished uploads re
// matches; what names the objects' owner in errors.
func (l *Lake) deleteMatching(ctx context.Context, prefix, what string, re *regexp.Regexp, extra []string) (int, error) {
	dirPrefix, err := listPrefix(prefix)
	if err != nil {
		return 0, fmt.Errorf("lake %s: delete files of %s: %w", l.url, what, err)
	}
	objs, err := l.listAll(ctx, dirPrefix)
	if err != nil {
		return 0, l.storeError(fmt.Sprintf("list leftovers of %s in", what), dirPrefix, err)
	}
	var keys []string
	for _, obj := range objs {
		if !obj.IsDir && re.MatchString(path.Base(obj.Key)) {
			keys = append(keys, obj.Key)
		}
	}
	keys = append(keys, extra...)
	n := 0
	for _, k := range keys {
		if err := l.bucket.Delete(ctx, k); err != nil {
			if notFound(err) {
				continue
			}
			return n, l.storeError(fmt.Sprintf("delete (%s)", what), k, err)
		}
		n++
	}
	if err := l.abortUploads(ctx, dirPrefix, re); err != nil {
		return n, err
	}
	return n, nil
}

// runFilePattern matches the base names of the objects named after stem
// (a run ID, or a chunk's: chunkStem), with more after it as more
// matches, and of the temporary files fileblob writes next to them.
func runFilePattern(stem, more string) *regexp.Regexp {
	return regexp.MustCompile(`^part-` + regexp.QuoteMeta(stem) + more + `-[0-9]{5,}\.parquet(\.[0-9a-f]+\.tmp)?$`)
}

// chunkStem is what the files of attempt a at chunk k of a run are named
// after: chunkPrefix, then the attempt.
func chunkStem(runID string, k, a int) string { return fmt.Sprintf("%sa%d", chunkPrefix(runID, k), a) }

// chunkPrefix is the part of chunkStem every attempt at chunk k shares.
func chunkPrefix(runID string, k int) string { return fmt.Sprintf("%s-c%04d", runID, k) }

// anyAttempt and anyChunk match what chunkStem adds after chunkPrefix, and
// after the run ID, for any attempt and chunk.
const (
	anyAttempt = `a[0-9]+`
	anyChunk   = `-c[0-9]{4,}` + anyAttempt
)

// fileName is the base name of a run's n-th object in a directory.
func fileName(stem string, n int) string {
	return fmt.Sprintf("part-%s-%05d.parquet", stem, n)
}

// checkRunID accepts run IDs made of letters, digits, '.', '_' and '-'.
func checkRunID(runID string) error {
	if runID == "" {
		return errors.New("run ID is empty")
	}
	for _, r := range runID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("run ID %q: only letters, digits, '.', '_' and '-' are allowed", runID)
		}
	}
	return nil
}

// checkDir validates a "/"-separated relative directory ("" allowed):
// no leading or trailing slash, no empty, "." or ".." segment, valid UTF-8.
func checkDir(what, dir string) error {
	if dir == "" {
		return nil
	}
	if !utf8.ValidString(dir) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, dir)
	}
	for _, seg := range strings.Split(dir, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%s %q: empty path segment (leading, trailing or double slash)", what, dir)
		case ".", "..":
			return fmt.Errorf("%s %q: %q segments are not allowed", what, dir, seg)
		}
		if strings.ContainsRune(seg, '\\') {
			return fmt.Errorf("%s %q: backslashes are not allowed", what, dir)
		}
	}
	return nil
}

// listPrefix turns a directory prefix into a listing prefix ending in "/".
func listPrefix(prefix string) (string, error) {
	if err := checkDir("prefix", prefix); err != nil {
		return "", err
	}
	if prefix == "" {
		return "", nil
	}
	return prefix + "/", nil
}

// joinKey joins non-empty "/"-separated parts.
func joinKey(parts ...string) string {
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	return strings.Join(nonEmpty, "/")
}
