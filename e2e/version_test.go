package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestVersionPrintsBuildAndLibraries: the built binary names its commit and
// the River and arrow-go versions go.mod requires.
func TestVersionPrintsBuildAndLibraries(t *testing.T) {
	t.Parallel()
	r := mustWharf(t, t.TempDir(), nil, "version")
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for label, mod := range map[string]string{"river": "github.com/riverqueue/river", "arrow-go": "github.com/apache/arrow-go/v18"} {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(mod) + ` (v\S+)`).FindStringSubmatch(string(gomod))
		if m == nil {
			t.Fatalf("go.mod requires no %s", mod)
		}
		if line := fmt.Sprintf("\n  %-9s %s\n", label, m[1]); !strings.Contains(r.stdout, line) {
			t.Errorf("version: want the line %q:\n%s", line, r)
		}
	}
	if !regexp.MustCompile(`^wharf \S+\n  commit    \S+`).MatchString(r.stdout) || !strings.Contains(r.stdout, "\n  go        go1.") {
		t.Errorf("version: want wharf VERSION, commit and go lines:\n%s", r)
	}
}
