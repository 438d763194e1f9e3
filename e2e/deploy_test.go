package e2e

import (
	"context"
	"fmt"
	"github.com/wharf-data/wharf/internal/deploy"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeText(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func openStateFile(t *testing.T, url string) state.Store {
	t.Helper()
	s, err := stateurl.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestDeployQuickstart plans and deploys the quickstart catalog, redeploys
// it (zero changes), then changes, removes and moves entries.
func TestDeployQuickstart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWharf(t, dir, nil, "quickstart", "--dir", "qs") // lands every table once: runs and watermarks exist
	qs := filepath.Join(dir, "qs")
	cat := filepath.Join(qs, "wharf.yaml")
	stateURL := "sqlite:" + filepath.Join(qs, ".wharf", "state.db")
	env := []string{"WHARF_STATE=" + stateURL, "WHARF_CATALOG=" + cat}

	r := mustWharf(t, dir, env, "plan", "--json")
	all := `"hr_countries","hr_departments","hr_employees","hr_job_history","hr_jobs","hr_locations","hr_regions"`
	if want := `{"create":[` + all + `],"update":[],"unchanged":[],"disable":[],"delete":[]}` + "\n"; r.stdout != want {
		t.Fatalf("plan --json:\n%s\nwant %s", r, want)
	}
	r = mustWharf(t, dir, env, "deploy")
	if !strings.HasSuffix(r.stdout, "create     hr_regions\nDeployed 7 change(s): 7 created, 0 updated, 0 unchanged, 0 disabled, 0 deleted.\n") {
		t.Fatalf("deploy:\n%s", r)
	}
	r = mustWharf(t, dir, env, "deploy")
	if r.stdout != "Deployed 0 change(s): 0 created, 0 updated, 7 unchanged, 0 disabled, 0 deleted.\n" {
		t.Fatalf("redeploy:\n%s", r)
	}
	st := openStateFile(t, stateURL)
	before, err := st.DeployedWorkflow(context.Background(), "hr_regions")
	if err != nil {
		t.Fatal(err)
	}

	// Change a schedule and a lake option, drop a workflow.
	body := readFile(t, cat)
	body = strings.Replace(body, "  - name: hr_regions\n    table: regions\n", "  - name: hr_regions\n    table: regions\n    schedule: rate(15 minutes)\n", 1)
	body = strings.Replace(body, "  - name: hr_jobs\n    table: jobs\n", "", 1)
	writeText(t, cat, body)
	r = mustWharf(t, dir, env, "plan")
	wantPlan := "update     hr_regions: schedule\n" +
		"unchanged  hr_countries\nunchanged  hr_departments\nunchanged  hr_employees\nunchanged  hr_job_history\nunchanged  hr_locations\n" +
		"disable    hr_jobs (no more scheduled runs; history kept)\n" +
		"Plan: 0 to create, 1 to update, 5 unchanged, 1 to disable, 0 to delete.\n"
	if r.stdout != wantPlan {
		t.Fatalf("plan:\n%s\nwant\n%s", r, wantPlan)
	}
	r = mustWharf(t, dir, env, "deploy")
	if r.stdout != "update     hr_regions: schedule\ndisable    hr_jobs (no more scheduled runs; history kept)\n"+
		"Deployed 2 change(s): 0 created, 1 updated, 5 unchanged, 1 disabled, 0 deleted.\n" {
		t.Fatalf("deploy:\n%s", r)
	}
	after, err := deploy.Get(context.Background(), st, "hr_regions")
	if err != nil {
		t.Fatal(err)
	}
	if after.ID != before.ID || after.Spec.Workflow.Schedule.Every.Minutes() != 15 {
		t.Errorf("hr_regions after update: %+v (was %+v)", after, before)
	}
	for _, wf := range []string{"hr_regions", "hr_jobs"} {
		if runs, err := st.Runs(context.Background(), state.RunFilter{Workflow: wf}); err != nil || len(runs) != 1 {
			t.Errorf("%s: %d runs after deploy (%v), want the quickstart's run kept", wf, len(runs), err)
		}
		if wm, _, _ := st.Watermark(context.Background(), wf); wm == nil {
			t.Errorf("%s lost its watermark", wf)
		}
	}

	// A moved table resets the watermark: refused without --allow-reset, nothing applied.
	writeText(t, cat, strings.Replace(body, "    table: countries\n", "    table: countries_v2\n", 1)+
		"  - name: hr_more\n    table: jobs\n")
	r = wharf(t, dir, env, "deploy")
	if r.code != 1 || !strings.Contains(r.stderr, "error: workflow hr_countries: the cursor column or source table changed, which resets the watermark (the next run is a full load); deploy with --allow-reset to apply (nothing was deployed)\n") ||
		!strings.Contains(r.stdout, "update     hr_countries: table (resets the watermark: the next run is a full load; needs --allow-reset)\n") {
		t.Fatalf("deploy of a moved table:\n%s", r)
	}
	if _, err := st.DeployedWorkflow(context.Background(), "hr_more"); err == nil {
		t.Fatal("a refused deploy created hr_more")
	}
	r = mustWharf(t, dir, env, "deploy", "--allow-reset", "--prune")
	if r.stdout != "create     hr_more\nupdate     hr_countries: table (resets the watermark: the next run is a full load; needs --allow-reset)\n"+
		"delete     hr_jobs (with its runs, files and watermark)\n"+
		"Deployed 3 change(s): 1 created, 1 updated, 5 unchanged, 0 disabled, 1 deleted.\n" {
		t.Fatalf("deploy --allow-reset --prune:\n%s", r)
	}
	if wm, _, _ := st.Watermark(context.Background(), "hr_countries"); wm != nil {
		t.Errorf("hr_countries kept its watermark after --allow-reset")
	}
	if runs, _ := st.Runs(context.Background(), state.RunFilter{Workflow: "hr_jobs"}); len(runs) != 0 {
		t.Errorf("hr_jobs has %d runs after --prune", len(runs))
	}
	r = mustWharf(t, dir, env, "deploy", "--allow-reset", "--prune")
	if !strings.HasPrefix(r.stdout, "Deployed 0 change(s)") {
		t.Errorf("redeploy after prune:\n%s", r)
	}
}

// TestDiscoverQuickstart discovers the quickstart's SQLite database from a
// catalog that has only the connection, then deploys what it printed.
func TestDiscoverQuickstart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWharf(t, dir, nil, "quickstart", "--dir", "qs")
	qs := filepath.Join(dir, "qs")
	head := fmt.Sprintf("connections:\n  hr: {engine: sqlite, secret: \"file:%s\"}\nlakes:\n  raw: {url: \"file://%s\"}\n",
		filepath.Join(qs, "secrets", "hr.json"), filepath.Join(dir, "lake"))
	cat := filepath.Join(dir, "discover.yaml")
	writeText(t, cat, head+"workflows:\n  - {name: hr_jobs, table: jobs}\n")
	r := mustWharf(t, dir, nil, "discover", "-c", cat, "--connection", "hr")
	var want strings.Builder
	want.WriteString("# wharf discover: 7 table(s) in the default schema of connection hr\nworkflows:\n")
	for _, tbl := range []string{"countries", "departments", "employees", "job_history", "jobs", "locations", "regions"} {
		if tbl == "jobs" {
			want.WriteString("  # jobs: already landed by workflow hr_jobs\n")
			continue
		}
		fmt.Fprintf(&want, "  - name: hr_%s\n    connection: hr\n    table: %s\n    cursor: updated_at  # guessed\n", tbl, tbl)
	}
	if r.stdout != want.String() {
		t.Fatalf("discover:\n%s\nwant\n%s", r, want.String())
	}
	// What discover prints is a catalog: deploy it and run one workflow.
	writeText(t, cat, head+r.stdout)
	r = mustWharf(t, dir, nil, "deploy", "-c", cat)
	if !strings.HasSuffix(r.stdout, "Deployed 6 change(s): 6 created, 0 updated, 0 unchanged, 0 disabled, 0 deleted.\n") {
		t.Fatalf("deploy of discovered entries:\n%s", r)
	}
	r = mustWharf(t, dir, nil, "run", "-c", cat, "hr_regions")
	if !strings.Contains(r.stdout, "1 workflow(s): 1 succeeded") {
		t.Errorf("run of a discovered workflow:\n%s", r)
	}
	r = wharf(t, dir, nil, "discover", "-c", cat)
	if r.code != 2 || r.stderr != "error: --connection NAME is required\n" {
		t.Errorf("discover without --connection:\n%s", r)
	}
	r = wharf(t, dir, nil, "discover", "-c", cat, "--connection", "hr", "--schema", "public")
	if r.code != 1 || !strings.Contains(r.stderr, `list tables of schema "public": not found (a SQLite file has only the schema main)`) {
		t.Errorf("discover of a missing schema:\n%s", r)
	}
}

// TestDeployPostgresPatterns expands a table pattern against a real
// PostgreSQL schema, follows tables appearing and disappearing, and
// discovers the schema.
func TestDeployPostgresPatterns(t *testing.T) {
	t.Parallel()
	conn, schema, u := pgSource(t)
	for _, s := range []string{
		`CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE TABLE order_items (id bigint, "ModifiedAt" timestamp)`,
		`CREATE TABLE customers (id bigint, name text)`,
		`CREATE TABLE audit_log (id bigint, changed_at timestamptz)`,
		`CREATE TABLE tmp_load (id bigint)`,
		`CREATE TABLE "Odd Name" (id bigint, updated int)`,
		`CREATE VIEW orders_view AS SELECT * FROM orders`,
		`INSERT INTO orders (id) VALUES (1), (2)`,
	} {
		sqlExec(t, conn, s)
	}
	dir := t.TempDir()
	rdsSecret(t, filepath.Join(dir, "secrets"), "shop", u)
	env := []string{"WHARF_SECRETS=file:" + filepath.Join(dir, "secrets")}
	cat := filepath.Join(dir, "wharf.yaml")
	writeText(t, cat, fmt.Sprintf(`connections:
  shop: {engine: postgres, secret: shop}
lakes:
  raw: {url: "file://%s/lake"}
defaults: {cursor: updated_at}
workflows:
  - name: shop
    table: "%s.*"
    exclude: [audit_log, "tmp_*"]
    schedule: rate(1 hour)
  - name: shop_items
    table: %s.order_items
    cursor: ModifiedAt
`, dir, schema, schema))
	r := mustWharf(t, dir, env, "plan", "-c", cat, "--json")
	if want := `{"create":["shop_Odd_Name","shop_customers","shop_items","shop_orders"],"update":[],"unchanged":[],"disable":[],"delete":[]}` + "\n"; r.stdout != want {
		t.Fatalf("plan --json:\n%s\nwant %s", r, want)
	}
	mustWharf(t, dir, env, "deploy", "-c", cat)
	st := openStateFile(t, "sqlite:"+filepath.Join(dir, ".wharf", "state.db"))
	d, err := deploy.Get(context.Background(), st, "shop_orders")
	if err != nil || d.Spec.Workflow.Table != schema+".orders" || d.Spec.Workflow.Schedule.Expr != "rate(1 hour)" ||
		d.Spec.Workflow.Cursor != "updated_at" || !d.Spec.Workflow.CursorAuto {
		t.Fatalf("deployed shop_orders: %+v, %v", d, err)
	}
	r = mustWharf(t, dir, env, "deploy", "-c", cat)
	if !strings.HasPrefix(r.stdout, "Deployed 0 change(s)") {
		t.Fatalf("redeploy:\n%s", r)
	}
	// A new table appears, one goes away: the next plan follows the schema.
	sqlExec(t, conn, `CREATE TABLE invoices (id bigint, last_modified timestamptz)`)
	sqlExec(t, conn, `DROP TABLE customers`)
	r = mustWharf(t, dir, env, "plan", "-c", cat, "--json")
	if want := `{"create":["shop_invoices"],"update":[],"unchanged":["shop_Odd_Name","shop_items","shop_orders"],"disable":["shop_customers"],"delete":[]}` + "\n"; r.stdout != want {
		t.Fatalf("plan after schema changes:\n%s\nwant %s", r, want)
	}
	// A source that cannot be listed fails the plan: nothing is disabled.
	r = wharf(t, dir, []string{"WHARF_SECRETS=file:" + filepath.Join(dir, "no-secrets")}, "deploy", "-c", cat)
	if r.code != 1 || !strings.Contains(r.stderr, `table pattern shop (`) || !strings.Contains(r.stderr, "list tables of connection shop") {
		t.Fatalf("deploy with an unreachable source:\n%s", r)
	}
	if d, _ := st.DeployedWorkflow(context.Background(), "shop_customers"); d == nil || !d.Enabled {
		t.Fatal("a failed listing disabled shop_customers")
	}

	r = mustWharf(t, dir, env, "discover", "-c", cat, "--connection", "shop", "--schema", schema)
	// Tables the pattern or a workflow lands are comments; the excluded ones are entries.
	want := fmt.Sprintf(`# wharf discover: 6 table(s) in schema %[1]s of connection shop
workflows:
  # %[1]s.Odd Name: already landed by table pattern shop
  - name: shop_audit_log
    connection: shop
    table: %[1]s.audit_log
    cursor: changed_at  # guessed
  # %[1]s.invoices: already landed by table pattern shop
  # %[1]s.order_items: already landed by workflow shop_items
  # %[1]s.orders: already landed by table pattern shop
  - name: shop_tmp_load
    connection: shop
    table: %[1]s.tmp_load
    cursor: ""  # no cursor column found: every run is a full load
`, schema)
	if r.stdout != want {
		t.Fatalf("discover:\n%s\nwant\n%s", r, want)
	}
	// A catalog without the pattern gets an entry per table, cursor guessed.
	bare := filepath.Join(dir, "bare.yaml")
	writeText(t, bare, fmt.Sprintf("connections:\n  shop: {engine: postgres, secret: shop}\nlakes:\n  raw: {url: \"file://%s/lake\"}\n", dir))
	r = mustWharf(t, dir, env, "discover", "-c", bare, "--connection", "shop", "--schema", schema)
	for _, entry := range []string{
		fmt.Sprintf("  - name: shop_Odd_Name\n    connection: shop\n    table: \"%s.Odd Name\"\n    cursor: updated  # guessed\n", schema),
		fmt.Sprintf("  - name: shop_invoices\n    connection: shop\n    table: %s.invoices\n    cursor: last_modified  # guessed\n", schema),
		fmt.Sprintf("  - name: shop_order_items\n    connection: shop\n    table: %s.order_items\n    cursor: ModifiedAt  # guessed\n", schema),
		fmt.Sprintf("  - name: shop_orders\n    connection: shop\n    table: %s.orders\n    cursor: updated_at  # guessed\n", schema),
	} {
		if !strings.Contains(r.stdout, entry) {
			t.Errorf("discover without the pattern lacks\n%s\nin\n%s", entry, r)
		}
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, testPassword) {
			t.Fatal("the password was printed")
		}
	}
}
