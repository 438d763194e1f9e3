package sourcepostgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// A COPY's rows arrive one CopyData message each. pgconn.CopyTo receives
// every message through pgproto3 (a buffered chunk reader, a message
// value, a type switch) and calls its writer once per message: ~4% of a
// run's CPU for framing alone. copyOut reads the connection itself, in
// copyReadSize reads, and hands each CopyData payload to the writer straight
// from its buffer; pgproto3 still encodes the query and decodes every
// other message (see docs/design-notes.md, "Written by hand").

// copyReadSize is how much of the socket one read may take: the socket
// holds far more than PostgreSQL's 8 KiB sends when wharf is the slower
// side, and one read takes it all (4,803 reads became 183 for 200k rows).
const copyReadSize = 256 << 10

// maxCopyMessage bounds a message other than CopyData (an error, a notice,
// the command tag): a longer one means the stream is not what it claims.
const maxCopyMessage = 64 << 20

// copyOut runs sql, a COPY ... TO STDOUT (FORMAT binary), on pc and writes
// the stream's bytes to w, returning the command's tag. It uses pc's
// connection directly (after pgconn.SyncConn, as pgconn documents) and
// leaves it as pgconn.CopyTo does: ready for the next statement once the
// server has said so, closed after an error that leaves the stream in an
// unknown place (a read or write error, a cancelled ctx, w's error, a
// protocol violation). The server's own error (*pgconn.PgError) leaves the
// connection usable, its transaction failed.
func copyOut(ctx context.Context, pc *pgconn.PgConn, sql string, w io.Writer) (pgconn.CommandTag, error) {
	return copyOutSized(ctx, pc, sql, w, copyReadSize)
}

// copyOutSized is copyOut with reads of at most readSize bytes (tests use
// tiny ones to split messages everywhere).
func copyOutSized(ctx context.Context, pc *pgconn.PgConn, sql string, w io.Writer, readSize int) (pgconn.CommandTag, error) {
	if pc.IsClosed() {
		return pgconn.CommandTag{}, errors.New("connection closed")
	}
	if pc.IsBusy() {
		return pgconn.CommandTag{}, errors.New("connection busy")
	}
	if err := ctx.Err(); err != nil { // nothing sent: the connection stays as it is
		return pgconn.CommandTag{}, err
	}
	if err := pc.SyncConn(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	conn := pc.Conn()
	c := copyConn{conn: conn, buf: make([]byte, readSize), readSize: readSize}

	// A cancelled ctx interrupts a blocked read or write with a deadline
	// in the past; the connection is then abandoned below, unless the
	// server ended the statement first.
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = conn.SetDeadline(time.Unix(1, 0))
		close(fired)
	})
	tag, err := c.run(sql, w)
	if !stop() {
		<-fired
		if c.usable {
			_ = conn.SetDeadline(time.Time{})
		}
	}
	if !c.usable {
		abandon(pc, !c.fatal)
		return tag, err
	}
	if c.txStatus != pc.TxStatus() {
		// pgconn keeps the transaction's status from ReadyForQuery, which
		// it did not see (after an error in a transaction: failed); a
		// round trip of its own brings it up to date.
		_ = pc.Ping(ctx)
	}
	return tag, err
}

// abandon ends a connection whose stream is in an unknown place, as
// pgconn does after an interrupted read: the connection is marked closed
// at once (pgconn.Hijack), and in the background the server is asked to
// cancel the statement (which may be stuck on a lock or a slow function
// and would not notice a closed socket until it next sends), sent
// Terminate, and read to its end, so that the socket closes cleanly rather
// than with a reset; all of it within 15 seconds. A backend that ended the
// session itself (a FATAL error) has no statement left to cancel.
func abandon(pc *pgconn.PgConn, cancelStatement bool) {
	hc, err := pc.Hijack()
	if err != nil { // not idle: pgconn's own Close is all there is
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = pc.Close(ctx)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		defer hc.Conn.Close()
		if cancelStatement {
			_ = pc.CancelRequest(ctx)
		}
		deadline, _ := ctx.Deadline()
		_ = hc.Conn.SetDeadline(deadline)
		if terminate, err := (&pgproto3.Terminate{}).Encode(nil); err == nil {
			_, _ = hc.Conn.Write(terminate)
		}
		_, _ = io.Copy(io.Discard, hc.Conn)
	}()
}

// copyConn is one COPY's reading of the connection.
type copyConn struct {
	conn     net.Conn
	buf      []byte
	readSize int // the most one read takes
	r, n     int // unread bytes are buf[r:n]
	// usable: the server ended the statement (ReadyForQuery), so the
	// connection is in step whatever the outcome; txStatus is what
	// ReadyForQuery said of the transaction.
	usable   bool
	txStatus byte
	fatal    bool // the server's error ends the session
}

