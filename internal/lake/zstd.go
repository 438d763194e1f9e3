package lake

import (
	"encoding/binary"
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
// no frame checksum, which stores pages that do not compress without trying
// to (see incompressible): decoding and streaming are arrow-go's.
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
	if incompressible(enc, src, dst[:0]) {
		return storeFrame(dst[:0], src)
	}
	return enc.EncodeAll(src, dst[:0])
}

// zstdSample is the part of a page that EncodeLevel compresses first to
// tell whether the page compresses at all: 1/16 of a data page, from its
// middle (past a nullable column's definition levels). Pages under four
// samples are compressed whole.
const zstdSample = 32 << 10

// incompressible is true when src is at least four samples long and its
// middle zstdSample bytes compress by less than 1/64 (1.6%). Random UUIDs,
// doubles of random digits and delta-packed values of no pattern do not
// compress: on the benchmark table zstd spent 65 M instructions (of the
// writer's ~1.2 G) on such pages for a few hundred bytes in all. The sample
// costs 1/16 of a page's compression where the page does compress; a page
// whose values repeat mostly beyond a sample's reach (a 16-byte key of some
// million distinct values, say) is stored although zstd would have shrunk
// it a little. scratch receives the compressed sample.
func incompressible(enc *zstd.Encoder, src, scratch []byte) bool {
	if len(src) < 4*zstdSample {
		return false
	}
	mid := len(src)/2 - zstdSample/2
	c := enc.EncodeAll(src[mid:mid+zstdSample], scratch)
	return len(c) > zstdSample-zstdSample/64
}

// storeFrame appends to dst a zstd frame (RFC 8878) holding src in raw,
// uncompressed blocks: the magic number, a frame header of a single segment
// with a 4-byte content size and no checksum, and blocks of at most 128 KiB
// (Block_Maximum_Size), each after its 3-byte header (last-block flag, block
// type 0 = raw, size). Every zstd decoder reads it back as src.
func storeFrame(dst, src []byte) []byte {
	const (
		singleSegment = 1 << 5
		contentSize4  = 2 << 6 // Frame_Content_Size_flag 2: 4 bytes
		maxBlock      = 128 << 10
	)
	dst = append(dst, 0x28, 0xB5, 0x2F, 0xFD, singleSegment|contentSize4)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
	for {
		n := min(len(src), maxBlock)
		last := n == len(src)
		h := uint32(n) << 3 // Block_Type 0 (raw) in bits 1-2
		if last {
			h |= 1
		}
		dst = append(dst, byte(h), byte(h>>8), byte(h>>16))
		dst = append(dst, src[:n]...)
		src = src[n:]
		if last {
			return dst
		}
	}
}
