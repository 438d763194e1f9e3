package cli

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofServesLoopbackOnly: --pprof serves live profiles on a loopback
// address, never on another (profiles are for whoever runs the process),
// and leaves out /cmdline (the command line may hold a password).
func TestPprofServesLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:6060"} {
		if stop, _, err := servePprof(addr); err == nil {
			stop()
			t.Errorf("servePprof(%q) served; want a loopback-only error", addr)
		}
	}
	stop, addr, err := servePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "HeapInuse") {
		t.Errorf("heap profile: %d %.80q", code, body)
	}
	if code, body := get("/debug/pprof/cmdline"); strings.Contains(body, "test") {
		t.Errorf("/debug/pprof/cmdline: %d %.80q; want no command line", code, body)
	}
}
