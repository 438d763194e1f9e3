package lake

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// page is n bytes that compress somewhat, like a Parquet page of text.
func page(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "customer %d|%x|", r.IntN(1_000_000), r.Uint64())
	}
	return b.Bytes()[:n]
}

// The registered zstd codec is the small-window one, and a page of up to
// the window compresses to the very bytes arrow-go's codec writes, less the
// content checksum (its flag in the frame header, its 4 bytes at the end).
func TestZstdCodecSameBytesSmallerWindow(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	z, ok := c.(*zstdCodec)
	if !ok {
		t.Fatalf("zstd codec is %T, want *zstdCodec", c)
	}
	for _, n := range []int{100, 64 << 10, dataPageSize, dataPageSize + dataPageSize/2, zstdWindow} {
		src := page(n)
		for _, level := range []int{1, 3, compress.DefaultCompressionLevel} {
			got := z.EncodeLevel(nil, src, level)
			want := z.arrowZstd.EncodeLevel(nil, src, level)
			const checksumFlag = 1 << 2 // Frame_Header_Descriptor, after the 4-byte magic
			if want[4]&checksumFlag == 0 {
				t.Fatalf("arrow-go's codec no longer writes a checksum: zstdCodec's WithEncoderCRC(false) is moot")
			}
			want[4] &^= checksumFlag
			want = want[:len(want)-4]
			if !bytes.Equal(got, want) {
				t.Errorf("%d bytes at level %d: %d bytes compressed, arrow-go's codec %d", n, level, len(got), len(want))
			}
			back, err := z.DecodeWithError(nil, got)
			if err != nil || !bytes.Equal(back, src) {
				t.Errorf("%d bytes at level %d: round trip failed (%v)", n, level, err)
			}
		}
	}
}

// An encoder of the pool allocates a fraction of what arrow-go's (4 MiB
// window at level 1, 8 MiB of history) does for one page.
func TestZstdEncoderMemory(t *testing.T) {
	src := page(dataPageSize)
	dst := make([]byte, 0, 2*len(src))
	alloc := func(newEnc func() *zstd.Encoder) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		enc := newEnc()
		enc.EncodeAll(src, dst)
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(enc)
		return after.TotalAlloc - before.TotalAlloc
	}
	z := &zstdCodec{pools: map[zstd.EncoderLevel]*sync.Pool{}}
	ours := alloc(func() *zstd.Encoder { return z.pool(1).New().(*zstd.Encoder) })
	arrows := alloc(func() *zstd.Encoder {
		enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(1)),
			zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true))
		if err != nil {
			t.Fatal(err)
		}
		return enc
	})
	t.Logf("one encoder and one %d-byte page: %d bytes allocated, with arrow-go's options %d", len(src), ours, arrows)
	if ours > 2*zstdWindow+1<<20 || ours*2 > arrows {
		t.Errorf("encoder allocated %d bytes, want at most %d and under half of arrow-go's %d", ours, 2*zstdWindow+1<<20, arrows)
	}
}

// A page that does not compress is stored in raw blocks without being
// compressed, and decodes to itself; a page that compresses is compressed.
func TestZstdStoresIncompressiblePages(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{4*zstdSample - 1, 4 * zstdSample, 4*zstdSample + 1, dataPageSize, dataPageSize + 7} {
		random := make([]byte, n)
		for i := range random {
			random[i] = byte(r.Uint32())
		}
		for _, src := range [][]byte{random, page(n)} {
			got := c.EncodeLevel(nil, src, 1)
			stored := n >= 4*zstdSample && &src[0] == &random[0]
			blocks := (n + 128<<10 - 1) / (128 << 10)
			if isStored := len(got) == 9+3*blocks+n; isStored != stored {
				t.Errorf("%d bytes (random: %v): %d bytes encoded, stored %v, want %v", n, &src[0] == &random[0], len(got), isStored, stored)
			}
			back, err := c.(compress.ErrorCodec).DecodeWithError(nil, got)
			if err != nil || !bytes.Equal(back, src) {
				t.Errorf("%d bytes: round trip failed (%v)", n, err)
			}
			if dec, err := zstd.NewReader(nil); err != nil {
				t.Fatal(err)
			} else if back, err := dec.DecodeAll(got, nil); err != nil || !bytes.Equal(back, src) {
				t.Errorf("%d bytes: klauspost's decoder: round trip failed (%v)", n, err)
			}
		}
	}
}
