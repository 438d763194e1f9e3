package engine

import (
	"testing"
	"time"
)

func TestBackoffDoublesUpToMax(t *testing.T) {
	t.Parallel()
	b := &backoff{base: 30 * time.Second, max: 10 * time.Minute}
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {4, 4 * time.Minute}, {5, 8 * time.Minute}, {6, 10 * time.Minute}, {40, 10 * time.Minute}} {
		for range 50 {
			got := b.delay(tc.attempt)
			if lo, hi := tc.want-tc.want/10, tc.want+tc.want/10; got < lo || got > hi {
				t.Fatalf("attempt %d: delay %s, want %s ±10%%", tc.attempt, got, tc.want)
			}
		}
	}
}
