package blueprint_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/lake"
)

// Each run that lands files writes its manifest after the commit; a run
// with nothing new writes none; a manifest lost between commit and write (a
// crash) is written by the next run, from the state store and the footers.
func TestManifests(t *testing.T) {
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00'),(2,'us',2.50,'2024-01-01 11:00:00')`)
	first := f.land()
	ctx := context.Background()
	l, err := lake.Open(ctx, "file://"+f.lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	m, err := l.ReadManifest(ctx, "shop/orders", first.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Workflow != "orders" || m.Rows != 2 || len(m.Files) != 1 || m.Files[0].Path != first.Files[0].Path || m.Files[0].Bytes != first.Files[0].Bytes ||
		m.Window.Cursor != "updated_at" || !m.Window.FullLoad || m.Window.After != nil ||
		m.Window.Through == nil || m.Window.Through.Value != "2024-01-01T11:00:00.000000" || m.Window.Through.Type != "timestamp" || m.Repaired {
		t.Errorf("first manifest: %+v (window %+v)", m, m.Window)
	}
	if len(m.Schema) != 5 || m.Schema[0].Name != "id" || m.Schema[4].Name != "ingestion_timestamp" || m.Schema[4].Arrow != "timestamp[us, tz=UTC]" {
		t.Errorf("schema summary %+v", m.Schema)
	}
	if m.CommittedAt.Before(m.StartedAt) {
		t.Errorf("committed %v before started %v", m.CommittedAt, m.StartedAt)
	}

	nothing := f.land()
	if _, err := l.ReadManifest(ctx, "shop/orders", nothing.RunID); !errors.Is(err, lake.ErrNoManifest) {
		t.Errorf("a run that landed nothing should have no manifest: %v", err)
	}

	// A crash between commit and manifest: the manifest is gone.
	f.job.Workflow.Lookback = time.Hour
	f.exec(`INSERT INTO orders VALUES (3,'eu',3.50,'2024-01-02 10:00:00')`)
	second := f.land()
	key := filepath.Join(f.lakeDir, filepath.FromSlash(lake.ManifestKey("shop/orders", second.RunID)))
	want, err := l.ReadManifest(ctx, "shop/orders", second.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if want.Window.After == nil || want.Window.After.Value != "2024-01-01T10:00:00.000000" {
		t.Errorf("second window starts after %+v, want the watermark less the lookback (10:00)", want.Window.After)
	}
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	f.land()
	got, err := l.ReadManifest(ctx, "shop/orders", second.RunID)
	if err != nil {
		t.Fatalf("the next run should have written the lost manifest: %v", err)
	}
	if !got.Repaired || got.Rows != want.Rows || got.Bytes != want.Bytes || len(got.Files) != 1 || got.Files[0] != want.Files[0] ||
		*got.Window.After != *want.Window.After || *got.Window.Through != *want.Window.Through || got.Window.Cursor != "updated_at" ||
		len(got.Schema) != len(want.Schema) || got.Schema[4] != want.Schema[4] || !got.StartedAt.Equal(want.StartedAt) {
		t.Errorf("repaired manifest\n%+v\nwant (but repaired)\n%+v", got, want)
	}
}
