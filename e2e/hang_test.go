package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSilentServerDoesNotHang: a source that accepts connections and never
// answers fails the run at --run-timeout, saying so, instead of hanging
// wharf run forever.
func TestSilentServerDoesNotHang(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // accepted, never answered
		}
	}()
	dir := t.TempDir()
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(fmt.Sprintf(`connections:
  silent: {engine: postgres, secret: env:SILENT_URL}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - {name: silent, table: public.t, cursor: updated_at}
`, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SILENT_URL=postgres://app:pw@" + ln.Addr().String() + "/db?sslmode=disable",
		"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}
	start := time.Now()
	r := wharf(t, dir, env, "run", "-c", catPath, "silent", "--run-timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stderr, "--run-timeout 2s") {
		t.Fatalf("want exit 1 naming --run-timeout:\n%s", r)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("wharf run took %s against a silent server with --run-timeout 2s", d)
	}
	for _, c := range held {
		c.Close()
	}
}