func (c *copyConn) run(sql string, w io.Writer) (tag pgconn.CommandTag, err error) {
	q, err := (&pgproto3.Query{String: sql}).Encode(nil)
	if err != nil {
		return tag, err
	}
	if _, err := c.conn.Write(q); err != nil {
		return tag, err
	}
	var result error // the server's error
	defer func() {
		// A server that ends the session (a FATAL error: terminated,
		// shutting down) closes the socket after saying why; the why is
		// the error.
		if err != nil && result != nil {
			err = result
		}
	}()
	for {
		if c.n-c.r < 5 {
			if err := c.need(5); err != nil {
				return tag, err
			}
		}
		typ := c.buf[c.r]
		size := int(binary.BigEndian.Uint32(c.buf[c.r+1:])) - 4
		c.r += 5
		if size < 0 {
			return tag, fmt.Errorf("message %q with length %d", typ, size+4)
		}
		if typ == 'd' { // CopyData: a stream of bytes, handed on as it arrives
			for size > 0 {
				if c.r == c.n {
					if err := c.fill(); err != nil {
						return tag, err
					}
				}
				k := min(size, c.n-c.r)
				if _, err := w.Write(c.buf[c.r : c.r+k]); err != nil {
					// Reading on to the end could take as long as the
					// whole table: the connection is closed instead.
					return tag, err
				}
				c.r += k
				size -= k
			}
			continue
		}
		if size > maxCopyMessage {
			return tag, fmt.Errorf("message %q of %d bytes", typ, size)
		}
		if err := c.need(size); err != nil {
			return tag, err
		}
		body := c.buf[c.r : c.r+size]
		c.r += size
		switch typ {
		case 'H': // CopyOutResponse
			var m pgproto3.CopyOutResponse
			if err := m.Decode(body); err != nil {
				return tag, err
			}
			if m.OverallFormat != 1 {
				return tag, errors.New("the server sends text, not binary")
			}
		case 'c': // CopyDone
		case 'C': // CommandComplete
			var m pgproto3.CommandComplete
			if err := m.Decode(body); err != nil {
				return tag, err
			}
			tag = pgconn.NewCommandTag(string(m.CommandTag))
		case 'E': // ErrorResponse; ReadyForQuery follows
			var m pgproto3.ErrorResponse
			if err := m.Decode(body); err != nil {
				return tag, err
			}
			pgErr := pgconn.ErrorResponseToPgError(&m)
			c.fatal = strings.EqualFold(pgErr.Severity, "FATAL")
			result = pgErr
		case 'N', 'S', 'A':
			// A notice, a parameter's new value, a notification: nothing
			// a COPY's reader acts on (wharf sets no handler for them and
			// LISTENs to nothing).
		case 'Z': // ReadyForQuery
			var m pgproto3.ReadyForQuery
			if err := m.Decode(body); err != nil {
				return tag, err
			}
			if left := c.asides(); left > 0 {
				// pgconn cannot be handed bytes back.
				return tag, fmt.Errorf("%d bytes from the server after the statement ended", left)
			}
			c.usable, c.txStatus = true, m.TxStatus
			return tag, result
		default:
			return tag, fmt.Errorf("unexpected message %q from the server", typ)
		}
	}
}

// asides passes over the complete notices, parameter changes and
// notifications already read after ReadyForQuery, and returns how many
// bytes are left then: none, unless the server sent something else or the
// read ended inside a message.
func (c *copyConn) asides() int {
	for c.n-c.r >= 5 {
		end := c.r + 1 + int(binary.BigEndian.Uint32(c.buf[c.r+1:]))
		if t := c.buf[c.r]; (t != 'N' && t != 'S' && t != 'A') || end > c.n || end < c.r+5 {
			break
		}
		c.r = end
	}
	return c.n - c.r
}

// need reads until n bytes are unread, moving them to the front of buf, or
// into a larger one, when they would not fit.
func (c *copyConn) need(n int) error {
	for c.n-c.r < n {
		if n > len(c.buf)-c.r {
			dst := c.buf
			if n > len(c.buf) {
				dst = make([]byte, n)
			}
			c.n = copy(dst, c.buf[c.r:c.n])
			c.r = 0
			c.buf = dst
		}
		if err := c.fill(); err != nil {
			return err
		}
	}
	return nil
}

// fill reads once into the free end of buf, which it first empties when
// nothing in it is unread.
func (c *copyConn) fill() error {
	if c.r == c.n {
		c.r, c.n = 0, 0
	}
	k, err := c.conn.Read(c.buf[c.n:min(len(c.buf), c.n+c.readSize)])
	c.n += k
	if k > 0 {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
