package lake

import "sync"

// closeAhead is how many of a stream's files close in the background while
// the stream writes on.
//
// Closing a file flushes its buffered row group (the encoding and
// compression of its last pages), writes the footer and commits the object
// (a rename, or an object store's multipart completion): most of what a
// small file costs. A run partitioned by a column not clustered with the
// read order opens and closes thousands of such files from one goroutine
// while the source waits; closed in the background they use the other core,
// and an object store's completions overlap. Each close under way holds
// its file's buffered row group, so a run that rolls large files holds up
// to closeAhead more row groups for a moment.
const closeAhead = 2

// closing closes a stream's finished files in the background, at most
// closeAhead at once, and keeps what they return.
type closing struct {
	slots chan struct{}
	wg    sync.WaitGroup

	mu   sync.Mutex
	busy map[*partFile]struct{} // files being closed
	done []FileInfo             // files closed
	err  error                  // the first close that failed
}

func newClosing() *closing {
	return &closing{slots: make(chan struct{}, closeAhead), busy: map[*partFile]struct{}{}}
}

// start closes f in the background, once fewer than closeAhead closes are
// under way.
func (c *closing) start(f *partFile) {
	c.slots <- struct{}{}
	c.wg.Add(1)
	c.mu.Lock()
	c.busy[f] = struct{}{}
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		info, err := f.close()
		c.mu.Lock()
		delete(c.busy, f)
		if err != nil {
			if c.err == nil {
				c.err = err
			}
		} else {
			c.done = append(c.done, info)
		}
		c.mu.Unlock()
		<-c.slots
	}()
}

// failed returns the first close that failed so far, if any.
func (c *closing) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// wait waits for the closes under way and returns every file closed, and
// the first close that failed.
func (c *closing) wait() ([]FileInfo, error) {
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]FileInfo(nil), c.done...), c.err
}

// forget cancels the closes under way (an upload not yet committed is
// aborted), waits for them, and drops the files closed: Abort deletes them,
// with any a close committed before it saw the cancellation.
func (c *closing) forget() {
	c.mu.Lock()
	for f := range c.busy {
		f.cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	c.done = nil
	c.mu.Unlock()
}
