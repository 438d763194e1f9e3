package lake

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcp"
	"golang.org/x/oauth2/google"

	"github.com/wharf-data/wharf/internal/secret"
)

// This file is the only place that knows about URL schemes. Each object
// store is reached through its gocloud.dev/blob driver; everything else
// works on *blob.Bucket.

// supportedSchemes is listed in the error for an unknown scheme.
var supportedSchemes = []string{"file", "s3", "gs", "azblob"}

// Options tune how Open reaches an object store, beyond what the URL says.
// The zero value means the store's standard credentials and the defaults.
type Options struct {
	// Credentials replace the store's standard credential chain; nil keeps
	// it. They come from the lake's secret (see ParseCredentials).
	Credentials *Credentials
	// MaxAttempts is how many times an S3 request is tried (the first try
	// included) when it fails with a transient error — a 5xx, a timeout,
	// throttling — backing off exponentially with jitter up to MaxBackoff.
	// Permanent errors (no such bucket, access denied) are not retried.
	// Default 5. Azure: MaxAttempts-1 retries likewise; GCS: the client
	// library's own retry policy.
	MaxAttempts int
	// MaxBackoff caps the wait between two attempts (default 20s).
	MaxBackoff time.Duration
}

// Defaults of Options.
const (
	DefaultMaxAttempts = 5
	DefaultMaxBackoff  = 20 * time.Second
)

func (o Options) withDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	return o
}

// store is an opened bucket and what Lake needs to know about it.
type store struct {
	bucket    *blob.Bucket // prefixed with keyPrefix when the URL has a path
	url       string       // printable, credentials redacted
	root      string       // the location other engines name: scheme://bucket/prefix, file:///abs
	keyPrefix string       // the URL's path inside the bucket, "" or ending in "/"
	s3        *s3.Client   // set for s3:// lakes (multipart upload clean-up)
	s3Bucket  string
	// s3Checksum is the client config's request checksum policy, which
	// the transfer manager needs to be told again.
	s3Checksum aws.RequestChecksumCalculation
}

// openBucket opens the bucket behind a lake URL.
func openBucket(ctx context.Context, raw string, opts Options) (*store, error) {
	opts = opts.withDefaults()
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("lake URL is empty")
	}
	if !strings.Contains(raw, "://") {
		if err := fileWithoutSlashes(raw); err != nil {
			return nil, err
		}
		// A plain path, absolute or relative: a directory on this machine.
		if opts.Credentials != nil {
			return nil, fmt.Errorf("lake %s: a local directory takes no secret", raw)
		}
		return openFileBucket(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the raw URL, which may hold a secret.
		return nil, fmt.Errorf("lake URL %s: not a valid URL", secret.RedactURL(raw))
	}
	printable := secret.RedactURL(raw)
	scheme := strings.ToLower(u.Scheme)
	if scheme == "file" {
		if err := checkFileURL(u, printable); err != nil {
			return nil, err
		}
		if opts.Credentials != nil {
			return nil, fmt.Errorf("lake %s: a local directory takes no secret", printable)
		}
		return openFileBucket(filepath.FromSlash(u.Path))
	}
	if scheme != "s3" && scheme != "gs" && scheme != "azblob" {
		return nil, fmt.Errorf("lake URL %s: scheme %q is not supported (supported: %s)", printable, u.Scheme, strings.Join(supportedSchemes, ", "))
	}
	if u.User != nil {
		return nil, fmt.Errorf("lake URL %s: credentials never go in the URL: name a secret on the lake, or use the store's standard credentials", printable)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("lake URL %s: no bucket (want %s://BUCKET/PREFIX)", printable, scheme)
	}
	prefix := strings.Trim(u.Path, "/")
	if err := checkDir("prefix", prefix); err != nil {
		return nil, fmt.Errorf("lake URL %s: %w", printable, err)
	}
	st := &store{url: printable}
	switch scheme {
	case "s3":
		err = openS3(ctx, u, opts, st)
	case "gs":
		err = openGCS(ctx, u, opts, st)
	case "azblob":
		err = openAzure(ctx, u, opts, st)
	}
	if err != nil {
		return nil, fmt.Errorf("lake URL %s: %w", printable, err)
	}
	st.root = scheme + "://" + u.Host
	if prefix != "" {
		st.keyPrefix = prefix + "/"
		st.bucket = blob.PrefixedBucket(st.bucket, st.keyPrefix)
		st.root += "/" + prefix
	}
	return st, nil
}

