package lake_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/testdb"
)

// BenchmarkWriteParquet encodes 1M rows of the 12 mixed columns (zstd,
// default options) into a local lake and reports input MB/s (Arrow buffer
// bytes), rows/s, the output size and allocations.
func BenchmarkWriteParquet(b *testing.B) {
	l, err := lake.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	benchWrite(b, l)
}

// BenchmarkWriteParquetS3 is BenchmarkWriteParquet into an S3 lake
// (versitygw on this machine): the same encoding, streamed as a multipart
// upload. The ratio of the two is the cost of the object store.
func BenchmarkWriteParquetS3(b *testing.B) {
	s := testdb.S3Bucket(b)
	benchWrite(b, openStore(b, s.URL("bench"), s.Secret(), lake.Options{}))
}

func benchWrite(b *testing.B, l *lake.Lake) {
	const rows, batch = 1 << 20, 64 << 10
	recs := make([]arrow.RecordBatch, 0, rows/batch)
	var inBytes int64
	for first := 0; first < rows; first += batch {
		rec := buildMixed(b, first, batch)
		defer rec.Release()
		recs = append(recs, rec)
		for _, c := range rec.Columns() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					inBytes += int64(buf.Len())
				}
			}
			if c.Data().Children() != nil {
				for _, ch := range c.Data().Children() {
					for _, buf := range ch.Buffers() {
						if buf != nil {
							inBytes += int64(buf.Len())
						}
					}
				}
			}
		}
	}
	ctx := context.Background()
	b.SetBytes(inBytes)
	b.ReportAllocs()
	b.ResetTimer()
	var outBytes int64
	for i := 0; b.Loop(); i++ {
		w, err := l.NewRunWriter(ctx, "bench/t", "r"+strconv.Itoa(i), recs[0].Schema(), nil, lake.WriterOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := w.Write(rec); err != nil {
				b.Fatal(err)
			}
		}
		files, err := w.Close()
		if err != nil {
			b.Fatal(err)
		}
		outBytes = 0
		for _, f := range files {
			outBytes += f.Bytes
		}
		b.StopTimer()
		if err := w.Abort(); err != nil { // delete the files: keep the disk use flat
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(outBytes), "file-bytes")
}
