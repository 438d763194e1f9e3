package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a catalog, at a place in the file.
type Error struct {
	Pos Pos
	// Field is the path of the value at fault, e.g. "workflows[2].schedule"
	// or "WorkflowList[0].SecretName"; "" for the file as a whole.
	Field string
	Msg   string
}

// Error formats the error as "FILE:LINE:COL: FIELD: MSG", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// String formats the position as FILE:LINE:COL (FILE alone when the line is
// unknown).
func (p Pos) String() string {
	switch {
	case p.Line <= 0:
		return p.File
	case p.Column <= 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	}
}

// Errors is every problem found in a catalog, in file order.
type Errors []*Error

// Error joins the errors, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.Is and errors.As access to each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errorList collects errors while a catalog is loaded.
type errorList struct {
	errs Errors
}

func (l *errorList) add(pos Pos, field, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// result returns the errors in file order without duplicates (a bad value
// in defaults is found again in every workflow that inherits it), or nil.
func (l *errorList) result() error {
	if len(l.errs) == 0 {
		return nil
	}
	seen := map[string]bool{}
	out := make(Errors, 0, len(l.errs))
	for _, e := range l.errs {
		k := e.Error()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out
}
