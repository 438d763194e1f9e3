package testdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object stores for lake tests, started by scripts/test-objectstores.sh.
// Each helper creates a fresh bucket (or container) for the test and
// removes it at cleanup. An unreachable server skips the test locally and
// fails it when CI=true.
const (
	DefaultS3Endpoint   = "http://127.0.0.1:7070" // versitygw
	DefaultS3AccessKey  = "wharftest"
	DefaultS3SecretKey  = "wharftest-secret"
	DefaultS3Region     = "us-east-1"
	DefaultGCSEmulator  = "127.0.0.1:4443"  // fake-gcs-server
	DefaultAzureAddress = "127.0.0.1:10000" // Azurite

	// AzuriteAccount and AzuriteKey are Azurite's documented development
	// account, the same on every installation.
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// reachable dials host:port, or skips/fails the test.
func reachable(t testing.TB, what, hostport string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", hostport, 2*time.Second)
	if err != nil {
		Unavailable(t, what, err)
		return
	}
	c.Close()
}

// S3Server is a fresh bucket on the test S3 server (TEST_S3_ENDPOINT,
// TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY; default versitygw on :7070).
type S3Server struct {
	Endpoint, Region, AccessKey, SecretKey string
	Bucket                                 string
	// Client talks to the server directly, independently of wharf.
	Client *s3.Client
}

// S3Bucket creates a bucket for the test, emptied and removed at cleanup.
func S3Bucket(t testing.TB) *S3Server {
	t.Helper()
	s := &S3Server{
		Endpoint:  envOr("TEST_S3_ENDPOINT", DefaultS3Endpoint),
		Region:    DefaultS3Region,
		AccessKey: envOr("TEST_S3_ACCESS_KEY", DefaultS3AccessKey),
		SecretKey: envOr("TEST_S3_SECRET_KEY", DefaultS3SecretKey),
		Bucket:    "wharf-test-" + RandomSuffix(),
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatalf("TEST_S3_ENDPOINT %q: %v", s.Endpoint, err)
	}
	reachable(t, "S3 server (versitygw at "+s.Endpoint+")", u.Host)
	s.Client = s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	ctx := context.Background()
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		t.Fatalf("create S3 bucket %s: %v", s.Bucket, err)
	}
	t.Cleanup(func() { s.remove(t) })
	return s
}

// URL returns the lake URL of prefix in the bucket, as a user writes it.
func (s *S3Server) URL(prefix string) string {
	u := "s3://" + s.Bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u + "?endpoint=" + s.Endpoint + "&use_path_style=true&disable_https=true&region=" + s.Region
}

// IcebergIO returns iceberg-go's S3 FileIO properties for the server and
// its keys: what an Iceberg catalog (or reader) outside wharf is given to
// reach the bucket.
func (s *S3Server) IcebergIO() iceberg.Properties {
	return iceberg.Properties{
		iceio.S3EndpointURL: s.Endpoint, iceio.S3Region: s.Region,
		iceio.S3AccessKeyID: s.AccessKey, iceio.S3SecretAccessKey: s.SecretKey,
		iceio.S3ForceVirtualAddressing: "false",
	}
}

// Secret returns the content of a wharf lake secret holding the keys.
func (s *S3Server) Secret() string {
	b, _ := json.Marshal(map[string]string{"access_key_id": s.AccessKey, "secret_access_key": s.SecretKey})
	return string(b)
}

// Keys lists every object key of the bucket, sorted.
func (s *S3Server) Keys(t testing.TB) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list bucket %s: %v", s.Bucket, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Uploads lists the keys of the bucket's unfinished multipart uploads.
func (s *S3Server) Uploads(t testing.TB) []string {
	t.Helper()
	out, err := s.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket)})
	if err != nil {
		t.Fatalf("list multipart uploads of %s: %v", s.Bucket, err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// Get reads an object whole.
func (s *S3Server) Get(t testing.TB, key string) []byte {
	t.Helper()
	out, err := s.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(out.Body); err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return buf.Bytes()
}

func (s *S3Server) remove(t testing.TB) {
	ctx := context.Background()
	if out, err := s.Client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket)}); err == nil {
		for _, u := range out.Uploads {
			_, _ = s.Client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.Bucket), Key: u.Key, UploadId: u.UploadId})
		}
	}
	for _, k := range s.Keys(t) {
		_, _ = s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k)})
	}
	if _, err := s.Client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		t.Logf("remove S3 bucket %s: %v", s.Bucket, err)
	}
}

