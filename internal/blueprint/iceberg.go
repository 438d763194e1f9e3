package blueprint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/crashpoint"
	"github.com/wharf-data/wharf/internal/icetable"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
)

// Iceberg lakes: a run writes its Parquet files as on any lake (with the
// table's field ids), commits them and the watermark in the state store,
// and only then commits them to the workflow's Iceberg table as one
// snapshot naming the run (an append, or a full load's overwrite:
// icetable.Table.Commit; whether the run was a full load comes from its
// record, so a repaired snapshot does what its run did). The state commit decides what is landed; the
// table is made to agree: a run whose snapshot is missing (the process
// died between the two commits, or the catalog failed) gets it from the
// next run of its workflow, and a run whose snapshot exists is never
// appended again. Files of runs that never committed are in no snapshot
// and are removed as on any lake (cleanStale). docs/lakes.md has the
// crash table.

// snapshotter commits a committed run to the workflow's Iceberg table.
type snapshotter struct {
	tbl     *icetable.Table
	refused func(error) // catalogRefused of the table's lake
}

// prepareIceberg opens the workflow's Iceberg table (creating it, adding
// new columns), appends the snapshots committed runs are missing, and
// returns the schema the run's files must have (with field ids).
func (l *Lander) prepareIceberg(ctx context.Context, lk *catalog.Lake, lakeH *lake.Lake, database, prefix string, wf *catalog.Workflow,
	schema *arrow.Schema, run *state.Run, log *slog.Logger) (_ *snapshotter, _ *arrow.Schema, err error) {
	defer func() {
		if err != nil {
			l.catalogRefused(lk, err)
		}
	}()
	cat, err := l.catalogs.open(ctx, lk, l.Secrets, l.State)
	if err != nil {
		return nil, nil, lakeError(lk, err)
	}
	ref, err := catalog.ParseTableRef(wf.Table)
	if err != nil {
		return nil, nil, err
	}
	tbl, withIDs, err := cat.Prepare(ctx, lakeH, icetable.Spec{
		Namespace: cmp.Or(wf.Namespace, database), Name: icetable.TableName(ref.Schema, ref.Name), Prefix: prefix,
		PartitionBy: wf.PartitionBy, DayColumn: wf.AddedColumn(),
	}, schema, run.StartedAt)
	if err != nil {
		return nil, nil, err
	}
	s := &snapshotter{tbl: tbl, refused: func(err error) { l.catalogRefused(lk, err) }}
	if err := l.repairSnapshots(ctx, s, wf, log); err != nil {
		return nil, nil, err
	}
	return s, withIDs, nil
}

// catalogRefused forgets lk's open catalog, and the secrets read so far,
// when err is the catalog refusing its credential: the next run opens it
// again with the secret as it is then (a token rotated under wharf serve).
func (l *Lander) catalogRefused(lk *catalog.Lake, err error) {
	if icetable.Refused(err) {
		l.catalogs.forget(lk)
		secret.ForgetCached()
	}
}

// repairSnapshots makes, oldest first, the missing snapshots of the
// workflow's committed runs (among the most recent) that the table owes
// one (Table.Owes: not those that started before the table was created),
// each an append or a full load's overwrite as its run was.
func (l *Lander) repairSnapshots(ctx context.Context, s *snapshotter, wf *catalog.Workflow, log *slog.Logger) error {
	runs, err := l.State.Runs(ctx, state.RunFilter{Workflow: wf.Name, Limit: maxRepairScan})
	if err != nil {
		return fmt.Errorf("list recent runs: %w", err)
	}
	have, since := s.tbl.RunSnapshots(), s.tbl.Since()
	var missing []state.Run
	for _, r := range runs { // newest first
		if r.Status != state.StatusSucceeded {
			continue
		}
		if _, ok := have[r.ID]; ok || r.StartedAt.Before(since) {
			break
		}
		if s.tbl.Owes(r.StartedAt, r.Files) {
			missing = append(missing, r)
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		r := &missing[i]
		files, err := l.State.Files(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("read the files of committed run %s: %w", r.ID, err)
		}
		paths := make([]string, len(files))
		for j, f := range files {
			paths[j] = f.Path
		}
		if _, err := s.tbl.Commit(ctx, icetable.Run{ID: r.ID, Workflow: r.Workflow, Rows: r.Rows, FullLoad: r.FullLoad,
			From: r.WatermarkFrom.String(), To: r.WatermarkTo.String(), StartedAt: r.StartedAt, Files: paths}); err != nil {
			return err
		}
		log.Warn("appended the missing snapshot of a committed run", "run", r.ID, "table", s.tbl.String(), "files", len(paths))
	}
	return nil
}

// publish makes the snapshot of a run that just committed.
func (s *snapshotter) publish(ctx context.Context, run *state.Run, res *Result) error {
	paths := make([]string, len(res.Files))
	for i, f := range res.Files {
		paths[i] = f.Path
	}
	_, err := s.tbl.Commit(ctx, icetable.Run{ID: run.ID, Workflow: run.Workflow, Rows: res.Rows, FullLoad: res.FullLoad,
		From: res.WatermarkFrom.String(), To: res.WatermarkTo.String(), StartedAt: run.StartedAt, Files: paths})
	if err != nil {
		s.refused(err)
		return err
	}
	crashpoint.Hit(crashpoint.AfterSnapshot)
	return nil
}

// catalogCache keeps one open Iceberg catalog per iceberg_catalog setting
// (and secret).
type catalogCache struct {
	mu   sync.Mutex
	cats map[string]*icetable.Catalog
}

func (c *catalogCache) open(ctx context.Context, lk *catalog.Lake, secrets string, st state.Store) (*icetable.Catalog, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := catalogKey(lk)
	if cat, ok := c.cats[key]; ok {
		return cat, nil
	}
	cat, err := icetable.Open(ctx, lk, secrets, st)
	if err != nil {
		return nil, err
	}
	if c.cats == nil {
		c.cats = map[string]*icetable.Catalog{}
	}
	c.cats[key] = cat
	return cat, nil
}

// forget closes and drops lk's catalog, if open.
func (c *catalogCache) forget(lk *catalog.Lake) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := catalogKey(lk)
	if cat, ok := c.cats[key]; ok {
		cat.Close()
		delete(c.cats, key)
	}
}

func catalogKey(lk *catalog.Lake) string { return lk.IcebergCatalog + "\x00" + lk.IcebergCatalogSecret }

func (c *catalogCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, cat := range c.cats {
		errs = append(errs, cat.Close())
	}
	c.cats = nil
	return errors.Join(errs...)
}
