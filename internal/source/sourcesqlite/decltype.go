package sourcesqlite

import (
	"strconv"
	"strings"

	"github.com/wharf-data/wharf/internal/coltype"
)

// kindOf maps a declared SQLite column type to a neutral column. SQLite
// accepts any text as a declared type; known names are matched first, then
// SQLite's own affinity rules (https://www.sqlite.org/datatype3.html §3.1)
// decide. The table in doc.go lists the result.
//
// It returns ok=false with a reason when the declared type names a kind
// wharf cannot land faithfully (a decimal precision outside 1..38).
func kindOf(declared string) (c coltype.Column, reason string) {
	c.SourceType = declared
	t := strings.ToUpper(strings.Join(strings.Fields(declared), " "))
	base, args, hasArgs := splitTypeArgs(t)

	switch base {
	case "BOOLEAN", "BOOL":
		c.Kind = coltype.Bool
		return c, ""
	case "DATE":
		c.Kind = coltype.Date
		return c, ""
	case "DATETIME", "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE":
		c.Kind = coltype.Timestamp
		return c, ""
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "DATETIMETZ", "DATETIMEOFFSET":
		c.Kind = coltype.TimestampTZ
		return c, ""
	case "TIME", "TIME WITHOUT TIME ZONE":
		c.Kind = coltype.Time
		return c, ""
	case "UUID", "GUID", "UNIQUEIDENTIFIER":
		c.Kind = coltype.UUID
		return c, ""
	case "JSON":
		c.Kind = coltype.JSON
		return c, ""
	case "DECIMAL", "NUMERIC", "NUMBER", "DEC":
		if !hasArgs {
			// Unconstrained: SQLite stores these as INTEGER or REAL
			// (NUMERIC affinity), so a double is the faithful form.
			c.Kind = coltype.Float64
			return c, ""
		}
		p, s, ok := precisionScale(args)
		if !ok {
			return c, "want DECIMAL(p) or DECIMAL(p,s) with 1 <= p <= 38 and 0 <= s <= p"
		}
		c.Kind, c.Precision, c.Scale = coltype.Decimal, p, s
		return c, ""
	case "", "ANY":
		// No declared type (BLOB affinity): values keep whatever storage
		// class they were written with. They land as text: integers and
		// reals in their decimal form, text as is; a blob fails the run.
		c.Kind = coltype.String
		return c, ""
	}

	// SQLite's affinity rules, in SQLite's order.
	switch {
	case strings.Contains(t, "INT"):
		c.Kind = coltype.Int64
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		c.Kind = coltype.String
	case strings.Contains(t, "BLOB"):
		c.Kind = coltype.Bytes
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		c.Kind = coltype.Float64
	default:
		// NUMERIC affinity (e.g. MONEY): stored as INTEGER or REAL.
		c.Kind = coltype.Float64
	}
	return c, ""
}

// splitTypeArgs splits "DECIMAL(10, 2)" into "DECIMAL", "10, 2", true.
func splitTypeArgs(t string) (base, args string, ok bool) {
	open := strings.IndexByte(t, '(')
	if open < 0 {
		return t, "", false
	}
	close := strings.LastIndexByte(t, ')')
	if close < open {
		return t, "", false
	}
	return strings.TrimSpace(t[:open]), strings.TrimSpace(t[open+1 : close]), true
}

// precisionScale reads "p" or "p,s".
func precisionScale(args string) (p, s int, ok bool) {
	ps, ss, two := strings.Cut(args, ",")
	p, err := strconv.Atoi(strings.TrimSpace(ps))
	if err != nil {
		return 0, 0, false
	}
	if two {
		if s, err = strconv.Atoi(strings.TrimSpace(ss)); err != nil {
			return 0, 0, false
		}
	}
	if p < 1 || p > 38 || s < 0 || s > p {
		return 0, 0, false
	}
	return p, s, true
}
