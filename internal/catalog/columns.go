package catalog

import (
	"fmt"
	"github.com/wharf-data/wharf/internal/suggest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ColumnChoices say which columns of a workflow's table land and how: the
// catalog keys columns, exclude_columns, cast, mask and on_schema_change,
// on a workflow or under defaults. Column names are checked against the
// source's information schema when a plan or run describes the table.
type ColumnChoices struct {
	// Columns lands only these columns (nil = all).
	Columns []string
	// ExcludeColumns leaves these columns out.
	ExcludeColumns []string
	// Cast maps a column to how it lands: string | json | float64 |
	// decimal(P,S).
	Cast map[string]string
	// Mask maps a column to sha256 | redact | null.
	Mask map[string]string
	// OnSchemaChange is evolve (the default), freeze or ignore_new.
	OnSchemaChange string
	// Defaulted lists, sorted, the columns named only by the defaults
	// section: those choices apply where the table has the column.
	Defaulted []string
	// MaskSalt is the secret reference of the salt of sha256 masks: the
	// connection's mask_salt, else the defaults'.
	MaskSalt string
}

// Policies of on_schema_change, and the masks and casts a catalog may name.
const (
	SchemaEvolve    = "evolve"
	SchemaFreeze    = "freeze"
	SchemaIgnoreNew = "ignore_new"
)

var (
	schemaPolicies = []string{SchemaEvolve, SchemaFreeze, SchemaIgnoreNew}
	masks          = []string{"sha256", "redact", "null"}
	casts          = []string{"string", "json", "float64"} // and decimal(P,S)
	decimalCast    = regexp.MustCompile(`^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$`)
)

// ParseDecimalCast reads "decimal(P,S)"; ok is false for any other text.
func ParseDecimalCast(s string) (precision, scale int, ok bool) {
	m := decimalCast.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, 0, false
	}
	p, _ := strconv.Atoi(m[1])
	sc, _ := strconv.Atoi(m[2])
	return p, sc, true
}

// rawChoices are the column choices as written, on a workflow or under
// defaults.
type rawChoices struct {
	columns, exclude    []field
	columnsKey, exclKey field
	cast, mask          []fieldPair
	castKey, maskKey    field
	onSchemaChange      field
}

// fieldPair is one entry of a column mapping (cast, mask).
type fieldPair struct{ column, value field }

// choiceKeys are the keys of rawChoices.
var choiceKeys = []string{"columns", "exclude_columns", "cast", "mask", "on_schema_change"}

// choice decodes key into c when it is a column-choice key.
func (d *decoder) choice(c *rawChoices, path, key string, keyNode, value *yaml.Node) bool {
	return d.choiceAs(c, path, key, key, keyNode, value)
}

// choiceAs decodes the column-choice key choiceKey, written key in the file
// (a Glue extension key, WharfCast for cast), into c.
func (d *decoder) choiceAs(c *rawChoices, path, key, choiceKey string, keyNode, value *yaml.Node) bool {
	p := path + "." + key
	kf := field{Path: p, Pos: d.pos(keyNode), Set: true}
	switch choiceKey {
	case "columns":
		c.columnsKey, c.columns = kf, d.stringList(value, p, "a list of column names")
	case "exclude_columns":
		c.exclKey, c.exclude = kf, d.stringList(value, p, "a list of column names")
	case "cast":
		c.castKey, c.cast = kf, d.columnMap(value, p, "a mapping of column names to string, json, float64 or decimal(P,S)")
	case "mask":
		c.maskKey, c.mask = kf, d.columnMap(value, p, "a mapping of column names to sha256, redact or null")
	case "on_schema_change":
		c.onSchemaChange = d.scalar(value, p)
	default:
		return false
	}
	return true
}

// columnMap reads a mapping of column names to single values.
func (d *decoder) columnMap(n *yaml.Node, path, want string) []fieldPair {
	pairs, _ := d.mapping(n, path, want, nil)
	out := make([]fieldPair, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, fieldPair{
			column: field{Path: path + "." + p.key, Value: p.key, Pos: d.pos(p.keyNode), Set: true},
			value:  d.scalar(p.value, path+"."+p.key),
		})
	}
	return out
}

