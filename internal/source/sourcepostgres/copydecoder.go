package sourcepostgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/source"
)

// copySignature starts every binary COPY stream.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// copyDecoder is the io.Writer that copyOut feeds with CopyData
// payloads. It parses the binary COPY format incrementally and appends rows
// to its columns (see column), handing a record to emit every batchRows
// rows or source.BatchBytes bytes of rows, whichever comes first. Message
// boundaries are arbitrary: a row is appended only once all its bytes are
// present; a partial row waits in pending.
type copyDecoder struct {
	table     string
	cols      []pgColumn
	fields    []field
	schema    *arrow.Schema
	out       []column      // fields' columns, in order
	arrs      []arrow.Array // flush's scratch
	batchRows int
	emit      func(arrow.RecordBatch) error

	pending    []byte
	headerDone bool
	trailer    bool
	batch      int    // rows in the columns
	room       int    // rows the columns hold without growing (see makeRoom)
	batchBytes int    // their size in the COPY stream
	rows       int64  // rows decoded in total
	spans      []span // the fields of the row being decoded
	// keys are the indices in cols of the table's primary key, named in
	// errors about a value (nil: the row number is named instead).
	keys []int
}

func newCopyDecoder(mem memory.Allocator, table string, cols []pgColumn, schema *arrow.Schema, batchRows int, emit func(arrow.RecordBatch) error) (*copyDecoder, error) {
	d := &copyDecoder{
		table: table, cols: cols, schema: schema, batchRows: batchRows, emit: emit,
		fields: make([]field, 0, len(cols)),
		out:    make([]column, 0, len(cols)),
		arrs:   make([]arrow.Array, len(cols)),
		spans:  make([]span, len(cols)),
	}
	for i, c := range cols {
		b := array.NewBuilder(mem, schema.Field(i).Type)
		f, err := newFieldDecoder(c, b)
		if err != nil {
			b.Release()
			d.Release()
			return nil, fmt.Errorf("table %s column %q: %w", table, c.col.Name, err)
		}
		d.fields = append(d.fields, newField(f, c.col.Nullable, b, mem))
		d.out = append(d.out, d.fields[i].col)
	}
	source.ReserveLike(d.out, batchRows, nil)
	d.room = d.roomLeft()
	return d, nil
}

// roomLeft is how many more rows every column holds without growing.
func (d *copyDecoder) roomLeft() int {
	room := math.MaxInt
	for _, c := range d.out {
		room = min(room, c.Cap()-c.Len())
	}
	return room
}

// makeRoom grows the columns for one more row when a batch outgrows what
// they reserved, as each builder's own Append would (to the next power of
// two), so that copyDecoder.decodeRow may append without checking.
func (d *copyDecoder) makeRoom() {
	for _, c := range d.out {
		c.Reserve(1)
	}
	d.room = d.batch + d.roomLeft()
}

// Release frees the columns, including any rows not yet emitted.
func (d *copyDecoder) Release() {
	for _, c := range d.out {
		c.Release()
	}
	d.out = nil
}

// Write consumes one CopyData payload. p is only valid during the call.
func (d *copyDecoder) Write(p []byte) (int, error) {
	if len(d.pending) == 0 {
		used, err := d.parse(p)
		if err != nil {
			return 0, err
		}
		if used < len(p) {
			d.pending = append(d.pending, p[used:]...)
		}
		return len(p), nil
	}
	d.pending = append(d.pending, p...)
	used, err := d.parse(d.pending)
	if err != nil {
		return 0, err
	}
	n := copy(d.pending, d.pending[used:])
	d.pending = d.pending[:n]
	return len(p), nil
}

