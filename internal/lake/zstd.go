package lake

import (
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdWindow is the window of the zstd encoders that compress Parquet pages:
// twice dataPageSize, so that a whole page (which may pass dataPageSize by
// one write batch) is still one match window and the output is the same as
// with any larger window.
//
// arrow-go's own zstd codec keeps klauspost's default window for the level
// (4 MiB at level 1), and an encoder allocates twice its window as history
// for EncodeAll whatever the input's size: 8 MiB per encoder in use, one per
// stream compressing at that moment, for pages of about dataPageSize. With
// this window it is 2 MiB. See docs/design-notes.md ("Page and row-group
// sizes").
const zstdWindow = 2 * dataPageSize

// zstdCodec is arrow-go's zstd codec with encoders of window zstdWindow and
// no frame checksum: decoding and streaming are arrow-go's.
//
// arrow-go's encoders end each page's frame with a content checksum (xxhash64
// of the page), 1.1% of the writer's instructions on the benchmark table.
// Parquet has its own optional page CRC (arrow-go writes none by default),
// and a corrupt compressed page already fails to decode; without the
// checksum a page is 4 bytes shorter and decodes to the same values.
type zstdCodec struct {
	arrowZstd
	mu    sync.Mutex
	pools map[zstd.EncoderLevel]*sync.Pool
}

// arrowZstd is what arrow-go's zstd codec implements.
type arrowZstd interface {
	compress.Codec
	compress.StreamingCodec
	compress.ErrorCodec
}

func init() {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic(err)
	}
	// A panic here means an arrow-go upgrade changed its zstd codec: look
	// again at whether this one is still needed.
	compress.RegisterCodec(compress.Codecs.Zstd, &zstdCodec{arrowZstd: c.(arrowZstd), pools: map[zstd.EncoderLevel]*sync.Pool{}})
}

func (z *zstdCodec) pool(level int) *sync.Pool {
	l := zstd.EncoderLevelFromZstd(level)
	if level == compress.DefaultCompressionLevel {
		l = zstd.SpeedDefault
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	p, ok := z.pools[l]
	if !ok {
		p = &sync.Pool{New: func() any {
			// arrow-go's options, the window and no checksum.
			enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l),
				zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(zstdWindow),
				zstd.WithEncoderCRC(false))
			if err != nil {
				panic(err) // the options are constants
			}
			return enc
		}}
		z.pools[l] = p
	}
	return p
}

func (z *zstdCodec) Encode(dst, src []byte) []byte {
	return z.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

func (z *zstdCodec) EncodeLevel(dst, src []byte, level int) []byte {
	p := z.pool(level)
	enc := p.Get().(*zstd.Encoder)
	defer p.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}
