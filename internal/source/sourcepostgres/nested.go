package sourcepostgres

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Decoders of the binary forms that land as nested Arrow types (arrays,
// records, interval, hstore) and of money. Each reads PostgreSQL's own
// *_send format: array_send, record_send, interval_send, hstore_send,
// cash_send.

// moneyDecoder lands money (int64 in hundredths) as decimal(19,2).
type moneyDecoder struct{ b *array.Decimal128Builder }

func (d moneyDecoder) appendNull() { d.b.AppendNull() }
func (d moneyDecoder) decode(v []byte) error {
	if err := wantLen(v, 8); err != nil {
		return err
	}
	d.b.Append(decimal128.FromI64(int64(binary.BigEndian.Uint64(v))))
	return nil
}

// intervalDecoder lands interval_send's int64 microseconds, int32 days and
// int32 months as struct<months, days, microseconds>.
type intervalDecoder struct {
	b            *array.StructBuilder
	months, days *array.Int32Builder
	micros       *array.Int64Builder
}

func newIntervalDecoder(b *array.StructBuilder) (fieldDecoder, bool) {
	if b.NumField() != 3 {
		return nil, false
	}
	months, ok1 := b.FieldBuilder(0).(*array.Int32Builder)
	days, ok2 := b.FieldBuilder(1).(*array.Int32Builder)
	micros, ok3 := b.FieldBuilder(2).(*array.Int64Builder)
	return intervalDecoder{b, months, days, micros}, ok1 && ok2 && ok3
}

func (d intervalDecoder) appendNull() { d.b.AppendNull() }
func (d intervalDecoder) decode(v []byte) error {
	if err := wantLen(v, 16); err != nil {
		return err
	}
	d.b.Append(true)
	d.micros.Append(int64(binary.BigEndian.Uint64(v)))
	d.days.Append(int32(binary.BigEndian.Uint32(v[8:])))
	d.months.Append(int32(binary.BigEndian.Uint32(v[12:])))
	return nil
}

// readLen reads an int32 length (or count) at v[*pos:].
func readLen(v []byte, pos *int) (int, error) {
	if len(v)-*pos < 4 {
		return 0, fmt.Errorf("binary value ends early (%d bytes)", len(v))
	}
	n := int(int32(binary.BigEndian.Uint32(v[*pos:])))
	*pos += 4
	return n, nil
}

// readItem reads a length-prefixed item at v[*pos:]; nil with ok=true is NULL.
func readItem(v []byte, pos *int) (item []byte, isNull bool, err error) {
	n, err := readLen(v, pos)
	if err != nil {
		return nil, false, err
	}
	if n == -1 {
		return nil, true, nil
	}
	if n < 0 || len(v)-*pos < n {
		return nil, false, fmt.Errorf("binary item length %d exceeds the value", n)
	}
	item = v[*pos : *pos+n]
	*pos += n
	return item, false, nil
}

// arrayDecoder lands array_send values as dims nested lists of the element.
type arrayDecoder struct {
	lists []*array.ListBuilder // lists[0] is the column's builder, lists[i+1] its values
	elem  fieldDecoder
	shape []int // scratch: the value's dimensions
}

func newArrayDecoder(c pgColumn, b *array.ListBuilder) (fieldDecoder, error) {
	d := &arrayDecoder{lists: []*array.ListBuilder{b}}
	for len(d.lists) < c.dims {
		lb, ok := d.lists[len(d.lists)-1].ValueBuilder().(*array.ListBuilder)
		if !ok {
			return nil, fmt.Errorf("array of %d dimensions into Arrow %s", c.dims, c.col.TypeString())
		}
		d.lists = append(d.lists, lb)
	}
	elem, err := newFieldDecoder(*c.elem, d.lists[len(d.lists)-1].ValueBuilder())
	if err != nil {
		return nil, err
	}
	d.elem = elem
	return d, nil
}

func (d *arrayDecoder) appendNull() { d.lists[0].AppendNull() }

func (d *arrayDecoder) decode(v []byte) error {
	pos := 0
	ndim, err := readLen(v, &pos)
	if err != nil {
		return err
	}
	if len(v) < 12 {
		return fmt.Errorf("binary array has %d bytes", len(v))
	}
	pos = 12 // ndim, has-null flag, element type
	if ndim == 0 {
		d.lists[0].Append(true) // '{}': an empty list
		return nil
	}
	if ndim != len(d.lists) {
		return castHint{"json", fmt.Errorf("array value has %d dimensions but the column declares %d", ndim, len(d.lists))}
	}
	d.shape = d.shape[:0]
	for range ndim {
		n, err := readLen(v, &pos)
		if err != nil {
			return err
		}
		pos += 4 // lower bound: lists start at their first element
		d.shape = append(d.shape, n)
	}
	if err := d.level(v, &pos, 0); err != nil {
		return err
	}
	if pos != len(v) {
		return fmt.Errorf("binary array has %d bytes after its elements", len(v)-pos)
	}
	return nil
}

// level appends one list at depth l and, recursively, its contents.
func (d *arrayDecoder) level(v []byte, pos *int, l int) error {
	d.lists[l].Append(true)
	for range d.shape[l] {
		if l+1 < len(d.lists) {
			if err := d.level(v, pos, l+1); err != nil {
				return err
			}
			continue
		}
		item, isNull, err := readItem(v, pos)
		switch {
		case err != nil:
			return err
		case isNull:
			d.elem.appendNull()
		default:
			if err := d.elem.decode(item); err != nil {
				return fmt.Errorf("array element: %w", err)
			}
		}
	}
	return nil
}

// recordDecoder lands record_send values (composite types) as a struct.
type recordDecoder struct {
	b      *array.StructBuilder
	names  []string
	fields []fieldDecoder
}

func newRecordDecoder(c pgColumn, b *array.StructBuilder) (fieldDecoder, error) {
	if b.NumField() != len(c.fields) {
		return nil, fmt.Errorf("composite of %d fields into an Arrow struct of %d", len(c.fields), b.NumField())
	}
	d := &recordDecoder{b: b}
	for i, f := range c.fields {
		fd, err := newFieldDecoder(f, b.FieldBuilder(i))
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.col.Name, err)
		}
		d.names = append(d.names, f.col.Name)
		d.fields = append(d.fields, fd)
	}
	return d, nil
}

