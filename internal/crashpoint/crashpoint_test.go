package crashpoint

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// The child process hits point "x" three times, saying so after each.
func TestMain(m *testing.M) {
	if os.Getenv("CRASHPOINT_CHILD") == "1" {
		for i := 1; i <= 3; i++ {
			Hit("y")
			Hit("x")
			fmt.Println("survived hit", i)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(t *testing.T, spec string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CRASHPOINT_CHILD=1", Env+"="+spec)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestHitKillsAtTheNthHit(t *testing.T) {
	out, err := child(t, "x:2")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child should die of SIGKILL, got %v:\n%s", err, out)
	}
	if !strings.Contains(out, "survived hit 1") || strings.Contains(out, "survived hit 2") || !strings.Contains(out, Env+"=x: killing the process") {
		t.Errorf("child should survive the first hit of x and die at the second:\n%s", out)
	}
}

func TestUnarmedOrBadSpecDoesNothing(t *testing.T) {
	for _, spec := range []string{"", "z", "x:0", "x:two"} {
		out, err := child(t, spec)
		if err != nil || !strings.Contains(out, "survived hit 3") {
			t.Errorf("%s=%q: child should run to the end: %v\n%s", Env, spec, err, out)
		}
	}
	if out, _ := child(t, "x:0"); !strings.Contains(out, "crash point ignored") {
		t.Errorf("a bad spec should be reported:\n%s", out)
	}
}