// s3 query parameters read here; the rest go to gocloud.dev/aws
// (region, endpoint, profile, anonymous, hostname_immutable, dualstack,
// fips, rate_limiter_capacity, role, request_checksum_calculation,
// response_checksum_validation).
const (
	s3UsePathStyle       = "use_path_style"
	s3LegacyUsePathStyle = "s3ForcePathStyle"
	s3DisableHTTPS       = "disable_https"
	s3Accelerate         = "accelerate"
	s3SSEType            = "ssetype"
	s3KMSKeyID           = "kmskeyid"
)

// Check reports, without reaching the store, what opening the lake at raw
// would refuse that the catalog's check of the URL's form does not: an
// s3:// lake whose region neither the URL (?region=) nor the AWS
// configuration (AWS_REGION, the shared config's profile) gives, an s3://
// query parameter that is not known, a file:// URL with a host, user or
// query, and file: without its slashes.
func Check(ctx context.Context, raw string) error {
	if err := fileWithoutSlashes(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	if strings.EqualFold(u.Scheme, "file") {
		return checkFileURL(u, secret.RedactURL(raw))
	}
	if !strings.EqualFold(u.Scheme, "s3") {
		return nil
	}
	if _, err := s3Config(ctx, u, Options{}.withDefaults()); err != nil {
		return fmt.Errorf("lake URL %s: %w", secret.RedactURL(raw), err)
	}
	return nil
}

// s3Setup is what an S3 client is built from.
type s3Setup struct {
	cfg    aws.Config
	s3opts []func(*s3.Options)
	bopts  s3blob.Options
}

// openS3 builds the S3 client the way gocloud.dev's s3blob URL opener does
// (same query parameters), then sets wharf's credentials and retry policy.
func openS3(ctx context.Context, u *url.URL, opts Options, st *store) error {
	setup, err := s3Config(ctx, u, opts)
	if err != nil {
		return err
	}
	cfg, s3opts, bopts := setup.cfg, setup.s3opts, setup.bopts
	client := s3.NewFromConfig(cfg, s3opts...)
	bopts.RequestChecksumCalculation = cfg.RequestChecksumCalculation
	b, err := s3blob.OpenBucket(ctx, client, u.Host, &bopts)
	if err != nil {
		return err
	}
	st.bucket, st.s3, st.s3Bucket, st.s3Checksum = b, client, u.Host, cfg.RequestChecksumCalculation
	return nil
}

// s3Config reads an s3:// URL's query parameters and the AWS configuration
// into a client setup, reaching no server.
func s3Config(ctx context.Context, u *url.URL, opts Options) (*s3Setup, error) {
	q := u.Query()
	var s3opts []func(*s3.Options)
	for _, key := range []string{s3UsePathStyle, s3LegacyUsePathStyle, s3DisableHTTPS, s3Accelerate} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		q.Del(key)
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("query parameter %s=%q: want true or false", key, v)
		}
		switch key {
		case s3UsePathStyle, s3LegacyUsePathStyle:
			s3opts = append(s3opts, func(o *s3.Options) { o.UsePathStyle = b })
		case s3DisableHTTPS:
			s3opts = append(s3opts, func(o *s3.Options) { o.EndpointOptions.DisableHTTPS = b })
		case s3Accelerate:
			s3opts = append(s3opts, func(o *s3.Options) { o.UseAccelerate = b })
		}
	}
	var bopts s3blob.Options
	if v := q.Get(s3SSEType); v != "" {
		q.Del(s3SSEType)
		found := false
		for _, t := range s3types.ServerSideEncryptionAes256.Values() {
			if strings.EqualFold(string(t), v) {
				bopts.EncryptionType, found = t, true
			}
		}
		if !found {
			return nil, fmt.Errorf("query parameter %s=%q: want AES256, aws:kms or aws:kms:dsse", s3SSEType, v)
		}
	}
	if v := q.Get(s3KMSKeyID); v != "" {
		q.Del(s3KMSKeyID)
		bopts.KMSEncryptionID = v
	}
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, err
	}
	if c := opts.Credentials; c != nil {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken))
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no region: add ?region=REGION to the URL or set AWS_REGION")
	}
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.MaxAttempts
			o.MaxBackoff = opts.MaxBackoff
			// No client-side retry quota: a long run must not stop
			// retrying because earlier requests used the quota up.
			o.RateLimiter = ratelimit.None
		})
	}
	// S3-compatible stores often send no response checksum; the SDK would
	// log a line per read about it.
	s3opts = append(s3opts, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	return &s3Setup{cfg: cfg, s3opts: s3opts, bopts: bopts}, nil
}

