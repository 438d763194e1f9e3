package sourcetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/coltype"
)

// Values the suite passes to DB.Exec, one Go type per kind. A DB converts
// them to whatever its driver needs. nil is NULL.
//
//	Bool bool, Int16 int16, Int32 int32, Int64 int64, Float32 float32,
//	Float64 float64, String string, Bytes []byte, Decimal Decimal, Date Date,
//	Time TimeOfDay, Timestamp Timestamp, TimestampTZ time.Time, UUID UUID,
//	JSON JSON.
type (
	// Decimal is an exact decimal in plain notation, e.g. "-12.50".
	Decimal string
	// Date is a calendar date "2006-01-02".
	Date string
	// TimeOfDay is the time since midnight, microsecond precision.
	TimeOfDay time.Duration
	// Timestamp is a wall-clock date and time without zone; its location is
	// UTC by convention and carries no meaning.
	Timestamp time.Time
	// UUID is 16 raw bytes.
	UUID [16]byte
	// JSON is a JSON document; values are compared as parsed JSON.
	JSON string
)

// Wall returns the timestamp's fields as a time in UTC.
func (t Timestamp) Wall() time.Time { return time.Time(t) }

// Time returns the date at midnight UTC.
func (d Date) Time() time.Time {
	t, err := time.Parse(coltype.DateLayout, string(d))
	if err != nil {
		panic(fmt.Sprintf("sourcetest: bad Date %q", d))
	}
	return t
}

// Rat returns the decimal's exact value.
func (d Decimal) Rat() *big.Rat {
	r, ok := new(big.Rat).SetString(string(d))
	if !ok {
		panic(fmt.Sprintf("sourcetest: bad Decimal %q", d))
	}
	return r
}

// checkValue compares row i of arr (column c) with the expected suite value
// (nil = NULL) and returns a description of the difference, or "".
func checkValue(c coltype.Column, arr arrow.Array, i int, want any) string {
	if want == nil {
		if !arr.IsNull(i) {
			return fmt.Sprintf("got %v, want NULL", arr.ValueStr(i))
		}
		return ""
	}
	if arr.IsNull(i) {
		return fmt.Sprintf("got NULL, want %v", want)
	}
	got, err := arrowValue(c, arr, i)
	if err != nil {
		return err.Error()
	}
	exp, err := expected(c, want)
	if err != nil {
		return err.Error()
	}
	if !equalValue(got, exp) {
		return fmt.Sprintf("got %#v, want %#v", got, exp)
	}
	return ""
}

// arrowValue reads row i as a comparable Go value.
func arrowValue(c coltype.Column, arr arrow.Array, i int) (any, error) {
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i), nil
	case *array.Int16:
		return a.Value(i), nil
	case *array.Int32:
		return a.Value(i), nil
	case *array.Int64:
		return a.Value(i), nil
	case *array.Float32:
		return a.Value(i), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.Decimal128:
		return new(big.Rat).SetFrac(a.Value(i).BigInt(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Scale)), nil)), nil
	case *array.String:
		return a.Value(i), nil
	case *array.Binary:
		return bytes.Clone(a.Value(i)), nil
	case *array.Date32:
		return int64(a.Value(i)), nil
	case *array.Time64:
		return int64(a.Value(i)), nil
	case *array.Timestamp:
		return int64(a.Value(i)), nil
	case array.ExtensionArray:
		switch s := a.Storage().(type) {
		case *array.FixedSizeBinary:
			var u UUID
			copy(u[:], s.Value(i))
			return u, nil
		case *array.String:
			var v any
			if err := json.Unmarshal([]byte(s.Value(i)), &v); err != nil {
				return nil, fmt.Errorf("column %s: invalid JSON %q: %v", c.Name, s.Value(i), err)
			}
			return jsonValue{v}, nil
		}
	}
	return nil, fmt.Errorf("column %s: unexpected Arrow array %T", c.Name, arr)
}

type jsonValue struct{ v any }

// expected converts a suite value for column c to what arrowValue returns.
func expected(c coltype.Column, v any) (any, error) {
	switch c.Kind {
	case coltype.Decimal:
		d, ok := v.(Decimal)
		if !ok {
			return nil, fmt.Errorf("column %s: suite value %T for decimal", c.Name, v)
		}
		return d.Rat(), nil
	case coltype.Bytes:
		return v, nil
	case coltype.Date:
		return v.(Date).Time().Unix() / 86400, nil
	case coltype.Time:
		return time.Duration(v.(TimeOfDay)).Microseconds(), nil
	case coltype.Timestamp:
		w := v.(Timestamp).Wall()
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC).UnixMicro(), nil
	case coltype.TimestampTZ:
		return v.(time.Time).UnixMicro(), nil
	case coltype.JSON:
		var x any
		if err := json.Unmarshal([]byte(v.(JSON)), &x); err != nil {
			return nil, err
		}
		return jsonValue{x}, nil
	}
	return v, nil
}

func equalValue(got, want any) bool {
	switch g := got.(type) {
	case *big.Rat:
		w, ok := want.(*big.Rat)
		return ok && g.Cmp(w) == 0
	case []byte:
		w, ok := want.([]byte)
		return ok && bytes.Equal(g, w)
	case float32:
		w, ok := want.(float32)
		return ok && (math.Float32bits(g) == math.Float32bits(w) || (g != g && w != w))
	case float64:
		w, ok := want.(float64)
		return ok && (math.Float64bits(g) == math.Float64bits(w) || (g != g && w != w))
	}
	return reflect.DeepEqual(got, want)
}
