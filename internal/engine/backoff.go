package engine

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// backoff is the retry policy: attempt n (after the first) waits
// base * 2^(n-1), capped at max, with ±10% jitter so that failing
// workflows do not retry in lockstep.
type backoff struct {
	base, max time.Duration
	now       func() time.Time // the engine's clock
}

// NextRetry implements river.ClientRetryPolicy.
func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return b.now().Add(b.delay(job.Attempt))
}

func (b *backoff) delay(attempt int) time.Duration {
	d := b.base
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}