// openGCS opens a gs:// bucket through gocloud.dev's gcsblob: Application
// Default Credentials (or STORAGE_EMULATOR_HOST for an emulator), or the
// lake secret's Google credentials.
func openGCS(ctx context.Context, u *url.URL, opts Options, st *store) error {
	bucketURL := &url.URL{Scheme: "gs", Host: u.Host, RawQuery: u.RawQuery}
	if opts.Credentials == nil {
		b, err := blob.OpenBucket(ctx, bucketURL.String())
		if err != nil {
			return err
		}
		st.bucket = b
		return nil
	}
	creds, err := google.CredentialsFromJSON(ctx, opts.Credentials.raw, storage.ScopeReadWrite)
	if err != nil {
		return fmt.Errorf("lake secret: not usable Google credentials")
	}
	client, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
	if err != nil {
		return err
	}
	opener := &gcsblob.URLOpener{Client: client, TokenSource: gcp.CredentialsTokenSource(creds)}
	b, err := opener.OpenBucketURL(ctx, bucketURL)
	if err != nil {
		return err
	}
	st.bucket = b
	return nil
}

// openAzure opens an azblob:// container through gocloud.dev's azureblob:
// AZURE_STORAGE_* variables or Azure identity, or the lake secret's
// account key or connection string.
func openAzure(ctx context.Context, u *url.URL, opts Options, st *store) error {
	bucketURL := &url.URL{Scheme: "azblob", Host: u.Host, RawQuery: u.RawQuery}
	c := opts.Credentials
	if c == nil {
		b, err := blob.OpenBucket(ctx, bucketURL.String())
		if err != nil {
			return err
		}
		st.bucket = b
		return nil
	}
	clientOpts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: int32(opts.MaxAttempts - 1), MaxRetryDelay: opts.MaxBackoff},
	}}
	svc := azureblob.NewDefaultServiceURLOptions()
	var makeClient func(azureblob.ServiceURL, azureblob.ContainerName) (*container.Client, error)
	if c.ConnectionString != "" {
		if svc.AccountName == "" {
			svc.AccountName = connectionStringField(c.ConnectionString, "AccountName")
		}
		makeClient = func(_ azureblob.ServiceURL, name azureblob.ContainerName) (*container.Client, error) {
			return container.NewClientFromConnectionString(c.ConnectionString, string(name), clientOpts)
		}
	} else {
		svc.AccountName = c.AccountName
		makeClient = func(svcURL azureblob.ServiceURL, name azureblob.ContainerName) (*container.Client, error) {
			cred, err := azblob.NewSharedKeyCredential(c.AccountName, c.AccountKey)
			if err != nil {
				return nil, fmt.Errorf("lake secret: account_key is not a valid Azure storage key")
			}
			containerURL, err := url.JoinPath(string(svcURL), string(name))
			if err != nil {
				return nil, err
			}
			return container.NewClientWithSharedKeyCredential(containerURL, cred, clientOpts)
		}
	}
	opener := &azureblob.URLOpener{MakeClient: makeClient, ServiceURLOptions: *svc}
	b, err := opener.OpenBucketURL(ctx, bucketURL)
	if err != nil {
		return err
	}
	st.bucket = b
	return nil
}

