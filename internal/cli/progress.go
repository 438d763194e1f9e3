package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

// progress shows landing progress. On a terminal it redraws one status line
// (running workflows with rows, bytes and rate) and prints a line per finished
// workflow above it; otherwise it writes a plain line every logEvery for each
// running workflow (the log says when workflows start and end).
type progress struct {
	w        io.Writer
	tty      bool
	total    int
	logEvery time.Duration

	mu       sync.Mutex
	running  map[string]*wfProgress
	finished int
	quit     chan struct{}
	wg       sync.WaitGroup
}

type wfProgress struct {
	started     time.Time
	rows, bytes int64
	chunks      [2]int // done, total (0 total: read in one stream)
	lastLog     time.Time
}

func newProgress(w io.Writer, tty bool, total int) *progress {
	p := &progress{w: w, tty: tty, total: total, logEvery: 10 * time.Second,
		running: map[string]*wfProgress{}, quit: make(chan struct{})}
	if tty {
		p.wg.Add(1)
		go p.redrawLoop()
	}
	return p
}

func (p *progress) start(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.running[name] = &wfProgress{started: now, lastLog: now}
}

func (p *progress) update(u blueprint.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	wp := p.running[u.Workflow]
	if wp == nil {
		return
	}
	wp.rows, wp.bytes, wp.chunks = u.Rows, u.Bytes, [2]int{u.ChunksDone, u.Chunks}
	if !p.tty && time.Since(wp.lastLog) >= p.logEvery {
		wp.lastLog = time.Now()
		fmt.Fprintf(p.w, "landing %s: %s\n", u.Workflow, wp.describe())
	}
}

func (wp *wfProgress) describe() string {
	el := time.Since(wp.started)
	s := fmt.Sprintf("%d rows, %s read, %s rows/s", wp.rows, status.HumanBytes(wp.bytes), rate(wp.rows, el))
	if wp.chunks[1] > 0 {
		s += fmt.Sprintf(", %d/%d chunks", wp.chunks[0], wp.chunks[1])
	}
	return s
}

func (p *progress) done(r *blueprint.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, r.Workflow)
	p.finished++
	line := fmt.Sprintf("%s %s: %d rows, %d files, %s in %s", mark(r.Status), r.Workflow, r.Rows, len(r.Files),
		status.HumanBytes(r.Bytes), r.Duration.Round(time.Millisecond))
	if r.Err != nil {
		line = fmt.Sprintf("%s %s: %s after %s", mark(r.Status), r.Workflow, r.Status, r.Duration.Round(time.Millisecond))
	}
	// Without a terminal the log lines say when a workflow starts and ends.
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", line)
		p.drawLocked()
	}
}

func mark(status state.RunStatus) string {
	switch status {
	case state.StatusSucceeded:
		return "ok"
	case state.StatusSkipped:
		return "SKIPPED"
	}
	return "FAILED"
}

func (p *progress) redrawLoop() {
	defer p.wg.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			p.mu.Lock()
			fmt.Fprint(p.w, "\r\033[K")
			p.mu.Unlock()
			return
		case <-t.C:
			p.mu.Lock()
			p.drawLocked()
			p.mu.Unlock()
		}
	}
}

func (p *progress) drawLocked() {
	names := make([]string, 0, len(p.running))
	for n := range p.running {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+" "+p.running[n].describe())
	}
	line := fmt.Sprintf("[%d/%d] %s", p.finished, p.total, strings.Join(parts, " | "))
	// A line longer than the terminal wraps, and \r then cannot clear it.
	if w := termWidth() - 1; len(line) > w && w > 3 {
		line = line[:w-3] + "..."
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
}
