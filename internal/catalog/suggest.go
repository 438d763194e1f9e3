package catalog

import (
	"fmt"
	"strings"
)

// suggest returns the known word closest to got, or "" when none is close:
// the same word in another case or with _/- moved, or within a small edit
// distance ("shedule" → "schedule").
func suggest(got string, known []string) string {
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

// didYouMean formats a suggestion as ` (did you mean "x"?)`, or "".
func didYouMean(got string, known []string) string {
	if s := suggest(got, known); s != "" {
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

// quoteList formats words as "a", "b" or "c".
func quoteList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	return orList(q)
}

// orList formats words as a, b or c.
func orList(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
