package blueprint_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
	"github.com/wharf-data/wharf/internal/testdb"
)

// fixture is a SQLite source table, a file lake and a SQLite state store.
type fixture struct {
	t       *testing.T
	dir     string
	db      *sql.DB
	st      state.Store
	lander  *blueprint.Lander
	job     *catalog.Resolved
	lakeDir string
	now     func() time.Time // the clock; nil = time.Now
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, dir: dir, db: db, lakeDir: filepath.Join(dir, "lake")}
	// The store's clock is the lander's: a test may stop it (f.now).
	st, err := stateurl.Open(context.Background(), "sqlite:"+filepath.Join(dir, "state.db"), state.WithClock(func() time.Time {
		if f.now != nil {
			return f.now()
		}
		return time.Now()
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, region TEXT, amount DECIMAL(10,2), updated_at TIMESTAMP)`)
	// The source's secret is a file of the test's own (not an environment
	// variable), so that tests run in parallel.
	secretPath := filepath.Join(dir, "shop.secret")
	if err := os.WriteFile(secretPath, []byte("sqlite:"+dbPath), 0o600); err != nil {
		t.Fatal(err)
	}
	f.job = &catalog.Resolved{
		Workflow:   catalog.Workflow{Name: "orders", Connection: "shop", Table: "orders", Lake: "raw", Cursor: "updated_at", Blueprint: "landing", Format: "parquet"},
		Connection: catalog.Connection{Name: "shop", Engine: "sqlite", Secret: "file:" + secretPath},
		Lake:       catalog.Lake{Name: "raw", URL: "file://" + f.lakeDir},
	}
	f.lander = &blueprint.Lander{State: st}
	t.Cleanup(func() { f.lander.Close() })
	return f
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Exec(q, args...); err != nil {
		f.t.Fatalf("%v: %s", err, q)
	}
}

func (f *fixture) land() *blueprint.Result {
	f.t.Helper()
	res, err := f.lander.Land(context.Background(), f.job, "manual")
	if err != nil {
		f.t.Fatalf("land: %v", err)
	}
	return res
}

// ids reads the id column of the files a result landed.
func (f *fixture) ids(res *blueprint.Result) []int64 {
	f.t.Helper()
	var out []int64
	for _, file := range res.Files {
		tbl := parquettest.ReadFile(f.t, filepath.Join(f.lakeDir, file.Path))
		for _, c := range tbl.Column(0).Data().Chunks() {
			for i := 0; i < c.Len(); i++ {
				out = append(out, c.(*array.Int64).Value(i))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func TestLandingWindowsAndIngestionTimestamp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00'),(2,'us',2.50,'2024-01-01 11:00:00'),(3,NULL,3.50,NULL)`)
	now := time.Date(2026, 11, 25, 8, 30, 0, 123456789, time.UTC)
	f.now = func() time.Time { return now }

	res := f.land()
	if !res.FullLoad || res.Rows != 3 || res.WatermarkTo.String() != "2024-01-01T11:00:00.000000" {
		t.Fatalf("first run: full=%v rows=%d wm=%s, want a full load of 3 rows (NULL cursor included) up to 11:00", res.FullLoad, res.Rows, res.WatermarkTo)
	}
	if len(res.Files) != 1 || !strings.HasPrefix(res.Files[0].Path, "shop/orders/ingestion_date=2026-11-25/part-"+res.RunID+"-00000") {
		t.Fatalf("files %+v: want shop/orders/ingestion_date=2026-11-25/part-<run>-00000.parquet", res.Files)
	}
	tbl := parquettest.ReadFile(t, filepath.Join(f.lakeDir, res.Files[0].Path))
	ts := tbl.Column(tbl.Schema().FieldIndices("ingestion_timestamp")[0]).Data().Chunk(0).(*array.Timestamp)
	for i := 0; i < ts.Len(); i++ {
		if got := time.UnixMicro(int64(ts.Value(i))).UTC(); !got.Equal(now.Truncate(time.Microsecond)) {
			t.Errorf("row %d ingestion_timestamp %v, want the run start %v", i, got, now.Truncate(time.Microsecond))
		}
	}

	// Only rows after the watermark land; NULL cursors do not land again.
	f.exec(`UPDATE orders SET amount = 9.99, updated_at = '2024-01-02 09:00:00' WHERE id = 1`)
	f.exec(`INSERT INTO orders VALUES (4,'eu',4.50,'2024-01-02 09:30:00')`)
	res = f.land()
	if res.FullLoad || fmt.Sprint(f.ids(res)) != "[1 4]" {
		t.Fatalf("second run landed %v (full=%v), want ids 1 and 4 incrementally", f.ids(res), res.FullLoad)
	}
	if res.WatermarkFrom.String() != "2024-01-01T11:00:00.000000" || res.WatermarkTo.String() != "2024-01-02T09:30:00.000000" {
		t.Errorf("window (%s, %s]", res.WatermarkFrom, res.WatermarkTo)
	}

	// Nothing new: no file, watermark kept.
	res = f.land()
	if res.Rows != 0 || len(res.Files) != 0 || res.WatermarkTo.String() != "2024-01-02T09:30:00.000000" {
		t.Fatalf("third run: rows=%d files=%d wm=%s, want nothing landed and the watermark kept", res.Rows, len(res.Files), res.WatermarkTo)
	}

	// A lookback re-reads rows inside it.
	f.job.Workflow.Lookback = 20 * time.Minute
	res = f.land()
	if got := fmt.Sprint(f.ids(res)); got != "[4]" {
		t.Fatalf("lookback 20m landed %s, want [4] (09:30 is within 20 minutes of the watermark, 09:00 is not)", got)
	}
}

