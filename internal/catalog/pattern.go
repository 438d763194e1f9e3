package catalog

import (
	"fmt"
	"path"
	"strings"
)

// Pattern is a workflow entry whose table is a glob on table names
// ("public.*", "sales.order_*"): plan expands it against the source's
// tables, at plan time, into one workflow per matching table that is not
// excluded and not landed by an explicit workflow of the same connection.
//
// Globs are path.Match patterns on the table name: * is any run of
// characters, ? one character, [abc] / [a-z] / [^a] a class, \ escapes.
// The schema part, if any, is literal. A table name is a pattern when it
// contains *, ? or [.
type Pattern struct {
	// Workflow holds the settings every expanded workflow gets. Name is
	// the name template (see NameFor) and Table the pattern as written.
	Workflow
	// Exclude lists table names or globs (on the name, without the schema)
	// to leave out.
	Exclude []string
}

// NamePlaceholder in a pattern's name is replaced by each table's name.
const NamePlaceholder = "{table}"

// IsTablePattern reports whether a catalog table value is a pattern: its
// table name is written without quotes and holds *, ? or [.
func IsTablePattern(table string) bool {
	ref, _, nameQuoted, err := parseTableRef(table)
	return err == nil && !nameQuoted && isGlob(ref.Name)
}

// Schema returns the pattern's schema ("" = the source's default) and its
// glob on table names.
func (p *Pattern) Schema() (schema, glob string) {
	ref, err := ParseTableRef(p.Table)
	if err != nil { // validated: cannot happen
		return "", p.Table
	}
	return ref.Schema, ref.Name
}

// Match reports whether the table name (without schema) matches the
// pattern and none of its excludes.
func (p *Pattern) Match(table string) bool {
	_, glob := p.Schema()
	if ok, err := path.Match(glob, table); err != nil || !ok {
		return false
	}
	for _, ex := range p.Exclude {
		if ok, err := path.Match(excludeGlob(ex), table); err == nil && ok {
			return false
		}
	}
	return true
}

// excludeGlob drops an exclude's schema (validation checked that it is the
// pattern's schema).
func excludeGlob(ex string) string {
	if ref, err := ParseTableRef(ex); err == nil {
		return ref.Name
	}
	return ex
}

// NameFor returns the name of the workflow expanded for a table: the name
// template with {table} replaced by the table name, or, without {table},
// the name, "_" and the table name. Characters of the table name that
// workflow names cannot hold (anything but letters, digits, _ . -) become _.
func (p *Pattern) NameFor(table string) string {
	safe := strings.Map(func(r rune) rune {
		if r < 128 && nameRE.MatchString(string(r)) {
			return r
		}
		return '_'
	}, table)
	if strings.Contains(p.Name, NamePlaceholder) {
		return strings.ReplaceAll(p.Name, NamePlaceholder, safe)
	}
	return p.Name + "_" + safe
}

// Expand returns the workflow of one matching table: the pattern's
// settings, the name from NameFor, and the table qualified as the pattern
// writes its schema, quoted where the names need it (TableRef.String).
func (p *Pattern) Expand(table string) *Workflow {
	w := p.Workflow
	w.Name = p.NameFor(table)
	schema, _ := p.Schema()
	w.Table = TableRef{Schema: schema, Name: table}.String()
	return &w
}

// isPattern reports whether the entry's table is a pattern.
func (w *rawWorkflow) isPattern() bool {
	return ok(w.table) && IsTablePattern(w.table.Value)
}

// nameTemplate checks a pattern's name: safe once {table} is filled in.
func (v *validator) nameTemplate(f field) {
	if !ok(f) {
		return
	}
	filled := strings.ReplaceAll(f.Value, NamePlaceholder, "t")
	switch {
	case f.Value == "":
		v.errorf(f, "workflow name is empty")
	case !nameRE.MatchString(filled):
		v.errorf(f, "workflow name %q of a table pattern is not safe: use letters, digits, _ . - and %s (names become file names)", f.Value, NamePlaceholder)
	case strings.HasPrefix(filled, ".") || strings.HasPrefix(filled, "-"):
		v.errorf(f, "workflow name %q must not start with %q (names become file names)", f.Value, filled[:1])
	}
}

// pattern builds a Pattern from a validated entry, checking its excludes.
func (v *validator) pattern(w *rawWorkflow, wf *Workflow) *Pattern {
	p := &Pattern{Workflow: *wf}
	schema, _ := p.Schema()
	for _, f := range w.exclude {
		if !ok(f) {
			continue
		}
		ex := strings.TrimSpace(f.Value)
		ref, err := ParseTableRef(ex)
		name := ref.Name
		switch {
		case err != nil:
			v.errorf(f, "%s", err.Error())
			continue
		case ref.Schema != "" && schema == "":
			v.errorf(f, "%q: write the table name only (the pattern %q has no schema)", f.Value, wf.Table)
			continue
		case ref.Schema != "" && ref.Schema != schema:
			v.errorf(f, "%q: schema %q is not the pattern's schema %q", f.Value, ref.Schema, schema)
			continue
		}
		if _, err := path.Match(name, ""); err != nil {
			v.errorf(f, "%q: malformed table pattern ([ opens a class that ] must close)", f.Value)
			continue
		}
		p.Exclude = append(p.Exclude, ex)
	}
	return p
}

// CheckName reports why name cannot be a workflow name, or nil: what the
// catalog checks for written names, for names made by expanding patterns.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("workflow name is empty")
	case len(name) > MaxNameLen:
		return fmt.Errorf("workflow name %q is %d characters long: at most %d", name, len(name), MaxNameLen)
	case !nameRE.MatchString(name):
		return fmt.Errorf("workflow name %q is not safe: use letters, digits, _ . -", name)
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "-"):
		return fmt.Errorf("workflow name %q must not start with %q", name, name[:1])
	}
	return nil
}
