package blueprint_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestChunksReadByAnotherProcess: a parallel run of a PostgreSQL table
// records its chunks with their orders (Lander.QueueChunks); another
// lander (another process: its own ID, sources and lakes) reads chunks
// from the orders alone (LandChunk) while the run's own stream reads the
// rest. The run commits once: every row once, masked with the same salt
// and partitioned alike whoever read it, in a Parquet and an Iceberg lake.
func TestChunksReadByAnotherProcess(t *testing.T) {
	t.Parallel()
	const rows = 100_000
	dsn, schema := testdb.PostgresSchema(t)
	src, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(context.Background())
	for _, q := range []string{
		`CREATE TABLE people (id bigint PRIMARY KEY, email text, region text NOT NULL, updated_at timestamptz NOT NULL)`,
		fmt.Sprintf(`INSERT INTO people SELECT g, md5(g::text) || '@example.com', 'r' || (g %% 3),
			'2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, %d) g`, rows),
	} {
		if _, err := src.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{catalog.LakeParquet, catalog.LakeIceberg} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			// The secrets are bare names, found in each process's own
			// secrets folder (Lander.Secrets): c's is empty.
			dir, secrets := t.TempDir(), t.TempDir()
			secret := func(name, value string) string {
				if err := os.WriteFile(filepath.Join(secrets, name+".json"), []byte(value), 0o600); err != nil {
					t.Fatal(err)
				}
				return name
			}
			lakeDir := filepath.Join(dir, "lake")
			job := &catalog.Resolved{
				Workflow: catalog.Workflow{Name: "people", Connection: "hr", Table: schema + ".people", Lake: "raw", Cursor: "updated_at",
					Blueprint: "landing", Format: "parquet", Parallel: 4, PartitionBy: "region",
					Choices: catalog.ColumnChoices{Mask: map[string]string{"email": "sha256"}, MaskSalt: secret("salt", "pepper")}},
				Connection: catalog.Connection{Name: "hr", Engine: "postgres", Secret: secret("hr", dsn)},
				Lake:       catalog.Lake{Name: "raw", URL: "file://" + lakeDir, Format: format},
			}
			st, err := stateurl.Open(t.Context(), "sqlite:"+filepath.Join(dir, "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, id := range []string{"a", "b", "c"} {
				if err := st.Heartbeat(t.Context(), &state.Worker{ID: id, Host: "elsewhere", PID: 1, Role: "serve", DeadAfter: time.Hour}); err != nil {
					t.Fatal(err)
				}
			}
			orders := make(chan []blueprint.ChunkOrder, 1)
			a := &blueprint.Lander{State: st, WorkerID: "a", Secrets: "file:" + secrets, QueueChunks: func(_ context.Context, _ any, o []blueprint.ChunkOrder) error {
				orders <- o
				return nil
			}}
			b := &blueprint.Lander{State: st, WorkerID: "b", Secrets: "file:" + secrets}
			c := &blueprint.Lander{State: st, WorkerID: "c", Secrets: "file:" + t.TempDir()}
			defer a.Close()
			defer b.Close()
			defer c.Close()

			var wg sync.WaitGroup
			var res *blueprint.Result
			landed := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(landed)
				res, _ = a.Land(t.Context(), job, state.TriggerManual)
			}()
			var got []blueprint.ChunkOrder
			select {
			case got = <-orders:
			case <-landed:
				t.Fatalf("the run ended without recording chunks: %+v", res)
			}
			// c cannot resolve the secrets: it fails without claiming.
			if err := c.LandChunk(t.Context(), job, got[0]); err == nil || !strings.Contains(err.Error(), `secret "salt"`) {
				t.Errorf("a chunk on a process without the secrets: %v, want an error naming the secret", err)
			}
			// b reads the first chunks, two at once, as two chunk jobs would.
			sem := make(chan struct{}, 2)
			for _, o := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					if err := b.LandChunk(t.Context(), job, o); err != nil && !errors.Is(err, blueprint.ErrChunkNotTaken) {
						t.Errorf("chunk %d: %v", o.Chunk+1, err)
					}
				}()
			}
			wg.Wait()
			if res == nil || res.Err != nil || res.Rows != rows {
				t.Fatalf("run %+v, want %d rows landed", res, rows)
			}
			chunks, err := st.RunChunks(t.Context(), res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			byB := 0
			for _, c := range chunks {
				if c.WorkerID == "b" {
					byB++
				}
				if c.WorkerID == "c" || c.Attempts != 1 {
					t.Errorf("chunk %d: read by %s in %d attempts, want once by a or b", c.Chunk+1, c.WorkerID, c.Attempts)
				}
			}
			if len(chunks) < 4 || byB == 0 || byB == len(chunks) {
				t.Fatalf("%d chunks, %d read by the other process; want some by each", len(chunks), byB)
			}

			seen := map[int64]int{}
			for _, f := range res.Files {
				tbl := parquettest.ReadFile(t, filepath.Join(lakeDir, f.Path))
				sch := tbl.Schema()
				ids, emails := sch.FieldIndices("id")[0], sch.FieldIndices("email")[0]
				idCol, emailCol := tbl.Column(ids).Data().Chunks(), tbl.Column(emails).Data().Chunks()
				for c := range idCol {
					for i := range idCol[c].Len() {
						id := idCol[c].(*array.Int64).Value(i)
						seen[id]++
						sum := sha256.Sum256(fmt.Appendf(nil, "pepper%x@example.com", md5.Sum([]byte(strconv.FormatInt(id, 10)))))
						if got := emailCol[c].(*array.String).Value(i); got != hex.EncodeToString(sum[:]) {
							t.Fatalf("%s: id %d: email %q, want its sha256 with the salt", f.Path, id, got)
						}
					}
				}
			}
			if len(seen) != rows {
				t.Fatalf("%d ids in the lake, want %d", len(seen), rows)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("id %d landed %d times", id, n)
				}
			}
		})
	}
}