// TestCrashedRunLeftoversAreRemoved: a run that died before committing left
// a file behind; the next run removes it, marks the dead run failed, and the
// lake ends with every row once.
func TestCrashedRunLeftoversAreRemoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00'),(2,'us',2.50,'2024-01-01 11:00:00')`)
	ctx := context.Background()

	// Simulate the crash: a run recorded as running, with a file of its own.
	dead := &state.Run{ID: "01900000-0000-7000-8000-000000000001", Workflow: "orders", Trigger: "manual", Status: "running"}
	if err := f.st.StartRun(ctx, dead); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(f.lakeDir, "shop", "orders", "ingestion_date=2024-01-01", "part-"+dead.ID+"-00000.parquet")
	if err := os.MkdirAll(filepath.Dir(leftover), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(leftover, []byte("half a parquet file"), 0o644); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	f.lander.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	res := f.land()
	// The cleanup names both runs under distinct keys.
	if want := "abandoned_run=" + dead.ID + " files_removed=1"; !strings.Contains(logs.String(), want) ||
		strings.Count(logs.String(), " run=") != strings.Count(logs.String(), "\n") {
		t.Errorf("cleanup log %q: want %q and one run= key per line", logs.String(), want)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dead run's file is still there (stat: %v)", err)
	}
	got, err := f.st.Run(ctx, dead.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "failed" || !strings.Contains(got.Error, "abandoned") {
		t.Errorf("dead run: status %s error %q, want failed/abandoned", got.Status, got.Error)
	}
	if fmt.Sprint(f.ids(res)) != "[1 2]" {
		t.Errorf("landed %v, want [1 2]", f.ids(res))
	}
}

// TestFailedRunLeavesNoFilesAndKeepsWatermark: a value that cannot land fails
// the run; nothing it wrote stays and the watermark does not move.
func TestFailedRunLeavesNoFilesAndKeepsWatermark(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	first := f.land()

	f.exec(`INSERT INTO orders VALUES (2,'us',2.50,'2024-01-02 10:00:00'), (3,'us','not a number','2024-01-02 11:00:00')`)
	res, err := f.lander.Land(context.Background(), f.job, "manual")
	if err == nil {
		t.Fatal("want an error for a text value in a DECIMAL column")
	}
	if !strings.Contains(err.Error(), "amount") {
		t.Errorf("error %q should name the column", err)
	}
	wm, _, _ := f.st.Watermark(context.Background(), "orders")
	if wm.String() != first.WatermarkTo.String() {
		t.Errorf("watermark moved to %s after a failed run", wm)
	}
	run, _ := f.st.Run(context.Background(), res.RunID)
	if run == nil || run.Status != "failed" || run.Error == "" {
		t.Errorf("failed run recorded as %+v", run)
	}
	var parquet []string
	filepath.WalkDir(f.lakeDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "_wharf" {
			return filepath.SkipDir // run manifests
		}
		if err == nil && !d.IsDir() {
			parquet = append(parquet, p)
		}
		return nil
	})
	if len(parquet) != 1 {
		t.Errorf("lake has %v, want only the first run's file", parquet)
	}
}