// parse consumes every complete unit (header, rows, trailer) of buf and
// returns how many bytes it used.
func (d *copyDecoder) parse(buf []byte) (int, error) {
	pos := 0
	if !d.headerDone {
		n, err := d.parseHeader(buf)
		if err != nil || n == 0 {
			return 0, err
		}
		pos = n
		d.headerDone = true
	}
	ncols := len(d.cols)
	for pos < len(buf) {
		if d.trailer {
			return pos, fmt.Errorf("table %s: %d bytes after the COPY trailer", d.table, len(buf)-pos)
		}
		if len(buf)-pos < 2 {
			return pos, nil
		}
		count := int16(binary.BigEndian.Uint16(buf[pos:]))
		if count == -1 {
			d.trailer = true
			pos += 2
			continue
		}
		if int(count) != ncols {
			return pos, fmt.Errorf("table %s: COPY row has %d fields, want %d", d.table, count, ncols)
		}
		// First pass: find every field; stop if the row is incomplete.
		spans := d.spans[:ncols]
		p := pos + 2
		for i := range spans {
			if len(buf)-p < 4 {
				return pos, nil
			}
			l := int32(binary.BigEndian.Uint32(buf[p : p+4]))
			p += 4
			spans[i] = span{int32(p), l}
			if l > 0 {
				if p += int(l); p > len(buf) {
					return pos, nil
				}
			} else if l < -1 {
				return pos, fmt.Errorf("table %s column %q: COPY field length %d", d.table, d.cols[i].col.Name, l)
			}
		}
		// Second pass: decode the complete row.
		if d.batch >= d.room {
			d.makeRoom()
		}
		if i, err := d.decodeRow(buf, spans); err != nil {
			name := d.cols[i].col.Name
			if err == errNotNull {
				return pos, fmt.Errorf("table %s column %q: NULL in a column described NOT NULL (did the table change?)", d.table, name)
			}
			err = fmt.Errorf("table %s column %q %s: %w", d.table, name, d.rowKey(buf), err)
			if hint := (castHint{}); errors.As(err, &hint) {
				err = fmt.Errorf("%w; to land it, set cast: {%s: %s} on the workflow (Glue: WharfCast)", err, name, hint.cast)
			}
			return pos, err
		}
		d.batchBytes += p - pos
		pos = p
		d.rows++
		d.batch++
		if d.batch >= d.batchRows || d.batchBytes >= source.BatchBytes {
			if err := d.flush(); err != nil {
				return pos, err
			}
		}
	}
	return pos, nil
}

// span locates a field in the COPY buffer: len -1 is NULL.
type span struct{ start, len int32 }

// errNotNull is decodeRow's word for a NULL in a NOT NULL column.
var errNotNull = errors.New("NULL in a NOT NULL column")

