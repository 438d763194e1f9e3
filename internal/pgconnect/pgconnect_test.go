package pgconnect

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// refusingServer speaks the PostgreSQL protocol as a server with ssl=off and
// password authentication does: it declines TLS and refuses the password.
// The PostgreSQL the tests share trusts every local connection, so it never
// asks for a password.
func refusingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				be := pgproto3.NewBackend(c, c)
				for {
					msg, err := be.ReceiveStartupMessage()
					if err != nil {
						return
					}
					switch m := msg.(type) {
					case *pgproto3.SSLRequest:
						if _, err := c.Write([]byte("N")); err != nil {
							return
						}
						continue
					case *pgproto3.StartupMessage:
						be.Send(&pgproto3.AuthenticationCleartextPassword{})
						if be.Flush() != nil || be.SetAuthType(pgproto3.AuthTypeCleartextPassword) != nil {
							return
						}
						if _, err := be.Receive(); err != nil {
							return
						}
						be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01",
							Message: `password authentication failed for user "` + m.Parameters["user"] + `"`})
						_ = be.Flush()
						return
					default:
						return
					}
				}
			}(c)
		}
	}()
	return ln.Addr().String()
}

func TestExplainLeadsWithTheServersRefusal(t *testing.T) {
	addr := refusingServer(t)
	_, err := pgx.Connect(context.Background(), "postgres://alice:wrong@"+addr+"/db?sslmode=prefer")
	if err == nil {
		t.Fatal("connected")
	}
	got := Explain(err).Error()
	want := `password authentication failed for user "alice" (SQLSTATE 28P01) (other attempts: ` + addr + ` (127.0.0.1): tls error: server refused TLS connection)`
	if got != want {
		t.Errorf("Explain:\n got %s\nwant %s\n(pgx said: %v)", got, want, err)
	}
	var pe *pgconn.PgError
	if !errors.As(Explain(err), &pe) || pe.Code != "28P01" {
		t.Errorf("errors.As(*PgError) lost: %v", pe)
	}
}

func TestExplainLeavesOtherErrors(t *testing.T) {
	e := errors.New("boom")
	if Explain(e) != e {
		t.Error("changed an error that is not a connect error")
	}
}

// A host name that does not resolve: pgx joins each lookup's failure with
// a newline under "hostname resolving error"; Explain says it once, on one
// line.
func TestExplainUnresolvableHostOnOneLine(t *testing.T) {
	_, err := pgconn.Connect(context.Background(), "postgres://u@nosuchhost.invalid:5432/x?connect_timeout=5")
	if err == nil {
		t.Fatal("connected to nosuchhost.invalid")
	}
	msg := Explain(err).Error()
	parts := strings.Split(msg, "; ")
	slices.Sort(parts)
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "lookup nosuchhost.invalid") || len(slices.Compact(parts)) != len(strings.Split(msg, "; ")) {
		t.Errorf("Explain = %q, want each lookup failure once, on one line (pgx: %q)", msg, err.Error())
	}
}
