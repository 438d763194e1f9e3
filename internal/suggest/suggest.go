// Package suggest finds the known word a user probably meant, for "did you
// mean" hints in messages about catalog keys, names and columns.
package suggest

import (
	"fmt"
	"strings"
)

// Closest returns the known word closest to got, or "" when none is close:
// the same word in another case or with _/- moved, or within a small edit
// distance ("shedule" → "schedule").
func Closest(got string, known []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	g := norm(got)
	best, bestDist := "", 0
	for _, k := range known {
		if norm(k) == g {
			return k
		}
		d := levenshtein(g, norm(k))
		limit := 2
		if len(k) >= 10 {
			limit = 3
		}
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// DidYouMean formats a suggestion as ` (did you mean "x"?)`, or "".
func DidYouMean(got string, known []string) string {
	if s := Closest(got, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// levenshtein is the edit distance between a and b, by bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