// TestPartitionByColumnAndAutoCursor: a defaulted cursor the table lacks
// means a full load, said in the notes; partition_by writes Hive directories.
func TestPartitionByColumnAndAutoCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00'),(2,'us',2.50,'2024-01-01 11:00:00'),(3,'eu',3.50,'2024-01-01 12:00:00')`)
	f.job.Workflow.Cursor, f.job.Workflow.CursorAuto = "modified_at", true
	f.job.Workflow.PartitionBy = "region"
	res := f.land()
	if !res.FullLoad || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "no modified_at column: full load") {
		t.Errorf("notes %v, full %v", res.Notes, res.FullLoad)
	}
	var dirs []string
	for _, file := range res.Files {
		dirs = append(dirs, filepath.Dir(file.Path))
	}
	if fmt.Sprint(dirs) != "[shop/orders/region=eu shop/orders/region=us]" {
		t.Errorf("partition dirs %v", dirs)
	}
	if _, err := f.lander.Land(context.Background(), f.job, "manual"); err != nil {
		t.Fatal(err)
	}
	// An explicit cursor that does not exist is an error naming it.
	f.job.Workflow.CursorAuto = false
	if _, err := f.lander.Land(context.Background(), f.job, "manual"); err == nil || !strings.Contains(err.Error(), `"modified_at"`) {
		t.Errorf("missing explicit cursor: err %v", err)
	}
}

// TestRunInProgressElsewhereIsLeftAlone: an unfinished run recorded on a
// process that still heartbeats is in progress, not a leftover: a second
// run of the workflow is skipped and deletes nothing. Once that process
// stops, its run is a leftover and is cleaned up.
func TestRunInProgressElsewhereIsLeftAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	ctx := context.Background()
	fleet := f.st.(state.Fleet)

	other := &state.Worker{ID: "other-process", Host: "h", PID: 1, Role: "run"}
	if err := fleet.Heartbeat(ctx, other); err != nil {
		t.Fatal(err)
	}
	busy := &state.Run{ID: "01900000-0000-7000-8000-000000000002", Workflow: "orders", Trigger: "manual"}
	if err := fleet.StartJobRun(ctx, busy, 0, other.ID); err != nil {
		t.Fatal(err)
	}
	inProgress := filepath.Join(f.lakeDir, "shop", "orders", "ingestion_date=2024-01-01", "part-"+busy.ID+"-00000.parquet")
	if err := os.MkdirAll(filepath.Dir(inProgress), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inProgress, []byte("being written"), 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := f.lander.Land(ctx, f.job, "manual")
	if !errors.Is(err, blueprint.ErrAlreadyRunning) || res.Status != "skipped" {
		t.Fatalf("want a skipped run (ErrAlreadyRunning), got status %s, err %v", res.Status, err)
	}
	if want := "workflow orders: run " + busy.ID + " is in progress on other-process: already running"; err.Error() != want {
		t.Errorf("skipped run says\n%s\nwant (the workflow named once)\n%s", err, want)
	}
	if _, err := os.Stat(inProgress); err != nil {
		t.Fatalf("the other process's file was touched: %v", err)
	}
	if r, _ := f.st.Run(ctx, res.RunID); r == nil || r.Status != "skipped" {
		t.Errorf("skipped run recorded as %+v", r)
	}
	if r, _ := f.st.Run(ctx, busy.ID); r == nil || r.Status != "running" {
		t.Errorf("the other run became %+v", r)
	}

	// The other process stops without finishing: its run is a leftover now.
	if err := fleet.WorkerStopped(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	res = f.land()
	if _, err := os.Stat(inProgress); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead process's file is still there: %v", err)
	}
	if fmt.Sprint(f.ids(res)) != "[1]" {
		t.Errorf("landed %v", f.ids(res))
	}
}

