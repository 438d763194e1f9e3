package lake

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// held is what a RunWriter keeps for partitions without an open file:
// which rows of which records each directory waits to write. The records
// are pinned (retained), not copied, so a partition that gets a few rows
// of every record costs no copy and no arrays of its own until it is
// written; a record is let go when every directory that held rows of it
// has written them.
type held struct {
	dirs  map[string][]piece // by directory, oldest first
	pins  []*pin             // oldest first
	bytes int64              // of the pinned records' buffers
}

// pin is one pinned record.
type pin struct {
	rec   arrow.RecordBatch
	bytes int64
	dirs  []string // directories that held rows of rec, each once
	refs  int      // pieces still holding rows of rec
}

// piece is the rows of one pinned record held for one directory.
type piece struct {
	pin   *pin
	spans []Span
}

// pinRecord retains rec and counts its buffers.
func (h *held) pinRecord(rec arrow.RecordBatch) *pin {
	rec.Retain()
	p := &pin{rec: rec, bytes: recordBytes(rec)}
	h.pins = append(h.pins, p)
	h.bytes += p.bytes
	return p
}

// add holds the rows of p's record in spans for dir.
func (h *held) add(p *pin, dir string, spans []Span) {
	if h.dirs == nil {
		h.dirs = map[string][]piece{}
	}
	h.dirs[dir] = append(h.dirs[dir], piece{pin: p, spans: slices.Clone(spans)})
	p.dirs = append(p.dirs, dir)
	p.refs++
}

// take removes and returns what dir holds (nil if nothing).
func (h *held) take(dir string) []piece {
	pieces := h.dirs[dir]
	delete(h.dirs, dir)
	return pieces
}

// done lets go of the records of pieces that nothing else holds rows of.
func (h *held) done(pieces []piece) {
	for _, pc := range pieces {
		p := pc.pin
		if p.refs--; p.refs > 0 {
			continue
		}
		p.rec.Release()
		h.bytes -= p.bytes
		h.pins = slices.DeleteFunc(h.pins, func(q *pin) bool { return q == p })
	}
}

// drop lets go of everything (the run is aborted).
func (h *held) drop() {
	for _, p := range h.pins {
		p.rec.Release()
	}
	*h = held{}
}

// recordBytes is the size of rec's buffers.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var data func(d arrow.ArrayData)
	data = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			data(c)
		}
	}
	for _, c := range rec.Columns() {
		data(c.Data())
	}
	return n
}
