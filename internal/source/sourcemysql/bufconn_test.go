package sourcemysql

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/testdb"
)

// A connection the server closed while it sat idle in the pool is found out
// by the driver's liveness check, through the buffered connection, and the
// next query runs on a new one instead of failing.
func TestIdleConnectionKilledByServer(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	ctx := context.Background()
	s, err := Open(ctx, tdb.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.SetMaxOpenConns(1) // the query below can only get the killed connection or a new one
	var id int64
	if err := s.db.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := tdb.Admin.ExecContext(ctx, "KILL CONNECTION ?", id); err != nil {
		t.Fatal(err)
	}
	// KILL returns before the socket is closed: wait until the server no
	// longer lists the connection.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := tdb.Admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection %d still listed 10 s after KILL", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the FIN on its way over loopback
	var again int64
	if err := s.db.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&again); err != nil {
		t.Fatalf("query after the idle connection was killed: %v", err)
	}
	if again == id {
		t.Errorf("the query ran on connection %d, which was killed", id)
	}
}

// Reads are served from the buffer in the order sent; bytes left in the
// buffer fail the liveness check's access to the socket, an empty buffer
// passes it through.
func TestBufferedConnReadsAndCheck(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sent := strings.Repeat("0123456789", 100_000) // 1 MB: several buffers
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, sent)
	}()
	c, err := bufferedDial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("%T over TCP does not offer the socket for the liveness check", c)
	}
	head := make([]byte, 10)
	if _, err := io.ReadFull(c, head); err != nil || string(head) != sent[:10] {
		t.Fatalf("first read %q, %v; want %q", head, err, sent[:10])
	}
	if _, err := sc.SyscallConn(); !errors.Is(err, errUnreadBytes) {
		t.Errorf("SyscallConn with bytes in the buffer: %v, want %v", err, errUnreadBytes)
	}
	rest, err := io.ReadAll(c)
	if err != nil || string(head)+string(rest) != sent {
		t.Fatalf("read %d bytes (%v), want the %d sent", len(head)+len(rest), err, len(sent))
	}
	if _, err := sc.SyscallConn(); err != nil {
		t.Errorf("SyscallConn with the buffer empty: %v", err)
	}
}
