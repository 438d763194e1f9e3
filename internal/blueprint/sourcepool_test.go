package blueprint

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/source"
)

// TestSourcePoolReusesAFinishedRunsSource: a closed source serves the next
// run of its connection; two runs at once get two sources; idle ones are
// closed after sourceIdleFor and by close.
func TestSourcePoolReusesAFinishedRunsSource(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("POOL_DB", "sqlite:"+dbPath)
	conn := &catalog.Connection{Name: "shop", Engine: "sqlite", Secret: "env:POOL_DB"}
	now := time.Now()
	p := &sourcePool{now: func() time.Time { return now }}
	ctx := context.Background()
	under := func(s source.Source) source.Source { return s.(*pooledSource).Source }

	a, err := p.open(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.open(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if under(a) == under(b) {
		t.Fatal("two runs at once got the same source")
	}
	first := under(a)
	a.Close()
	a.Close() // a second Close gives nothing back twice
	if p.n != 1 {
		t.Fatalf("%d idle sources after one run closed its source (twice), want 1", p.n)
	}
	c, err := p.open(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if under(c) != first {
		t.Fatal("the next run opened a new source instead of taking the idle one")
	}
	other := *conn
	other.Name = "shop2"
	d, err := p.open(ctx, &other, "")
	if err != nil {
		t.Fatal(err)
	}
	if under(d) == first || under(d) == under(b) {
		t.Fatal("another connection got this connection's source")
	}
	b.Close()
	c.Close()
	d.Close()
	if p.n != 3 {
		t.Fatalf("%d idle sources, want 3", p.n)
	}

	now = now.Add(sourceIdleFor + time.Second)
	p.sweep()
	if p.n != 0 {
		t.Fatalf("%d idle sources after %s, want 0", p.n, sourceIdleFor)
	}
	if _, err := first.Describe(ctx, source.TableRef{Name: "t"}); err == nil {
		t.Fatal("a source idle for longer than sourceIdleFor is still open")
	}

	e, err := p.open(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := under(e).Describe(ctx, source.TableRef{Name: "t"}); err == nil {
		t.Fatal("close left an idle source open")
	}
	f, err := p.open(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if p.n != 0 {
		t.Fatal("a closed pool kept a source")
	}
}
