// Package jsread reads what wharf wrote with two more Parquet readers that
// share no code with arrow-go or DuckDB: hyparquet (a Parquet reader
// written in JavaScript) and nodejs-polars (Polars' Rust reader), for
// tests. scripts/test-services.sh installs both with npm into
// $WHARF_TEST_CACHE/parquet-readers (default ~/.cache/wharf-test); when
// they are missing a test is skipped, and fails under CI=true.
package jsread

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wharf-data/wharf/internal/testdb"
)

//go:embed read.mjs
var script []byte

// The readers' versions are pinned in scripts/test-services.sh.
const (
	Hyparquet = "hyparquet"
	Polars    = "polars"
)

// Dir is where scripts/test-services.sh installs the readers.
func Dir() string {
	cache := os.Getenv("WHARF_TEST_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "wharf-test")
	}
	return filepath.Join(cache, "parquet-readers")
}

// Rows reads the Parquet file at path with reader and returns its column
// names and rows, each value as canonical text (nil for NULL): integers,
// dates (days since 1970), times (microseconds), timestamps (in the
// file's unit) and decimals (unscaled) in base 10; text and JSON as they
// are; binary in lower-case hex; UUIDs as 8-4-4-4-12 hex; booleans as
// true/false.
func Rows(t testing.TB, reader, path string) (names []string, rows [][]*string) {
	t.Helper()
	dir := Dir()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "installed")) // written when npm install succeeded
	}
	if err != nil {
		testdb.Unavailable(t, "node with the Parquet readers installed in "+dir, err)
	}
	// The script sits beside node_modules so that node resolves its imports.
	scriptDir, err := os.MkdirTemp(dir, "script-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(scriptDir) })
	file := filepath.Join(scriptDir, "read.mjs")
	if err := os.WriteFile(file, script, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(node, file, reader, path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s read %s: %v\n%s", reader, path, err, stderr.Bytes())
	}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if names == nil {
			if err := json.Unmarshal(sc.Bytes(), &names); err != nil {
				t.Fatalf("%s: column names %q: %v", reader, sc.Bytes(), err)
			}
			continue
		}
		var row []*string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: row %d %q: %v", reader, len(rows), sc.Bytes(), err)
		}
		if len(row) != len(names) {
			t.Fatalf("%s: row %d has %d values for %d columns", reader, len(rows), len(row), len(names))
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", reader, err))
	}
	return names, rows
}