func (d *recordDecoder) appendNull() { d.b.AppendNull() }

func (d *recordDecoder) decode(v []byte) error {
	pos := 0
	n, err := readLen(v, &pos)
	if err != nil {
		return err
	}
	if n != len(d.fields) {
		return fmt.Errorf("record has %d fields, the type has %d (did the type change?)", n, len(d.fields))
	}
	d.b.Append(true)
	for i, f := range d.fields {
		pos += 4 // the field's type OID
		item, isNull, err := readItem(v, &pos)
		switch {
		case err != nil:
			return fmt.Errorf("field %s: %w", d.names[i], err)
		case isNull:
			f.appendNull()
		default:
			if err := f.decode(item); err != nil {
				return fmt.Errorf("field %s: %w", d.names[i], err)
			}
		}
	}
	return nil
}

// hstoreDecoder lands hstore_send values as map<string, string>.
type hstoreDecoder struct {
	b    *array.MapBuilder
	keys *array.StringBuilder
	vals *array.StringBuilder
}

func newHstoreDecoder(b *array.MapBuilder) (fieldDecoder, bool) {
	keys, ok1 := b.KeyBuilder().(*array.StringBuilder)
	vals, ok2 := b.ItemBuilder().(*array.StringBuilder)
	return hstoreDecoder{b, keys, vals}, ok1 && ok2
}

func (d hstoreDecoder) appendNull() { d.b.AppendNull() }
func (d hstoreDecoder) decode(v []byte) error {
	pos := 0
	n, err := readLen(v, &pos)
	if err != nil {
		return err
	}
	d.b.Append(true)
	for range n {
		k, isNull, err := readItem(v, &pos)
		if err != nil || isNull {
			return fmt.Errorf("hstore key: malformed binary value (%v)", err)
		}
		d.keys.BinaryBuilder.Append(k)
		val, isNull, err := readItem(v, &pos)
		switch {
		case err != nil:
			return fmt.Errorf("hstore value: %w", err)
		case isNull:
			d.vals.AppendNull()
		default:
			d.vals.BinaryBuilder.Append(val)
		}
	}
	return nil
}
