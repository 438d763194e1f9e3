package state

import (
	"fmt"

	"github.com/wharf-data/wharf/internal/coltype"
)

// CheckWatermark reports whether wm can be stored: a cursor kind, canonical
// text, and text every backend can hold.
func CheckWatermark(wm *coltype.Watermark) error {
	if !coltype.CursorKind(wm.Kind) {
		return fmt.Errorf("kind %v cannot be a cursor", wm.Kind)
	}
	if err := wm.Validate(); err != nil {
		return fmt.Errorf("%v value %q: %w", wm.Kind, wm.Text, err)
	}
	if !storable(wm.Text) {
		return fmt.Errorf("%v value %q is not valid UTF-8 without NUL", wm.Kind, wm.Text)
	}
	return nil
}

// EncodeWatermark splits wm into the two columns that store it: its kind
// name and canonical text, both nil when wm is nil.
func EncodeWatermark(wm *coltype.Watermark) (kind, text *string) {
	if wm == nil {
		return nil, nil
	}
	k, t := wm.Kind.String(), wm.Text
	return &k, &t
}

// DecodeWatermark is the inverse of EncodeWatermark. It fails when the stored
// kind is unknown or the text is not canonical for it; what names the value
// in the message (e.g. "run 0192... watermark_to").
func DecodeWatermark(what string, kind, text *string) (*coltype.Watermark, error) {
	if kind == nil && text == nil {
		return nil, nil
	}
	if kind == nil || text == nil {
		return nil, fmt.Errorf("%s: watermark kind and value must both be set or both be NULL", what)
	}
	k, err := coltype.ParseKind(*kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	wm := &coltype.Watermark{Kind: k, Text: *text}
	if err := CheckWatermark(wm); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return wm, nil
}