// TestManifestNotWrittenFailsRun: a run whose manifest cannot be written
// fails (its rows are committed and never land again), and the next run,
// once the lake is writable, writes the manifest and lands nothing twice.
func TestManifestNotWrittenFailsRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	// A file where the manifests directory belongs.
	if err := os.MkdirAll(f.lakeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.lakeDir, "_wharf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := f.lander.Land(context.Background(), f.job, "manual")
	if err == nil || res.Status != "failed" || !strings.Contains(err.Error(), "manifest could not be written") {
		t.Fatalf("want a failed run saying the manifest could not be written, got %v (status %s)", err, res.Status)
	}
	if run, _ := f.st.Run(context.Background(), res.RunID); run == nil || run.Status != "succeeded" || run.Rows != 1 {
		t.Errorf("the committed run is recorded as %+v, want succeeded with 1 row", run)
	}
	if err := os.Remove(filepath.Join(f.lakeDir, "_wharf")); err != nil {
		t.Fatal(err)
	}
	next := f.land()
	if next.Rows != 0 {
		t.Errorf("the next run landed %d rows again", next.Rows)
	}
	if _, err := os.Stat(filepath.Join(f.lakeDir, "_wharf", "manifests")); err != nil {
		t.Errorf("the next run should write the missing manifest: %v", err)
	}
}

