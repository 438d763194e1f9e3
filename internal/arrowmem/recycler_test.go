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
