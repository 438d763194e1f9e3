package arrowmem

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestBufferClasses(t *testing.T) {
	last, lastSize := 0, 1<<minShift
	for n := 0; n <= 1<<22; n += 1 + n/97 {
		i, size := class(n)
		switch {
		case size < n:
			t.Fatalf("class(%d) = %d bytes, too small", n, size)
		case n > 1<<minShift && size > n+n/4:
			t.Fatalf("class(%d) = %d bytes, more than a quarter over", n, size)
		case size%alignment != 0:
			t.Fatalf("class(%d) = %d bytes, not a multiple of %d", n, size, alignment)
		case i < last || (i == last) != (size == lastSize):
			t.Fatalf("class(%d) = #%d of %d bytes after #%d of %d bytes", n, i, size, last, lastSize)
		}
		if j, again := class(size); j != i || again != size {
			t.Fatalf("class(%d) = #%d of %d bytes, but class(%d) = #%d of %d", n, i, size, size, j, again)
		}
		last, lastSize = i, size
	}
	if i, size := class(1 << maxShift); i != numClasses-1 || size != 1<<maxShift {
		t.Errorf("class(1<<maxShift) = #%d of %d bytes, want the last class #%d", i, size, numClasses-1)
	}
}

// addr is where b's memory starts.
func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func TestRecyclerReusesFreedBuffers(t *testing.T) {
	r := new(Recycler)
	for _, size := range []int{0, 100, 2048, 65536, 100_000, 3 << 20} {
		b := r.Allocate(size)
		_, c := class(size)
		if len(b) != size || cap(b) != c || addr(b)%alignment != 0 {
			t.Fatalf("Allocate(%d): len %d cap %d at %#x, want len %d cap %d %d-byte aligned", size, len(b), cap(b), addr(b), size, c, alignment)
		}
		// sync.Pool drops a quarter of what it is given under the race
		// detector: the buffer must come back within a few tries.
		reused := false
		for try := 0; try < 20 && !reused; try++ {
			was := addr(b)
			r.Free(b)
			b = r.Allocate(size)
			reused = addr(b) == was
		}
		if !reused {
			t.Errorf("Allocate(%d): a freed buffer of its class never came back", size)
		}
	}
}

func TestRecyclerReallocate(t *testing.T) {
	r := new(Recycler)
	b := r.Allocate(1500)
	for i := range b {
		b[i] = byte(i)
	}
	want := bytes.Clone(b)
	if grown := r.Reallocate(1536, b); addr(grown) != addr(b) || !bytes.Equal(grown[:1500], want) {
		t.Error("Reallocate within the class moved or changed the buffer")
	}
	if shrunk := r.Reallocate(64, b); addr(shrunk) != addr(b) || cap(shrunk) != cap(b) {
		t.Error("Reallocate to fewer bytes moved the buffer or lost its capacity")
	}
	grown := r.Reallocate(5000, b)
	if len(grown) != 5000 || !bytes.Equal(grown[:1500], want) {
		t.Error("Reallocate to a larger class lost the bytes")
	}
}

func TestRecyclerIgnoresForeignBuffers(t *testing.T) {
	r := new(Recycler)
	foreign := make([]byte, 1100) // no class is 1,100 bytes
	r.Free(foreign)
	r.Free(nil)
	for range 100 {
		if b := r.Allocate(1100); addr(b) == addr(foreign) {
			t.Fatal("a buffer Free was given by someone else came back from Allocate")
		}
	}
}

// poison fills all of b's capacity with 0xa5, as a recycled buffer holds
// its last user's bytes.
func poison(b []byte) {
	b = b[:cap(b)]
	for i := range b {
		b[i] = 0xa5
	}
}

// zero reports whether b holds only zeroes.
func zero(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

func TestZeroingRecyclerHandsOutZeroes(t *testing.T) {
	r := NewZeroing()
	for _, size := range []int{100, 1500, 65536, 100_000} {
		// Recycled buffers: each one was poisoned before it was freed.
		for range 3 {
			b := r.Allocate(size)
			if !zero(b) {
				t.Fatalf("Allocate(%d) returned a buffer that is not zeroed", size)
			}
			poison(b)
			r.Free(b)
		}
	}

	b := r.Allocate(1000)
	poison(b)
	b = b[:1000]
	r.Free(r.Reallocate(10, b)) // a shrunk buffer keeps its class
	b = r.Allocate(1000)
	for i := range b {
		b[i] = 1
	}
	// Within its class (1 KiB): in place, the old bytes kept, the rest zeroed.
	grown := r.Reallocate(1024, b[:600])
	if addr(grown) != addr(b) || bytes.Count(grown[:600], []byte{1}) != 600 || !zero(grown[600:]) {
		t.Error("Reallocate within the class did not keep the old bytes and zero the rest in place")
	}
	poison(grown)
	r.Free(grown)
	// To another class: a recycled, poisoned buffer is filled with the
	// old bytes and zeroes.
	big := r.Allocate(5000)
	poison(big)
	r.Free(big)
	small := r.Allocate(700)
	for i := range small {
		small[i] = 2
	}
	moved := r.Reallocate(5000, small)
	if bytes.Count(moved[:700], []byte{2}) != 700 || !zero(moved[700:]) {
		t.Error("Reallocate to a larger class did not keep the old bytes and zero the rest")
	}
}