// GCSBucket creates a bucket on the GCS emulator (TEST_GCS_EMULATOR,
// default fake-gcs-server on 127.0.0.1:4443), points gocloud.dev's gcsblob
// at it (STORAGE_EMULATOR_HOST, for the test only) and returns its name.
func GCSBucket(t *testing.T) string {
	t.Helper()
	host := envOr("TEST_GCS_EMULATOR", DefaultGCSEmulator)
	reachable(t, "GCS emulator (fake-gcs-server at "+host+")", host)
	t.Setenv("STORAGE_EMULATOR_HOST", host)
	name := "wharf-test-" + RandomSuffix()
	body := strings.NewReader(fmt.Sprintf(`{"name": %q}`, name))
	resp, err := http.Post("http://"+host+"/storage/v1/b?project=wharf-test", "application/json", body)
	if err != nil {
		t.Fatalf("create GCS bucket %s: %v", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create GCS bucket %s: HTTP %s", name, resp.Status)
	}
	return name
}

// GCSIcebergIO returns iceberg-go's GCS FileIO properties for the GCS
// emulator (no credentials, as the emulator wants).
func GCSIcebergIO() iceberg.Properties {
	return iceberg.Properties{iceio.GCSEndpoint: "http://" + envOr("TEST_GCS_EMULATOR", DefaultGCSEmulator) + "/storage/v1/", iceio.GCSNoAuth: "true"}
}

// GCSKeys lists every object name of the emulator's bucket, sorted.
func GCSKeys(t testing.TB, bucket string) []string {
	t.Helper()
	resp, err := http.Get("http://" + envOr("TEST_GCS_EMULATOR", DefaultGCSEmulator) + "/storage/v1/b/" + bucket + "/o")
	if err != nil {
		t.Fatalf("list GCS bucket %s: %v", bucket, err)
	}
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
		NextPageToken string `json:"nextPageToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK || list.NextPageToken != "" {
		t.Fatalf("list GCS bucket %s: HTTP %s, %v (or more than one page)", bucket, resp.Status, err)
	}
	keys := make([]string, len(list.Items))
	for i, it := range list.Items {
		keys[i] = it.Name
	}
	return keys
}

// AzureServer is a fresh container on the Azure emulator (TEST_AZURE_ADDRESS,
// default Azurite on 127.0.0.1:10000) with its development account.
type AzureServer struct {
	Address, Container string
	Client             *azblob.Client
}

// AzureContainer creates a container for the test, removed at cleanup.
func AzureContainer(t testing.TB) *AzureServer {
	t.Helper()
	a := &AzureServer{Address: envOr("TEST_AZURE_ADDRESS", DefaultAzureAddress), Container: "wharf-test-" + RandomSuffix()}
	reachable(t, "Azure emulator (Azurite at "+a.Address+")", a.Address)
	cred, err := azblob.NewSharedKeyCredential(AzuriteAccount, AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	a.Client, err = azblob.NewClientWithSharedKeyCredential("http://"+a.Address+"/"+AzuriteAccount, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Client.CreateContainer(context.Background(), a.Container, nil); err != nil {
		t.Fatalf("create Azure container %s: %v", a.Container, err)
	}
	t.Cleanup(func() { _, _ = a.Client.DeleteContainer(context.Background(), a.Container, nil) })
	return a
}

// URL returns the lake URL of prefix in the container.
func (a *AzureServer) URL(prefix string) string {
	u := "azblob://" + a.Container
	if prefix != "" {
		u += "/" + prefix
	}
	return u + "?domain=" + a.Address + "&protocol=http&localemu=true"
}

// Secret returns the content of a wharf lake secret holding the
// development account's key.
func (a *AzureServer) Secret() string {
	b, _ := json.Marshal(map[string]string{"account_name": AzuriteAccount, "account_key": AzuriteKey})
	return string(b)
}
