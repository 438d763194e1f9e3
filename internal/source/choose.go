package source

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/suggest"
)

// Choices say which columns of a table land and how (the catalog's
// columns, exclude_columns, cast and mask). They are applied the same way
// for every source: Choose picks and converts the columns the source reads,
// and a Masker replaces masked values in wharf before anything is written.
type Choices struct {
	Columns        []string          // land only these (nil = all)
	ExcludeColumns []string          // leave these out
	Cast           map[string]string // string | json | float64 | decimal(P,S)
	Mask           map[string]string // sha256 | redact | null
	// Optional names columns that may be missing from the table (choices
	// from the catalog's defaults); any other unknown name is an error.
	Optional []string
}

// Redacted is what a redact mask lands.
const Redacted = "***"

// Choose applies choices to a described table: the returned table has the
// landed columns in table order, each cast as asked (Column.Cast set, Kind
// the landed kind); masked columns are read as text for the Masker. A name
// the table does not have fails, naming the setting, the table and the
// column, with a suggestion.
func Choose(t *Table, ch Choices) (*Table, *Masker, error) {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	check := func(setting, name string) (bool, error) {
		if slices.Contains(names, name) {
			return true, nil
		}
		if slices.Contains(ch.Optional, name) {
			return false, nil
		}
		return false, fmt.Errorf("%s: table %s has no column %q%s", setting, t.Ref, name, suggest.DidYouMean(name, names))
	}
	for _, n := range ch.Columns {
		if _, err := check("columns", n); err != nil {
			return nil, nil, err
		}
	}
	for _, n := range ch.ExcludeColumns {
		if _, err := check("exclude_columns", n); err != nil {
			return nil, nil, err
		}
	}
	for _, setting := range []struct {
		name string
		m    map[string]string
	}{{"cast", ch.Cast}, {"mask", ch.Mask}} {
		for _, n := range sortedKeys(setting.m) {
			if _, err := check(setting.name, n); err != nil {
				return nil, nil, err
			}
		}
	}

	out := &Table{Ref: t.Ref}
	m := &Masker{}
	for _, c := range t.Columns {
		if (len(ch.Columns) > 0 && !slices.Contains(ch.Columns, c.Name)) || slices.Contains(ch.ExcludeColumns, c.Name) {
			continue
		}
		if cast, ok := ch.Cast[c.Name]; ok {
			var err error
			if c, err = castColumn(c, cast); err != nil {
				return nil, nil, fmt.Errorf("cast: table %s column %q: %w", t.Ref, c.Name, err)
			}
		}
		if mask, ok := ch.Mask[c.Name]; ok {
			c = coltype.Column{Name: c.Name, Kind: coltype.String, Nullable: c.Nullable || mask == "null",
				SourceType: c.SourceType, Cast: coltype.CastString}
			m.columns = append(m.columns, maskedColumn{index: len(out.Columns), kind: mask})
		}
		out.Columns = append(out.Columns, c)
	}
	if len(out.Columns) == 0 {
		return nil, nil, fmt.Errorf("columns: no column of table %s is left to land", t.Ref)
	}
	return out, m, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// castColumn returns c as it lands with cast.
func castColumn(c coltype.Column, cast string) (coltype.Column, error) {
	out := coltype.Column{Name: c.Name, Nullable: c.Nullable, SourceType: c.SourceType}
	switch cast {
	case "string":
		out.Kind, out.Cast = coltype.String, coltype.CastString
	case "json":
		out.Kind, out.Cast = coltype.JSON, coltype.CastJSON
	case "float64":
		out.Kind, out.Cast = coltype.Float64, coltype.CastFloat64
	default:
		var p, s int
		if n, err := fmt.Sscanf(strings.ReplaceAll(strings.ToLower(cast), " ", ""), "decimal(%d,%d)", &p, &s); err != nil || n != 2 || p < 1 || p > 38 || s < 0 || s > p {
			return c, fmt.Errorf("%q is not a cast: want string, json, float64 or decimal(P,S)", cast)
		}
		out.Kind, out.Cast, out.Precision, out.Scale = coltype.Decimal, coltype.CastDecimal, p, s
	}
	return out, nil
}

// Masker replaces masked columns of each record (read as text by the
// source) before the record goes anywhere else.
type Masker struct {
	columns []maskedColumn
	salt    []byte
}

type maskedColumn struct {
	index int    // in the chosen table's columns
	kind  string // sha256 | redact | null
}

// NeedsSalt reports whether a sha256 mask is used.
func (m *Masker) NeedsSalt() bool {
	return slices.ContainsFunc(m.columns, func(c maskedColumn) bool { return c.kind == "sha256" })
}

// WithSalt returns a copy of m whose sha256 masks use salt (m itself may
// be shared: a chunk order's masker is its run's).
func (m *Masker) WithSalt(salt []byte) *Masker {
	c := *m
	c.salt = salt
	return &c
}

// Empty reports whether no column is masked.
func (m *Masker) Empty() bool { return m == nil || len(m.columns) == 0 }

// Apply returns the columns of rec with the masked ones replaced: sha256
// by the hex SHA-256 of the salt followed by the value's text, redact by
// "***", null by NULL. NULL stays NULL. The caller releases the returned
// arrays that differ from rec's (Release releases all of them).
func (m *Masker) Apply(mem memory.Allocator, rec arrow.RecordBatch) ([]arrow.Array, error) {
	cols := slices.Clone(rec.Columns())
	for i := range cols {
		cols[i].Retain()
	}
	for _, mc := range m.columns {
		in, ok := cols[mc.index].(*array.String)
		if !ok {
			releaseAll(cols)
			return nil, fmt.Errorf("mask %s: column %d arrived as %s, not text", mc.kind, mc.index, cols[mc.index].DataType())
		}
		b := array.NewStringBuilder(mem)
		b.Reserve(in.Len())
		h := sha256.New()
		var sum [sha256.Size]byte
		var hexed [2 * sha256.Size]byte
		for r := range in.Len() {
			switch {
			case in.IsNull(r) || mc.kind == "null":
				b.AppendNull()
			case mc.kind == "redact":
				b.Append(Redacted)
			default:
				h.Reset()
				h.Write(m.salt)
				h.Write([]byte(in.Value(r)))
				hex.Encode(hexed[:], h.Sum(sum[:0]))
				b.BinaryBuilder.Append(hexed[:])
			}
		}
		cols[mc.index].Release()
		cols[mc.index] = b.NewArray()
		b.Release()
	}
	return cols, nil
}

func releaseAll(cols []arrow.Array) {
	for _, c := range cols {
		c.Release()
	}
}

// maskedJSON is one masked column as a Masker's JSON holds it.
type maskedJSON struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
}

// MarshalJSON writes which columns the masker masks, and how; never its
// salt (a process reading a chunk of the run resolves the workflow's
// mask_salt itself: WithSalt).
func (m *Masker) MarshalJSON() ([]byte, error) {
	out := []maskedJSON{}
	if m != nil {
		for _, c := range m.columns {
			out = append(out, maskedJSON{Index: c.index, Kind: c.kind})
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (m *Masker) UnmarshalJSON(b []byte) error {
	var in []maskedJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	m.columns = m.columns[:0]
	for _, c := range in {
		switch c.Kind {
		case "sha256", "redact", "null":
		default:
			return fmt.Errorf("masked column %d: unknown mask %q", c.Index, c.Kind)
		}
		m.columns = append(m.columns, maskedColumn{index: c.Index, kind: c.Kind})
	}
	return nil
}
