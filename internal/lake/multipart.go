package lake

import (
	"context"
	"fmt"
	"path"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3UploadOptions returns a blob.WriterOptions.BeforeWrite hook for S3
// lakes (nil otherwise). gocloud.dev's s3blob sets the transfer manager's
// part size and concurrency from the writer options but leaves its
// multipart threshold at 16 MiB, which it reads whole into memory before
// the first part goes out: the hook makes the threshold one part, so that
// the upload starts after PartBytes and memory stays bounded by
// (UploadConcurrency+1) parts.
func (l *Lake) s3UploadOptions(opts WriterOptions) func(as func(any) bool) error {
	if l.s3 == nil {
		return nil
	}
	return func(as func(any) bool) error {
		var tm *transfermanager.Client
		if !as(&tm) {
			return fmt.Errorf("s3 upload: no transfer manager to configure")
		}
		*tm = *transfermanager.New(l.s3, func(o *transfermanager.Options) {
			o.PartSizeBytes = opts.PartBytes
			o.MultipartUploadThreshold = opts.PartBytes
			o.Concurrency = opts.UploadConcurrency
			o.RequestChecksumCalculation = l.s3Checksum
		})
		return nil
	}
}

// abortUploads aborts the unfinished S3 multipart uploads under dirPrefix
// whose object name matches re: a process killed during an upload leaves
// one behind, invisible to listings but stored. Other stores keep no
// such state (a GCS resumable upload or uncommitted Azure blocks expire by
// themselves), so this does nothing for them.
func (l *Lake) abortUploads(ctx context.Context, dirPrefix string, re *regexp.Regexp) error {
	if l.s3 == nil {
		return nil
	}
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(l.s3Bucket), Prefix: aws.String(l.keyPrefix + dirPrefix)}
	for {
		out, err := l.s3.ListMultipartUploads(ctx, in)
		if err != nil {
			return l.storeError("list unfinished uploads in", dirPrefix, err)
		}
		for _, u := range out.Uploads {
			key := aws.ToString(u.Key)
			if !re.MatchString(path.Base(key)) {
				continue
			}
			_, err := l.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(l.s3Bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil {
				return l.storeError(fmt.Sprintf("abort unfinished upload %s of", aws.ToString(u.UploadId)), key, err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
