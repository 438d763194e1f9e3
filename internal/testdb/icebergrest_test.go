package testdb

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
)

// The test REST catalog serves iceberg-go's own REST client: a table is
// created, evolved and read back through HTTP, behind the bearer token
// (or the client credentials exchanged for it), under a warehouse prefix.
func TestIcebergREST(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartIcebergREST(t)
	s.Warehouse = "lake"

	if _, err := rest.NewCatalog(ctx, "t", s.URL, rest.WithCustomTransport(s.Transport), rest.WithWarehouseLocation("lake")); !errors.Is(err, rest.ErrUnauthorized) {
		t.Fatalf("without a token: %v, want unauthorized", err)
	}
	if _, err := rest.NewCatalog(ctx, "t", s.URL, rest.WithCustomTransport(s.Transport), rest.WithWarehouseLocation("lake"), rest.WithCredential(s.ClientID+":wrong")); !errors.Is(err, rest.ErrOAuthError) {
		t.Fatalf("with a wrong client secret: %v, want an OAuth error", err)
	}
	c, err := rest.NewCatalog(ctx, "t", s.URL, rest.WithCustomTransport(s.Transport), rest.WithWarehouseLocation("lake"), rest.WithCredential(s.ClientID+":"+s.ClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if err := c.CreateNamespace(ctx, table.Identifier{"ns"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateNamespace(ctx, table.Identifier{"ns"}, nil); !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		t.Errorf("second create: %v", err)
	}
	if _, err := c.LoadTable(ctx, table.Identifier{"ns", "t"}); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("load a missing table: %v", err)
	}
	sc := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int32})
	loc := "file://" + filepath.Join(t.TempDir(), "t")
	tbl, err := c.CreateTable(ctx, table.Identifier{"ns", "t"}, sc, catalog.WithLocation(loc), catalog.WithProperties(iceberg.Properties{"k": "v"}))
	if err != nil {
		t.Fatal(err)
	}
	tx := tbl.NewTransaction()
	if err := tx.UpdateSchema(true, false).AddColumn([]string{"name"}, iceberg.PrimitiveTypes.String, "", false, nil).Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.AddFiles(ctx, nil, iceberg.Properties{"run": "1"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// A commit made from stale metadata is refused (its requirement fails).
	stale := tbl.NewTransaction()
	if err := stale.SetProperties(iceberg.Properties{"k": "w"}); err != nil {
		t.Fatal(err)
	}
	if err := stale.UpdateSchema(true, false).AddColumn([]string{"x"}, iceberg.PrimitiveTypes.String, "", false, nil).Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := stale.Commit(ctx); !errors.Is(err, table.ErrCommitFailed) {
		t.Errorf("stale commit: %v, want a commit conflict", err)
	}

	got, err := c.LoadTable(ctx, table.Identifier{"ns", "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Schema().FindFieldByName("name"); !ok || got.Location() != loc || got.Properties()["k"] != "v" ||
		got.CurrentSnapshot() == nil || got.CurrentSnapshot().Summary.Properties["run"] != "1" {
		t.Errorf("loaded back: schema %s, location %s, properties %v, snapshot %v", got.Schema(), got.Location(), got.Properties(), got.CurrentSnapshot())
	}
	var names []string
	for id, err := range c.ListTables(ctx, table.Identifier{"ns"}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, id[len(id)-1])
	}
	if !slices.Equal(names, []string{"t"}) {
		t.Errorf("tables %v", names)
	}
	for _, want := range []string{"POST oauth/tokens", "GET config", "POST namespaces", "POST namespaces/{ns}/tables", "POST namespaces/{ns}/tables/{table}"} {
		if !slices.Contains(s.Requests(), want) {
			t.Errorf("no %s among the requests %v", want, s.Requests())
		}
	}
}