// choices checks a workflow's column choices merged over the defaults'
// and returns them. salt is the mask_salt that applies ("" = none).
func (v *validator) choices(w, def *rawChoices, conn string, salt field) ColumnChoices {
	var out ColumnChoices
	v.checkChoices(w)
	if ok(w.onSchemaChange) {
		out.OnSchemaChange = w.onSchemaChange.Value
	} else if ok(def.onSchemaChange) {
		out.OnSchemaChange = def.onSchemaChange.Value
	}
	out.Columns = values(w.columns)
	if w.columnsKey.Set && len(w.columns) == 0 {
		v.errorf(w.columnsKey, "an empty list lands no column: leave columns out to land them all")
	}
	if w.columnsKey.Set && w.exclKey.Set {
		v.errorf(w.exclKey, "set columns or exclude_columns, not both")
	}
	defaulted := map[string]bool{}
	own := map[string]bool{}
	for _, f := range w.exclude {
		own[f.Value] = true
		out.ExcludeColumns = append(out.ExcludeColumns, f.Value)
	}
	if !w.columnsKey.Set {
		for _, f := range def.exclude {
			if !own[f.Value] {
				out.ExcludeColumns = append(out.ExcludeColumns, f.Value)
				defaulted[f.Value] = true
			}
		}
	}
	merge := func(own, def []fieldPair) map[string]string {
		if len(own)+len(def) == 0 {
			return nil
		}
		m := map[string]string{}
		for _, p := range def {
			m[p.column.Value] = p.value.Value
			defaulted[p.column.Value] = true
		}
		for _, p := range own {
			m[p.column.Value] = p.value.Value
			delete(defaulted, p.column.Value)
		}
		return m
	}
	out.Cast = merge(w.cast, def.cast)
	out.Mask = merge(w.mask, def.mask)
	for c := range defaulted {
		out.Defaulted = append(out.Defaulted, c)
	}
	sort.Strings(out.Defaulted)

	// Choices that contradict each other, on the workflow's own columns.
	landed := func(col string) bool {
		if len(out.Columns) > 0 {
			return slices.Contains(out.Columns, col)
		}
		return !slices.Contains(out.ExcludeColumns, col)
	}
	for _, p := range w.mask {
		if _, cast := out.Cast[p.column.Value]; cast && !defaulted[p.column.Value] {
			v.errorf(p.column, "column %q is both cast and masked: a mask lands a hash or placeholder, not the value; remove the cast", p.column.Value)
		}
	}
	for _, list := range [][]fieldPair{w.cast, w.mask} {
		for _, p := range list {
			if !landed(p.column.Value) {
				what := "excluded by exclude_columns"
				if len(out.Columns) > 0 {
					what = "not in columns"
				}
				v.errorf(p.column, "column %q is %s: it does not land", p.column.Value, what)
			}
		}
	}
	for col, m := range out.Mask {
		if m == "sha256" && salt.Value == "" {
			f := fieldFor(w.mask, col)
			if f.Path == "" {
				f = fieldFor(def.mask, col)
			}
			v.errorf(f, "sha256 needs a salt: set mask_salt (a secret reference) on connection %s or in defaults, so that hashes cannot be reversed by a dictionary", conn)
			break
		}
	}
	out.MaskSalt = salt.Value
	return out
}

func fieldFor(ps []fieldPair, col string) field {
	for _, p := range ps {
		if p.column.Value == col {
			return p.column
		}
	}
	return field{}
}

func values(fs []field) []string {
	if len(fs) == 0 {
		return nil
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Value
	}
	return out
}

// checkChoices checks each value of c on its own (workflow or defaults).
func (v *validator) checkChoices(c *rawChoices) {
	for _, list := range [][]field{c.columns, c.exclude} {
		seen := map[string]bool{}
		for _, f := range list {
			v.column(f, false)
			if seen[f.Value] {
				v.errorf(f, "column %q is listed twice", f.Value)
			}
			seen[f.Value] = true
		}
	}
	for _, p := range c.cast {
		v.column(p.column, false)
		if !ok(p.value) {
			continue
		}
		val := p.value.Value
		if prec, scale, isDec := ParseDecimalCast(val); isDec {
			if prec < 1 || prec > 38 || scale > prec {
				v.errorf(p.value, "%q: precision must be 1 to 38 and scale 0 to the precision", val)
			}
			continue
		}
		if !contains(casts, val) {
			v.errorf(p.value, "%q is not a cast: want string, json, float64 or decimal(P,S)%s", val, suggest.DidYouMean(val, casts))
		}
	}
	for _, p := range c.mask {
		v.column(p.column, false)
		if ok(p.value) && !contains(masks, p.value.Value) {
			v.errorf(p.value, "%q is not a mask: want sha256, redact or null%s", p.value.Value, suggest.DidYouMean(p.value.Value, masks))
		}
	}
	if f := c.onSchemaChange; ok(f) && !contains(schemaPolicies, f.Value) {
		v.errorf(f, "%q is not a policy: want evolve, freeze or ignore_new%s", f.Value, suggest.DidYouMean(f.Value, schemaPolicies))
	}
}

// String renders the choices for messages, e.g. in plans.
func (c ColumnChoices) String() string {
	return fmt.Sprintf("columns=%v exclude_columns=%v cast=%v mask=%v on_schema_change=%s", c.Columns, c.ExcludeColumns, c.Cast, c.Mask, c.OnSchemaChange)
}