// decodeRow appends the row whose fields spans locates to the columns,
// which have room for it; on error it returns the column's index. Ordinary
// values of the flat types are appended here, in one loop without calls
// (the columns' Append, or UnsafeAppend; see field); any other value goes
// to its field's decoder, which holds every rule and message.
func (d *copyDecoder) decodeRow(buf []byte, spans []span) (int, error) {
	fields := d.fields[:len(spans)]
	for i, sp := range spans {
		f := &fields[i]
		start, l := int(sp.start), int(sp.len)
		if l < 0 {
			if !f.nullable {
				return i, errNotNull
			}
			f.dec.appendNull()
			continue
		}
		v := buf[start : start+l]
		switch f.kind {
		case fastBool:
			if len(v) == 1 {
				f.boolean.UnsafeAppend(v[0] != 0)
				continue
			}
		case fastInt16:
			if len(v) == 2 {
				f.i16.Append(int16(binary.BigEndian.Uint16(v)))
				continue
			}
		case fastInt32:
			if len(v) == 4 {
				f.i32.Append(int32(binary.BigEndian.Uint32(v)))
				continue
			}
		case fastInt64:
			if len(v) == 8 {
				f.i64.Append(int64(binary.BigEndian.Uint64(v)))
				continue
			}
		case fastFloat32:
			if len(v) == 4 {
				f.f32.Append(math.Float32frombits(binary.BigEndian.Uint32(v)))
				continue
			}
		case fastFloat64:
			if len(v) == 8 {
				f.f64.Append(math.Float64frombits(binary.BigEndian.Uint64(v)))
				continue
			}
		case fastDate:
			if len(v) == 4 {
				if days := int32(binary.BigEndian.Uint32(v)); days != math.MaxInt32 && days != math.MinInt32 {
					f.date.Append(pgDate(days))
					continue
				}
			}
		case fastTimestamp:
			if len(v) == 8 {
				if us := int64(binary.BigEndian.Uint64(v)); us != math.MinInt64 && us <= math.MaxInt64-pgEpochMicros {
					f.ts.Append(pgTimestamp(us))
					continue
				}
			}
		case fastBytes:
			if f.bin.appendFitting(v) {
				continue
			}
		case fastJSONB:
			if len(v) > 0 && v[0] == 1 && f.bin.appendFitting(v[1:]) {
				continue
			}
		case fastUUID:
			if len(v) == 16 {
				f.uuid.Append([16]byte(v))
				continue
			}
		case fastNumeric:
			if n, ok := f.num.fast(v); ok {
				f.d128.Append(n)
				continue
			}
		}
		if err := f.dec.decode(v); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// rowKey names the row being decoded (its spans are set): "at key id=42",
// or "at row 17" when the key is not among the columns read.
func (d *copyDecoder) rowKey(buf []byte) string {
	if len(d.keys) == 0 {
		return fmt.Sprintf("at row %d", d.rows+1)
	}
	parts := make([]string, len(d.keys))
	for j, i := range d.keys {
		sp := d.spans[i]
		parts[j] = d.cols[i].col.Name + "=" + keyText(d.cols[i].wire, buf[sp.start:sp.start+max(sp.len, 0)], sp.len < 0)
	}
	return "at key " + strings.Join(parts, ", ")
}

// keyText renders a key value for a message.
func keyText(w wire, v []byte, isNull bool) string {
	switch {
	case isNull:
		return "NULL"
	case w == wireInt2 && len(v) == 2:
		return strconv.Itoa(int(int16(binary.BigEndian.Uint16(v))))
	case w == wireInt4 && len(v) == 4:
		return strconv.Itoa(int(int32(binary.BigEndian.Uint32(v))))
	case w == wireInt8 && len(v) == 8:
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10)
	case w == wireUUID && len(v) == 16:
		return fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:16])
	case w == wireText:
		return strconv.Quote(string(v))
	}
	return fmt.Sprintf("(%d bytes)", len(v))
}

// parseHeader returns the header length, or 0 when buf does not hold all of it.
func (d *copyDecoder) parseHeader(buf []byte) (int, error) {
	const fixed = 11 + 4 + 4
	if len(buf) < fixed {
		if !bytes.HasPrefix(copySignature, buf[:min(len(buf), len(copySignature))]) {
			return 0, fmt.Errorf("table %s: COPY stream does not start with the binary signature", d.table)
		}
		return 0, nil
	}
	if !bytes.Equal(buf[:11], copySignature) {
		return 0, fmt.Errorf("table %s: COPY stream does not start with the binary signature", d.table)
	}
	flags := binary.BigEndian.Uint32(buf[11:])
	if flags&(1<<16) != 0 {
		return 0, fmt.Errorf("table %s: COPY stream includes OIDs", d.table)
	}
	if flags&0xffff0000&^(1<<16) != 0 {
		return 0, fmt.Errorf("table %s: COPY stream has unknown critical flags 0x%08x", d.table, flags)
	}
	ext := int(binary.BigEndian.Uint32(buf[15:]))
	if len(buf) < fixed+ext {
		return 0, nil
	}
	return fixed + ext, nil
}

// flush hands the rows in the columns to emit as one record, then sizes
// the columns for the next batch.
func (d *copyDecoder) flush() error {
	if d.batch == 0 {
		return nil
	}
	for i, c := range d.out {
		d.arrs[i] = c.NewArray()
	}
	rec := array.NewRecordBatch(d.schema, d.arrs, int64(d.batch))
	for i, a := range d.arrs {
		a.Release()
		d.arrs[i] = nil
	}
	d.batch, d.batchBytes = 0, 0
	source.ReserveLike(d.out, d.batchRows, rec)
	d.room = d.roomLeft()
	return d.emit(rec)
}

// finish checks the stream ended cleanly and emits the last rows.
func (d *copyDecoder) finish() error {
	if len(d.pending) > 0 || !d.trailer {
		return errors.New("table " + d.table + ": COPY stream ended in the middle of a row")
	}
	return d.flush()
}
