package sourcemysql

import (
	"bufio"
	"context"
	"errors"
	"net"
	"syscall"
)

// readBufferSize is how much a connection asks of its socket at once.
// go-sql-driver/mysql reads into its own 4 KiB buffer, so a result set took
// one system call per 4 KiB: 113,590 reads for the 2M rows of
// bench/extract-mysql.sh's table. Through this buffer the driver's reads
// are copies: 11-13k reads, and the run's system time 15-25% lower in each
// of three pairs (its user time, and so its CPU in all, within this
// machine's noise).
const readBufferSize = 256 << 10

// errUnreadBytes is what an idle connection's liveness check meets when the
// server sent something nobody read: the driver then drops the connection.
var errUnreadBytes = errors.New("mysql source: unread bytes on an idle connection")

// bufferedDial is the driver's own dial (a net.Dialer, whose connections
// send TCP keep-alives) with reads through a readBufferSize buffer.
func bufferedDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	b := &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, readBufferSize)}
	if _, ok := c.(syscall.Conn); ok {
		return &checkableConn{b}, nil
	}
	return b, nil
}

// bufferedConn is a net.Conn whose reads go through r. Writes, deadlines
// and Close are the socket's.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// checkableConn is a bufferedConn over a socket, which the driver checks
// for liveness before it reuses an idle connection: it reads the socket
// itself through syscall.Conn, expecting nothing to be there, and drops the
// connection when something is (a server that closed it, for one). Bytes
// already in the buffer count as something.
type checkableConn struct{ *bufferedConn }

func (c *checkableConn) SyscallConn() (syscall.RawConn, error) {
	if c.r.Buffered() > 0 {
		return nil, errUnreadBytes
	}
	return c.Conn.(syscall.Conn).SyscallConn()
}
