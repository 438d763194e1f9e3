package sourcepostgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wharf-data/wharf/internal/coltype"
)

// Watermark texts that stand for ±infinity and out-of-range times.
var (
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
)

// literal renders a watermark as a SQL literal cast to the cursor column's
// type. The text is validated first; quotes are doubled (the session has
// standard_conforming_strings on, so backslashes are plain characters). The
// watermark standing for +infinity (9999-12-31, 9999-12-31T23:59:59.999999)
// is sent as 'infinity' so rows at infinity fall inside the window once.
func literal(w *coltype.Watermark, cur *pgColumn) (string, error) {
	if err := w.Validate(); err != nil {
		return "", fmt.Errorf("watermark %q for cursor %q: %w", w.Text, cur.col.Name, err)
	}
	if !coltype.Bounds(w.Kind, cur.col.Kind) {
		return "", fmt.Errorf("watermark %q is a %v but cursor %q is a %v (%s)", w.Text, w.Kind, cur.col.Name, cur.col.Kind, cur.col.SourceType)
	}
	text := w.Text
	switch w.Kind {
	case coltype.Date, coltype.Timestamp, coltype.TimestampTZ:
		if text == coltype.TimeWatermark(w.Kind, maxTime).Text {
			text = "infinity"
		}
	}
	if strings.IndexByte(text, 0) >= 0 {
		return "", fmt.Errorf("watermark for cursor %q contains a NUL byte", cur.col.Name)
	}
	return "'" + strings.ReplaceAll(text, "'", "''") + "'::" + cur.castType, nil
}

// queryHigh reads max(cursor) over the window in the transaction's snapshot
// and returns it as a canonical watermark (nil when the window is empty).
func queryHigh(ctx context.Context, q querier, table string, cur *pgColumn, where string) (*coltype.Watermark, error) {
	col := quoteIdent(cur.col.Name)
	k := cur.col.Kind
	var sql string
	switch k {
	case coltype.Decimal, coltype.String:
		sql = "SELECT max(" + col + ")::text FROM " + table + where
	default:
		sql = "SELECT max(" + col + ") FROM " + table + where
	}
	row := q.QueryRow(ctx, sql)
	switch k {
	case coltype.Int16, coltype.Int32, coltype.Int64:
		var v *int64
		if err := row.Scan(&v); err != nil || v == nil {
			return nil, err
		}
		return &coltype.Watermark{Kind: k, Text: strconv.FormatInt(*v, 10)}, nil
	case coltype.Float32:
		var v *float32
		if err := row.Scan(&v); err != nil || v == nil {
			return nil, err
		}
		return &coltype.Watermark{Kind: k, Text: strconv.FormatFloat(float64(*v), 'g', -1, 32)}, nil
	case coltype.Float64:
		var v *float64
		if err := row.Scan(&v); err != nil || v == nil {
			return nil, err
		}
		return &coltype.Watermark{Kind: k, Text: strconv.FormatFloat(*v, 'g', -1, 64)}, nil
	case coltype.Decimal:
		var v *string
		if err := row.Scan(&v); err != nil || v == nil {
			return nil, err
		}
		w := &coltype.Watermark{Kind: k, Text: *v}
		if err := w.Validate(); err != nil {
			return nil, fmt.Errorf("max value %s cannot be a decimal watermark", *v)
		}
		return w, nil
	case coltype.String:
		var v *string
		if err := row.Scan(&v); err != nil || v == nil {
			return nil, err
		}
		return &coltype.Watermark{Kind: k, Text: *v}, nil
	case coltype.Date:
		var v pgtype.Date
		if err := row.Scan(&v); err != nil || !v.Valid {
			return nil, err
		}
		return timeWatermark(k, v.Time, v.InfinityModifier), nil
	case coltype.Timestamp:
		var v pgtype.Timestamp
		if err := row.Scan(&v); err != nil || !v.Valid {
			return nil, err
		}
		return timeWatermark(k, v.Time, v.InfinityModifier), nil
	case coltype.TimestampTZ:
		var v pgtype.Timestamptz
		if err := row.Scan(&v); err != nil || !v.Valid {
			return nil, err
		}
		return timeWatermark(k, v.Time, v.InfinityModifier), nil
	}
	return nil, fmt.Errorf("cursor %q: %v (%s) cannot be a cursor", cur.col.Name, k, cur.col.SourceType)
}

// timeWatermark clamps infinities and years outside 1..9999 (which the
// canonical text cannot hold) to the bounds of the package policy.
func timeWatermark(k coltype.Kind, t time.Time, inf pgtype.InfinityModifier) *coltype.Watermark {
	switch {
	case inf == pgtype.Infinity:
		t = maxTime
	case inf == pgtype.NegativeInfinity:
		t = minTime
	case t.UTC().After(maxTime):
		t = maxTime
	case t.UTC().Before(minTime):
		t = minTime
	}
	return coltype.TimeWatermark(k, t)
}
