package blueprint

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/source"
)

// Idle sources: a run's source goes back to its Lander when the run closes
// it, and the next run of the same connection in this process takes it
// instead of opening its own. A run of a tiny table otherwise spends more
// on opening (secret, connect and login; SQLite: open and parse the schema)
// and closing than on reading. A source serves one run at a time; sources
// mend a connection a failed run broke (sourcepostgres reconnects,
// database/sql replaces bad connections). Idle sources are closed after
// sourceIdleFor, beyond sourceIdlePerConn per connection or sourceIdleMax in
// all, and by Lander.Close. Like open lakes, a source keeps the secret it
// was opened with: a changed secret applies to sources opened after.
const (
	sourceIdleFor     = 30 * time.Second
	sourceIdlePerConn = 4
	sourceIdleMax     = 32
)

// sourcePool keeps idle sources by connection (name, engine and secret).
type sourcePool struct {
	mu     sync.Mutex
	idle   map[catalog.Connection][]idleSource
	n      int // idle sources in all
	timer  *time.Timer
	closed bool
	now    func() time.Time // tests
}

type idleSource struct {
	src   source.Source
	since time.Time
}

// open returns an idle source of conn, or opens one with OpenSource. Its
// Close gives it back to the pool.
func (p *sourcePool) open(ctx context.Context, conn *catalog.Connection, secrets string) (source.Source, error) {
	key := *conn
	p.mu.Lock()
	var src source.Source
	if l := p.idle[key]; len(l) > 0 {
		src = l[len(l)-1].src // the most recently used
		p.idle[key] = l[:len(l)-1]
		p.n--
	}
	p.mu.Unlock()
	if src == nil {
		var err error
		if src, err = OpenSource(ctx, conn, secrets); err != nil {
			return nil, err
		}
	}
	ps := &pooledSource{Source: src, pool: p, key: key}
	par, parallel := src.(source.Parallel)
	ch, chunked := src.(source.Chunked)
	switch {
	case parallel && chunked:
		return &pooledChunked{pooledSource: ps, Parallel: par, Chunked: ch}, nil
	case parallel:
		return &pooledParallel{pooledSource: ps, Parallel: par}, nil
	}
	return ps, nil
}

// put takes src back, or closes it when the pool is closed or full.
func (p *sourcePool) put(key catalog.Connection, src source.Source) error {
	p.mu.Lock()
	if p.closed || p.n >= sourceIdleMax {
		p.mu.Unlock()
		return src.Close()
	}
	var evict source.Source
	l := p.idle[key]
	if len(l) >= sourceIdlePerConn {
		evict = l[0].src
		l = l[1:]
		p.n--
	}
	if p.idle == nil {
		p.idle = map[catalog.Connection][]idleSource{}
	}
	p.idle[key] = append(l, idleSource{src: src, since: p.clock()})
	p.n++
	if p.timer == nil {
		p.timer = time.AfterFunc(sourceIdleFor, p.sweep)
	}
	p.mu.Unlock()
	if evict != nil {
		return evict.Close()
	}
	return nil
}

func (p *sourcePool) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// sweep closes the sources idle for sourceIdleFor, and comes back while
// some are left.
func (p *sourcePool) sweep() {
	p.mu.Lock()
	var old []source.Source
	cutoff := p.clock().Add(-sourceIdleFor)
	for key, l := range p.idle {
		keep := l[:0]
		for _, s := range l {
			if s.since.After(cutoff) {
				keep = append(keep, s)
			} else {
				old = append(old, s.src)
			}
		}
		if len(keep) == 0 {
			delete(p.idle, key)
		} else {
			p.idle[key] = keep
		}
	}
	p.n -= len(old)
	p.timer = nil
	if p.n > 0 && !p.closed {
		p.timer = time.AfterFunc(sourceIdleFor/2, p.sweep)
	}
	p.mu.Unlock()
	for _, s := range old {
		_ = s.Close()
	}
}

// close closes every idle source; sources in use are closed when their
// runs close them.
func (p *sourcePool) close() error {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	idle := p.idle
	p.idle, p.n = nil, 0
	p.mu.Unlock()
	var errs []error
	for _, l := range idle {
		for _, s := range l {
			errs = append(errs, s.src.Close())
		}
	}
	return errors.Join(errs...)
}

// pooledSource is a source on loan to one run: Close gives it back (once).
// pooledParallel is one that also reads in parallel, pooledChunked one
// that also reads in chunks any process may read: the loan hides no
// optional interface of the source (source.Parallel and source.Chunked).
type pooledSource struct {
	source.Source
	pool *sourcePool
	key  catalog.Connection
	once sync.Once
}

func (s *pooledSource) Close() error {
	var err error
	s.once.Do(func() { err = s.pool.put(s.key, s.Source) })
	return err
}

type pooledParallel struct {
	*pooledSource
	source.Parallel
}

type pooledChunked struct {
	*pooledSource
	source.Parallel
	source.Chunked
}
