package lake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestListSurvivesVanishingTempFiles lists a file lake while another
// writer keeps creating and renaming temporary files next to the listed
// ones, as concurrent runs sharing a lake do: a file that vanishes between
// the directory read and its stat must not end the listing as a missing
// bucket.
func TestListSurvivesVanishingTempFiles(t *testing.T) {
	t.Parallel()
	l, root := openLake(t)
	ctx := context.Background()
	dir := filepath.Join(root, "hr", "countries", "ingestion_date=2026-11-30")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-r%d-00000.parquet", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // another run: temp file, then rename, then remove
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tmp := filepath.Join(dir, fmt.Sprintf("part-w%d-00000.parquet.%x.tmp", i, i))
			_ = os.WriteFile(tmp, []byte("x"), 0o644)
			_ = os.Rename(tmp, tmp+".done")
			_ = os.Remove(tmp + ".done")
			time.Sleep(3 * time.Millisecond) // a run renames a file now and then, not in a loop
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for i := range 60 {
		if _, err := l.List(ctx, "hr/countries"); err != nil {
			t.Fatalf("listing %d: %v", i, err)
		}
	}
}
