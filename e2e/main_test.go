// Package e2e drives the built wharf binary against real databases, as a
// user would: quickstart, a Glue-format catalog against PostgreSQL, and
// incremental runs.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

var wharfBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wharf-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wharfBin = filepath.Join(dir, "wharf")
	_, here, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-o", wharfBin, "./cmd/wharf")
	build.Dir = filepath.Join(filepath.Dir(here), "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build wharf:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// wharf runs the binary in dir with extra environment variables.
func wharf(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(wharfBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run wharf %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// mustWharf runs wharf and fails the test unless it exits 0.
func mustWharf(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	r := wharf(t, dir, env, args...)
	if r.code != 0 {
		t.Fatalf("wharf %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// parquetFiles lists the .parquet files under root, sorted, relative to root.
func parquetFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// allFiles lists every regular file under root (to catch stray temp files).
func allFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}
