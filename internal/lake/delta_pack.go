package lake

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// DELTA_BINARY_PACKED, as the Parquet spec (Encodings.md) lays it out, for
// ownColumn's integer pages and the lengths and prefix lengths of its
// DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY pages: blocks of 128 deltas
// in 4 miniblocks of 32, the block size arrow-go, arrow-rs and
// parquet-java write.
const (
	deltaBlock      = 128
	deltaMiniBlocks = 4
	deltaMini       = deltaBlock / deltaMiniBlocks
)

// deltaPacker encodes a page's values DELTA_BINARY_PACKED as they come,
// a block at a time, as arrow-go's encoder does, so that its size so far
// is what decides where a page is cut. Deltas are taken at the values'
// width and wrap there, as the spec has it: an INT32 column's miniblocks
// are at most 32 bits wide (readers reject wider ones), an INT64's 64.
type deltaPacker[T int32 | int64] struct {
	n      int           // values added
	first  T             // the first of them
	last   T             // the latest
	deltas [deltaBlock]T // of the block being filled
	nd     int           // deltas in it
	blocks []byte        // the full blocks, encoded
	packed [deltaBlock]uint64
}

// add appends v.
func (p *deltaPacker[T]) add(v T) { p.addAll([]T{v}) }

// addAll appends vs.
func (p *deltaPacker[T]) addAll(vs []T) {
	if len(vs) == 0 {
		return
	}
	if p.n == 0 {
		p.first, p.last = vs[0], vs[0]
		p.n++
		vs = vs[1:]
	}
	p.n += len(vs)
	last := p.last
	for _, v := range vs {
		p.deltas[p.nd] = v - last
		last = v
		p.nd++
		if p.nd == deltaBlock {
			p.blocks = p.appendBlock(p.blocks)
		}
	}
	p.last = last
}

// size is the bytes of the full blocks encoded so far.
func (p *deltaPacker[T]) size() int { return len(p.blocks) }

// appendTo appends the encoded values to dst: the header (block size,
// miniblocks per block, value count, first value as a zigzag varint),
// then the blocks, the last one possibly short.
func (p *deltaPacker[T]) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, deltaBlock)
	dst = binary.AppendUvarint(dst, deltaMiniBlocks)
	dst = binary.AppendUvarint(dst, uint64(p.n))
	dst = binary.AppendVarint(dst, int64(p.first)) // Go's varint is the zigzag one
	dst = append(dst, p.blocks...)
	if p.nd > 0 {
		dst = p.appendBlock(dst)
	}
	return dst
}

// reset empties the packer for the next page.
func (p *deltaPacker[T]) reset() {
	p.n, p.nd, p.first, p.last = 0, 0, 0, 0
	p.blocks = p.blocks[:0]
}

// appendBlock appends the block of the nd deltas pending and empties it:
// its minimum delta (zigzag varint), one bit width per miniblock and the
// miniblocks, each 32 values of delta minus minimum, bit-packed least
// significant bit first. A block that needs fewer miniblocks still lists
// four widths (0 for those unused) but carries no bytes for them; a last
// miniblock is padded with zeros to 32 values.
func (p *deltaPacker[T]) appendBlock(dst []byte) []byte {
	n := p.nd
	p.nd = 0
	minDelta := p.deltas[0]
	for _, d := range p.deltas[1:n] {
		minDelta = min(minDelta, d)
	}
	// delta - minDelta at T's width, as an unsigned number.
	mask := ^uint64(0) >> (64 - 8*unsafe.Sizeof(minDelta))
	for k, d := range p.deltas[:n] {
		p.packed[k] = uint64(d-minDelta) & mask
	}
	clear(p.packed[n:])
	dst = binary.AppendVarint(dst, int64(minDelta))
	used := (n + deltaMini - 1) / deltaMini
	var widths [deltaMiniBlocks]int
	for m := range used {
		var or uint64
		for _, d := range p.packed[m*deltaMini : (m+1)*deltaMini] {
			or |= d
		}
		widths[m] = bits.Len64(or)
	}
	for _, w := range widths {
		dst = append(dst, byte(w))
	}
	for m := range used {
		dst = appendBitPacked(dst, (*[deltaMini]uint64)(p.packed[m*deltaMini:]), widths[m])
	}
	return dst
}

// appendBitPacked appends 32 values, each width (0 to 64) bits wide,
// packed least significant bit first: 4 × width bytes.
func appendBitPacked(dst []byte, vals *[deltaMini]uint64, width int) []byte {
	if width == 0 {
		return dst
	}
	var acc uint64 // bits not yet appended, n of them
	n := 0
	for _, v := range vals {
		acc |= v << n
		n += width
		if n >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			n -= 64
			acc = 0
			if n > 0 { // v's high n bits did not fit
				acc = v >> (width - n)
			}
		}
	}
	// 32 × width bits: 0 or 32 of them are left.
	if n > 0 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(acc))
	}
	return dst
}
