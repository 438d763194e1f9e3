package catalog

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// TableRef names a source table: Schema "" means the source's default
// (PostgreSQL: the current schema; MySQL: the connection's database; SQLite:
// main). Names are exact: case is preserved and they are always quoted when
// sent to the source.
type TableRef struct {
	Schema string
	Name   string
}

// ParseTableRef reads a catalog table value: "schema.table" or "table". A
// name may be written in SQL double quotes, with "" for a quote inside, to
// hold dots, quotes or spaces at its ends: "my ""odd"" schema"."t.able",
// schema."T", "x.y". A name written without quotes is taken verbatim up to
// the dot and may not hold quotes. This is the one parser of table names:
// validate, plan, discover and every run use it.
func ParseTableRef(s string) (TableRef, error) {
	ref, _, _, err := parseTableRef(s)
	return ref, err
}

// parseTableRef is ParseTableRef that also says which names were quoted: a
// quoted name is never a table pattern.
func parseTableRef(s string) (ref TableRef, schemaQuoted, nameQuoted bool, err error) {
	fail := func(format string, args ...any) (TableRef, bool, bool, error) {
		return TableRef{}, false, false, fmt.Errorf("%s: "+format, append([]any{showTable(s)}, args...)...)
	}
	if strings.TrimSpace(s) == "" {
		return TableRef{}, false, false, errors.New("empty table name")
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return TableRef{}, false, false, fmt.Errorf("%q contains control characters", s)
	}
	var parts []string
	var quoted []bool
	rest := s
	for {
		var part string
		q := strings.HasPrefix(rest, `"`)
		if q {
			end := closingQuote(rest)
			if end < 0 {
				return fail(`unterminated quoted name (write a " inside a quoted name as "")`)
			}
			part = strings.ReplaceAll(rest[1:end], `""`, `"`)
			rest = rest[end+1:]
			if rest != "" && rest[0] != '.' {
				return fail(`unexpected %q after the quoted name %q (want "schema"."table")`, rest, part)
			}
		} else {
			var after string
			var dot bool
			part, after, dot = strings.Cut(rest, ".")
			rest = ""
			if dot {
				rest = "." + after
			}
			switch {
			case strings.ContainsAny(part, "\"`"):
				return fail(`write a name that holds quotes in double quotes, each " doubled: "my ""odd"" name"`)
			case part != "" && strings.TrimSpace(part) != part:
				return fail(`leading or trailing spaces around a name (write the name in double quotes to keep them)`)
			}
		}
		if part == "" {
			return fail("want schema.table or table (empty part)")
		}
		parts, quoted = append(parts, part), append(quoted, q)
		if rest == "" {
			break
		}
		rest = rest[1:] // the dot
		if len(parts) == 2 {
			return fail(`want schema.table or table (one dot at most; write a name that holds dots in double quotes: schema."t.able")`)
		}
	}
	if len(parts) == 1 {
		return TableRef{Name: parts[0]}, false, quoted[0], nil
	}
	if !quoted[0] && isGlob(parts[0]) {
		return fail("the schema must be written out; patterns (* ? [) apply to table names only")
	}
	return TableRef{Schema: parts[0], Name: parts[1]}, quoted[0], quoted[1], nil
}

// closingQuote returns the index of the quote closing the quoted name that
// s starts with, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			i++
			continue
		}
		return i
	}
	return -1
}

// String writes the reference as the catalog reads it: names that need
// quotes (dots, quotes, spaces at the ends, pattern characters) are
// SQL-quoted, others written plainly. ParseTableRef reads it
// back to the same reference.
func (t TableRef) String() string {
	if t.Schema == "" {
		return QuoteName(t.Name)
	}
	return QuoteName(t.Schema) + "." + QuoteName(t.Name)
}

// QuoteName writes one name as the catalog reads it: plainly when it can
// be, else in double quotes with each quote doubled (a quoted name is never
// a pattern).
func QuoteName(name string) string {
	if name != "" && !strings.ContainsAny(name, ".\"`*?[") && strings.TrimSpace(name) == name {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// isGlob reports whether an unquoted name is a pattern.
func isGlob(name string) bool { return strings.ContainsAny(name, "*?[") }

// showTable quotes a table value for a message: in single quotes when it
// holds double quotes (which %q would escape), else as %q.
func showTable(s string) string {
	if strings.Contains(s, `"`) && !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return fmt.Sprintf("%q", s)
}