// connectionStringField returns a field of an Azure connection string.
func connectionStringField(cs, key string) string {
	for part := range strings.SplitSeq(cs, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// openFileBucket opens a local directory, creating it when missing.
// Temporary files are written next to their final name (a rename across
// file systems would fail) and no .attrs sidecar files are written, so the
// lake directory holds nothing but data files.
func openFileBucket(dir string) (*store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lake directory %s: %w", dir, err)
	}
	printable := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	b, err := fileblob.OpenBucket(abs, &fileblob.Options{
		CreateDir: true,
		NoTempDir: true,
		Metadata:  fileblob.MetadataDontWrite,
	})
	if err != nil {
		return nil, fmt.Errorf("lake %s: open directory: %w", printable, err)
	}
	return &store{bucket: b, url: printable, root: strings.TrimSuffix(printable, "/")}, nil
}

// checkFileURL refuses what a file:// lake URL may not hold.
func checkFileURL(u *url.URL, printable string) error {
	if u.Host != "" && u.Host != "localhost" {
		return fmt.Errorf("lake URL %s: file URLs take no host (want file:///absolute/path)", printable)
	}
	if u.User != nil {
		return fmt.Errorf("lake URL %s: file URLs take no user", printable)
	}
	if len(u.Query()) > 0 {
		return fmt.Errorf("lake URL %s: file URLs take no query parameters (got %s)", printable, strings.Join(sortedKeys(u.Query()), ", "))
	}
	if u.Path == "" {
		return fmt.Errorf("lake URL %s: no directory (want file:///absolute/path)", printable)
	}
	return nil
}

// fileWithoutSlashes refuses a file: URL written without "//" (file:/data),
// which would otherwise be taken for a relative path named "file:...".
func fileWithoutSlashes(raw string) error {
	if len(raw) >= 5 && strings.EqualFold(raw[:5], "file:") && !strings.Contains(raw, "://") {
		return fmt.Errorf("lake URL %s: want file:///absolute/path (three slashes), or a plain path", secret.RedactURL(raw))
	}
	return nil
}

// Identity is the place a lake URL names, for telling whether two URLs
// name one place: a file URL (or a plain path) as its cleaned absolute
// directory, symbolic links followed (file:///data/lake for
// file://localhost/data/./lake/), an object store URL as
// scheme://BUCKET/PREFIX without a trailing slash, with its query
// parameters sorted (an endpoint names another server; its case and
// trailing slash do not).
// A URL that does not parse is itself.
func Identity(raw string) string {
	if !strings.Contains(raw, "://") {
		if abs, err := filepath.Abs(raw); err == nil {
			return fileIdentity(abs)
		}
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "file" {
		return fileIdentity(filepath.FromSlash(path.Clean("/" + u.Path)))
	}
	id := scheme + "://" + strings.ToLower(u.Host)
	if p := strings.Trim(path.Clean("/"+u.Path), "/"); p != "" {
		id += "/" + p
	}
	q := u.Query()
	for k, vs := range q {
		for i, v := range vs {
			if strings.EqualFold(k, "endpoint") {
				vs[i] = strings.TrimRight(strings.ToLower(v), "/")
			}
		}
	}
	if enc := q.Encode(); enc != "" {
		id += "?" + enc
	}
	return id
}

// fileIdentity is a local directory's identity: its path with symbolic
// links followed as far as it exists, as a file URL.
func fileIdentity(dir string) string {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
}

func sortedKeys(q url.Values) []string {
	ks := make([]string, 0, len(q))
	for k := range q {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