// TestDeadRunCleanedWithoutSource: a run records where it writes in the
// lake, so a dead run's files are removed and the run ended (Abandon)
// while its source is unreachable.
func TestDeadRunCleanedWithoutSource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	ctx := context.Background()
	first := f.land()
	where := "file://" + f.lakeDir + "/shop/orders"
	if r, err := f.st.Run(ctx, first.RunID); err != nil || r.LakePrefix != where {
		t.Fatalf("run recorded lake prefix %q (%v), want %q", r.LakePrefix, err, where)
	}

	dead := &state.Run{ID: "01900000-0000-7000-8000-000000000009", Workflow: "orders", Trigger: state.TriggerManual}
	if err := f.st.StartRun(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if err := f.st.RecordLakePrefix(ctx, dead, where); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(f.lakeDir, "shop", "orders", "ingestion_date=2024-01-01", "part-"+dead.ID+"-00000.parquet")
	if err := os.MkdirAll(filepath.Dir(leftover), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(leftover, []byte("half written"), 0o644); err != nil {
		t.Fatal(err)
	}

	opened := 0
	f.lander.OpenSource = func(context.Context, *catalog.Connection, string) (source.Source, error) {
		opened++
		return nil, errors.New("connection refused")
	}
	if err := f.lander.Abandon(ctx, f.job, dead.ID, "its process died"); err != nil {
		t.Fatalf("Abandon with the source down: %v", err)
	}
	if opened != 0 {
		t.Errorf("Abandon opened the source %d time(s)", opened)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead run's file is still there: %v", err)
	}
	if r, _ := f.st.Run(ctx, dead.ID); r == nil || r.Status != state.StatusFailed || !strings.Contains(r.Error, "1 leftover file(s) removed") {
		t.Errorf("dead run recorded as %+v", r)
	}
	if fmt.Sprint(f.ids(first)) != "[1]" {
		t.Errorf("the committed run's files changed: %v", f.ids(first))
	}
}

// flakyCommit is a state whose CommitRun fails: after committing (the
// reply was lost), or without committing while every read fails too (the
// state is unreachable).
type flakyCommit struct {
	state.Store
	commitFirst bool
	down        atomic.Bool
	// readBack, if set, is sent to when a read fails while down: the run
	// is waiting for the state to answer.
	readBack chan struct{}
}

var errStateDown = errors.New("connection reset by peer")

func (s *flakyCommit) CommitRun(ctx context.Context, run *state.Run, files []state.File, wm *coltype.Watermark, cursor string) error {
	if s.commitFirst {
		if err := s.Store.CommitRun(ctx, run, files, wm, cursor); err != nil {
			return err
		}
		return errStateDown
	}
	s.down.Store(true)
	return errStateDown
}

func (s *flakyCommit) Run(ctx context.Context, id string) (*state.Run, error) {
	if s.down.Load() {
		if s.readBack != nil {
			select {
			case s.readBack <- struct{}{}:
			default:
			}
		}
		return nil, errStateDown
	}
	return s.Store.Run(ctx, id)
}

func (s *flakyCommit) FinishRun(ctx context.Context, run *state.Run) error {
	if s.down.Load() {
		return errStateDown
	}
	return s.Store.FinishRun(ctx, run)
}

// TestCommitErrorAfterCommitKeepsFiles: a commit whose reply is lost (the
// state committed, the client saw an error) is a success: its files stay.
// Deleting them would lose the window's rows, the watermark having moved.
func TestCommitErrorAfterCommitKeepsFiles(t *testing.T) {
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	f.lander = &blueprint.Lander{State: &flakyCommit{Store: f.st, commitFirst: true}}
	res := f.land()
	if fmt.Sprint(f.ids(res)) != "[1]" {
		t.Fatalf("landed %v, want [1]", f.ids(res))
	}
	if r, _ := f.st.Run(context.Background(), res.RunID); r == nil || r.Status != "succeeded" {
		t.Errorf("run recorded as %+v", r)
	}
}

// TestCommitOutcomeUnknownIsSettledByNextRun: when the commit fails and the
// state cannot be read back, the run's files stay and the run stays
// running; the workflow's next run (same process) finds it did not commit,
// removes its files and lands the window once.
func TestCommitOutcomeUnknownIsSettledByNextRun(t *testing.T) {
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	ctx := context.Background()
	run := f.unfinishedRun("this-process", "01900000-0000-7000-8000-000000000003")
	flaky := &flakyCommit{Store: f.st, readBack: make(chan struct{})}
	f.lander = &blueprint.Lander{State: flaky, WorkerID: "this-process"}
	done := make(chan struct{})
	var err error
	go func() {
		_, err = f.lander.LandRun(ctx, f.job, run)
		close(done)
	}()
	// The run's commit failed and it reads its record back (for up to 30 s).
	<-flaky.readBack
	if files := parquetIn(t, f.lakeDir); len(files) != 1 {
		t.Fatalf("lake holds %v while the commit's outcome is unknown, want the run's file", files)
	}
	flaky.down.Store(false)
	<-done
	if err == nil || !strings.Contains(err.Error(), "commit run") {
		t.Fatalf("want the commit's error, got %v", err)
	}
	if r, _ := f.st.Run(ctx, run.ID); r == nil || r.Status != "failed" {
		t.Errorf("the run that did not commit is recorded as %+v, want failed once the state answered", r)
	}
	if files := parquetIn(t, f.lakeDir); len(files) != 0 {
		t.Errorf("the run that did not commit left %v", files)
	}
	f.lander = &blueprint.Lander{State: f.st, WorkerID: "this-process"}
	res := f.land()
	if fmt.Sprint(f.ids(res)) != "[1]" {
		t.Errorf("the next run landed %v, want [1]", f.ids(res))
	}
}

// TestOwnUnfinishedRunIsALeftover: a run recorded on this process that it
// no longer runs (its end could not be recorded) does not block the
// workflow: the next run cleans it up instead of being skipped forever.
func TestOwnUnfinishedRunIsALeftover(t *testing.T) {
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	ctx := context.Background()
	stuck := f.unfinishedRun("this-process", "01900000-0000-7000-8000-000000000004")
	f.lander.WorkerID = "this-process"
	res := f.land()
	if fmt.Sprint(f.ids(res)) != "[1]" {
		t.Errorf("landed %v", f.ids(res))
	}
	if r, _ := f.st.Run(ctx, stuck.ID); r == nil || r.Status != "failed" || !strings.Contains(r.Error, "abandoned") {
		t.Errorf("the stuck run became %+v, want failed: abandoned", r)
	}
}

// unfinishedRun records a run of orders as running on a live process
// (heartbeating now) and returns it.
func (f *fixture) unfinishedRun(worker, id string) *state.Run {
	f.t.Helper()
	ctx := context.Background()
	fleet := f.st.(state.Fleet)
	if err := fleet.Heartbeat(ctx, &state.Worker{ID: worker, Host: "h", PID: 1, Role: "serve"}); err != nil {
		f.t.Fatal(err)
	}
	run := &state.Run{ID: id, Workflow: "orders", Trigger: "manual", Status: state.StatusRunning, StartedAt: f.st.Now().UTC()}
	if err := fleet.StartJobRun(ctx, run, 0, worker); err != nil {
		f.t.Fatal(err)
	}
	return run
}

func parquetIn(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestTruncatedManifestIsRewritten: an empty manifest (left by a write that
// failed on a full disk, before writes were made all-or-nothing) does not
// fail the workflow's next runs: the next run writes it again.
func TestTruncatedManifestIsRewritten(t *testing.T) {
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	first := f.land()
	key := filepath.Join(f.lakeDir, "_wharf", "manifests", "shop", "orders", first.RunID+".json")
	if err := os.WriteFile(key, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f.exec(`INSERT INTO orders VALUES (2,'us',2.50,'2024-01-02 10:00:00')`)
	next := f.land()
	if fmt.Sprint(f.ids(next)) != "[2]" {
		t.Errorf("the next run landed %v, want [2]", f.ids(next))
	}
	if b, err := os.ReadFile(key); err != nil || !strings.Contains(string(b), first.RunID) {
		t.Errorf("the empty manifest was not rewritten: %q, %v", b, err)
	}
}

// TestLeftoverInAnotherLakeDoesNotBlock: an unfinished run that wrote into
// another lake (the workflow's lake changed since) cannot have left files
// in this one: the next run closes it, naming where its files are, and
// lands.
func TestLeftoverInAnotherLakeDoesNotBlock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
	ctx := context.Background()
	old := &state.Run{ID: "01900000-0000-7000-8000-0000000000bb", Workflow: "orders", Trigger: state.TriggerManual}
	if err := f.st.StartRun(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := f.st.RecordLakePrefix(ctx, old, "file:///elsewhere/lake/shop/orders"); err != nil {
		t.Fatal(err)
	}
	res := f.land()
	if fmt.Sprint(f.ids(res)) != "[1]" {
		t.Errorf("landed %v", f.ids(res))
	}
	r, _ := f.st.Run(ctx, old.ID)
	if r == nil || r.Status != state.StatusFailed || !strings.Contains(r.Error, "file:///elsewhere/lake/shop/orders") || !strings.Contains(r.Error, "not removed") {
		t.Errorf("the old run is %+v, want failed naming where its files are", r)
	}
}

// A REST catalog that refuses the credential at the commit of a run's
// snapshot (the run is committed in the state store) fails the run with
// the hint naming the secret, and the next run opens the catalog again
// with the secret as it is then, and appends the missing snapshot.
func TestRESTCatalogRefusesCommit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := testdb.StartIcebergRESTPlain(t)
	tokenPath := filepath.Join(f.dir, "catalog.token")
	if err := os.WriteFile(tokenPath, []byte(s.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	f.job.Lake.Format, f.job.Lake.IcebergCatalog, f.job.Lake.IcebergCatalogSecret = catalog.LakeIceberg, "rest:"+s.URL, "file:"+tokenPath
	f.exec(`INSERT INTO orders VALUES (1, 'eu', 1.50, '2024-01-01 00:00:00')`)
	f.land()

	s.Refuse("POST namespaces/{ns}/tables/{table}", 1)
	f.exec(`INSERT INTO orders VALUES (2, 'eu', 2.50, '2024-01-02 00:00:00')`)
	_, err := f.lander.Land(context.Background(), f.job, "manual")
	if err == nil || !strings.Contains(err.Error(), "its Iceberg snapshot could not be made") ||
		!strings.Contains(err.Error(), `the catalog refused the credential of iceberg_catalog_secret "file:`+tokenPath+`"`) {
		t.Fatalf("a run whose commit the catalog refused: %v, want the hint naming the secret", err)
	}
	configs := func() int { return strings.Count(strings.Join(s.Requests(), "\n"), "GET config") }
	before := configs()
	if res := f.land(); res.Rows != 0 {
		t.Errorf("the next run landed %d rows, want 0", res.Rows)
	}
	if configs() != before+1 {
		t.Errorf("the next run did not open the catalog again (%d GET config before, %d after)", before, configs())
	}
	ctx := context.Background()
	nss, err := s.Catalog().ListNamespaces(ctx, nil)
	if err != nil || len(nss) != 1 {
		t.Fatalf("namespaces %v, %v", nss, err)
	}
	tables := 0
	for id, err := range s.Catalog().ListTables(ctx, nss[0]) {
		if err != nil {
			t.Fatal(err)
		}
		tables++
		tbl, err := s.Catalog().LoadTable(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(tbl.Metadata().Snapshots()); n != 3 {
			t.Errorf("%d snapshots, want 3 (one per run)", n)
		}
	}
	if tables != 1 {
		t.Errorf("%d tables, want 1", tables)
	}
}

// A REST catalog that starts refusing the token an open catalog holds (it
// was rotated) fails the run, and the next run opens the catalog again
// with the secret as it is then: a long-lived process needs no restart.
func TestRESTCatalogTokenRotated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := testdb.StartIcebergRESTPlain(t)
	tokenPath := filepath.Join(f.dir, "catalog.token")
	writeToken := func(tok string) {
		if err := os.WriteFile(tokenPath, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeToken(s.Token)
	f.job.Lake.Format, f.job.Lake.IcebergCatalog, f.job.Lake.IcebergCatalogSecret = catalog.LakeIceberg, "rest:"+s.URL, "file:"+tokenPath
	f.exec(`INSERT INTO orders VALUES (1, 'eu', 1.50, '2024-01-01 00:00:00')`)
	f.land()

	s.Rotate("rotated-" + testdb.RandomSuffix())
	f.exec(`INSERT INTO orders VALUES (2, 'eu', 2.50, '2024-01-02 00:00:00')`)
	if _, err := f.lander.Land(context.Background(), f.job, "manual"); err == nil || !strings.Contains(err.Error(), "NotAuthorizedException") {
		t.Fatalf("a run with the old token: %v, want the catalog's refusal", err)
	}
	writeToken(s.Token)
	if res := f.land(); res.Rows != 1 {
		t.Errorf("the run after the rotation landed %d rows, want 1", res.Rows)
	}
}

// TestSchemaDriftIsPermanent: a run refused by on_schema_change (freeze on
// an added column, ignore_new on a dropped one) fails naming the table and
// the change, and is permanent, so serve does not retry it attempts times
// (retrying cannot help until the table or the workflow changes).
func TestSchemaDriftIsPermanent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ policy, alter, change string }{
		{catalog.SchemaFreeze, `ALTER TABLE orders ADD COLUMN channel TEXT`, "added channel"},
		{catalog.SchemaIgnoreNew, `ALTER TABLE orders DROP COLUMN region`, "dropped region"},
	} {
		f := newFixture(t)
		f.job.Workflow.Choices.OnSchemaChange = tc.policy
		f.exec(`INSERT INTO orders VALUES (1,'eu',1.50,'2024-01-01 10:00:00')`)
		f.land()
		f.exec(tc.alter)
		_, err := f.lander.Land(context.Background(), f.job, "manual")
		var drift *blueprint.SchemaDriftError
		if !errors.As(err, &drift) || !blueprint.Permanent(err) {
			t.Fatalf("%s: err %v (%T); want a permanent SchemaDriftError", tc.policy, err, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "on_schema_change "+tc.policy) || !strings.Contains(msg, "table orders") || !strings.Contains(msg, tc.change) {
			t.Errorf("%s: error %q should name the policy, the table and %q", tc.policy, msg, tc.change)
		}
	}
}
