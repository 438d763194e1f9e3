package sourcepostgres

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sys/unix"
)

// A COPY's rows reach the socket in PostgreSQL's 8 KiB sends, and wharf
// reads faster than the server writes: without a low-water mark, every
// send woke wharf's reader (epoll, a read, a window-update ACK, a context
// switch) for 8 KiB. While a COPY streams, the receive low-water mark
// (SO_RCVLOWAT) makes the kernel wake the reader only once copyLowat bytes
// wait; see docs/design-notes.md ("Socket reads").
//
// What Linux does with the mark (tcp_data_ready, tcp_poll): the reader is
// not woken until copyLowat bytes wait, the connection is closed or reset,
// or the receive buffer or window runs short; a read that finds bytes
// returns them, however few. So the last bytes of a stream (its end, an
// error, a pause of the server) would never wake a parked reader: a read
// that has waited lowatRescue drops the mark to 1 byte, which wakes it at
// once if anything waits (setting SO_RCVLOWAT checks the queue), and the
// next read raises it again.
const (
	// copyLowat is the receive low-water mark while a COPY streams.
	copyLowat = 256 << 10
	// lowatAfter is how much of a COPY is read at the ordinary mark of 1
	// byte first: results that small never wait for lowatRescue.
	lowatAfter = 512 << 10
	// lowatRescue is how long a read waits on the high mark.
	lowatRescue = 5 * time.Millisecond
)

// lowatConn is a TCP connection whose reads can wait for copyLowat bytes.
// It sets no deadlines and reads none: pgconn's context watcher sets them
// on this connection (or the TLS connection over it) to interrupt a read,
// and a deadline wakes a parked read whatever the mark.
type lowatConn struct {
	net.Conn
	raw syscall.RawConn

	on     atomic.Bool  // a COPY is streaming (between begin and end)
	read   atomic.Int64 // bytes read since begin
	rescue *time.Timer  // runs drop after a read waited lowatRescue

	mu   sync.Mutex // orders the mark's changes between reads and drop
	high bool       // the mark is copyLowat

	rescues atomic.Int64 // reads that waited lowatRescue (tests)
}

// lowatDial wraps dial's TCP connections in a lowatConn.
func lowatDial(dial pgconn.DialFunc) pgconn.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return c, err
		}
		tcp, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		raw, err := tcp.SyscallConn()
		if err != nil {
			return c, nil
		}
		lc := &lowatConn{Conn: c, raw: raw}
		lc.rescue = time.AfterFunc(time.Hour, lc.drop)
		lc.rescue.Stop()
		return lc, nil
	}
}

// streamLowat returns the lowatConn under a pgconn's connection, or nil
// (a Unix socket).
func streamLowat(c net.Conn) *lowatConn {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	lc, _ := c.(*lowatConn)
	return lc
}

// begin starts a COPY's data phase; end must follow before the connection
// runs anything else.
func (c *lowatConn) begin() {
	c.read.Store(0)
	c.on.Store(true)
}

// end puts the mark back to 1 byte.
func (c *lowatConn) end() {
	c.on.Store(false)
	c.rescue.Stop()
	c.setHigh(false)
}

// drop is the rescue: the mark back to 1 byte until the next read.
func (c *lowatConn) drop() {
	if c.setHigh(false) {
		c.rescues.Add(1)
	}
}

// setHigh sets the mark to copyLowat or 1 byte, and says if it changed.
// An error (a closed connection) leaves the mark as it is: the read that
// follows fails, or a deadline ends it.
func (c *lowatConn) setHigh(high bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.high == high {
		return false
	}
	c.high = high
	mark := 1
	if high {
		mark = copyLowat
	}
	_ = c.raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, mark)
	})
	return true
}

func (c *lowatConn) Read(p []byte) (int, error) {
	if !c.on.Load() || c.read.Load() < lowatAfter {
		n, err := c.Conn.Read(p)
		c.read.Add(int64(n))
		return n, err
	}
	c.setHigh(true)
	c.rescue.Reset(lowatRescue)
	n, err := c.Conn.Read(p)
	c.rescue.Stop()
	c.read.Add(int64(n))
	return n, err
}
