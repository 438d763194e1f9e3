package lake

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// DELTA_BINARY_PACKED, as the Parquet spec (Encodings.md) lays it out, for
// the lengths and prefix lengths of bytesColumn's DELTA_LENGTH_BYTE_ARRAY
// and DELTA_BYTE_ARRAY pages: blocks of 128 deltas in 4 miniblocks of 32,
// the block size arrow-go, arrow-rs and parquet-java write.
const (
	deltaBlock      = 128
	deltaMiniBlocks = 4
	deltaMini       = deltaBlock / deltaMiniBlocks
)

// appendDeltaPacked appends vals DELTA_BINARY_PACKED to dst: the header
// (block size, miniblocks per block, value count, first value as a zigzag
// varint), then per block of up to 128 deltas its minimum delta (zigzag
// varint), one bit width per miniblock and the miniblocks, each 32 values
// of delta minus minimum, bit-packed least significant bit first. A last
// block that needs fewer miniblocks still lists four widths (0 for those
// unused) but carries no bytes for them; a last miniblock is padded with
// zeros to 32 values. The values are non-negative int32s (byte lengths),
// so every delta and its distance from the minimum is exact in int64 and
// fits 32 bits.
func appendDeltaPacked(dst []byte, vals []int32) []byte {
	dst = binary.AppendUvarint(dst, deltaBlock)
	dst = binary.AppendUvarint(dst, deltaMiniBlocks)
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	if len(vals) == 0 {
		return binary.AppendVarint(dst, 0) // Go's varint is the zigzag one
	}
	dst = binary.AppendVarint(dst, int64(vals[0]))
	var deltas [deltaBlock]uint64
	for i := 1; i < len(vals); i += deltaBlock {
		n := min(deltaBlock, len(vals)-i)
		minDelta := int64(math.MaxInt64)
		for k := range n {
			minDelta = min(minDelta, int64(vals[i+k])-int64(vals[i+k-1]))
		}
		for k := range n {
			deltas[k] = uint64(int64(vals[i+k]) - int64(vals[i+k-1]) - minDelta)
		}
		clear(deltas[n:])
		dst = binary.AppendVarint(dst, minDelta)
		var widths [deltaMiniBlocks]int
		used := (n + deltaMini - 1) / deltaMini
		for m := range used {
			var or uint64
			for _, d := range deltas[m*deltaMini : (m+1)*deltaMini] {
				or |= d
			}
			widths[m] = bits.Len64(or)
		}
		for _, w := range widths {
			dst = append(dst, byte(w))
		}
		for m := range used {
			dst = appendBitPacked(dst, deltas[m*deltaMini:(m+1)*deltaMini], widths[m])
		}
	}
	return dst
}

// appendBitPacked appends the 32 values of vals, each width bits wide,
// packed least significant bit first: 4 × width bytes.
func appendBitPacked(dst []byte, vals []uint64, width int) []byte {
	if width == 0 {
		return dst
	}
	var acc uint64
	n := 0
	for _, v := range vals[:deltaMini] {
		acc |= v << n
		n += width
		for n >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	return dst
}
