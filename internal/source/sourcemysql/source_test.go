package sourcemysql

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestOpenErrors: bad connection settings fail with a message that says
// what is wrong and never shows the password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pw = "Hunter2-Secret"
	for _, tc := range []struct{ dsn, want string }{
		{"app:" + pw + "@tcp(127.0.0.1:3306)/db?ssl-ca=" + url.QueryEscape(filepath.Join(dir, "missing.pem")), "mysql source: ssl-ca: open " + filepath.Join(dir, "missing.pem") + ": no such file or directory"},
		{"app:" + pw + "@tcp(127.0.0.1:3306)/db?sslrootcert=" + url.QueryEscape(notPEM), "mysql source: sslrootcert: " + notPEM + " holds no PEM certificate"},
		{"app:" + pw + "@tcp(127.0.0.1:3306)/db?tls=skip-verify&ssl-ca=" + url.QueryEscape(notPEM), "mysql source: ssl-ca: the certificate is verified against it, which tls=skip-verify turns off: drop one"},
		{"app:" + pw + "@tcp(127.0.0.1:3306)/db?tls=maybe", "mysql source: invalid connection string (value not shown)"},
		{"app:" + pw + "@tcp(127.0.0.1/db", "mysql source: invalid connection string (value not shown)"},
	} {
		_, err := Open(context.Background(), tc.dsn)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%s):\n got  %v\n want %s", strings.ReplaceAll(tc.dsn, pw, "PW"), err, tc.want)
		}
	}
}

// TestAuthError: a refused login is recognised (a rotated secret is then
// read again) and does not show the password.
func TestAuthError(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	const pw = "Wr0ng-Pa55word"
	u, err := url.Parse(tdb.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), "wharf_no_such_user:"+pw+"@tcp("+u.Host+")/"+tdb.Name)
	if !IsAuthError(err) || strings.Contains(err.Error(), pw) {
		t.Errorf("Open with a wrong user: %v, want an authentication error without the password", err)
	}
}

// TestTLSRequired: tls=true against a server without TLS fails instead of
// falling back to plaintext.
func TestTLSRequired(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	var have string
	if err := tdb.DB.QueryRow("SELECT @@have_ssl").Scan(&have); err != nil || have == "YES" {
		t.Skipf("the test server has TLS (%q, %v)", have, err)
	}
	_, err := Open(context.Background(), strings.Replace(tdb.DSN, "?", "?tls=true&", 1))
	if err == nil || !strings.Contains(err.Error(), "TLS requested but server does not support TLS") {
		t.Errorf("Open with tls=true: %v", err)
	}
}

// TestNoDatabase: a secret without a database reads database.table; a bare
// table name fails saying how to name it, and the lake layout uses the host.
func TestNoDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tdb := testdb.MySQL(t)
	if _, err := tdb.DB.Exec("CREATE TABLE t (id int)"); err != nil {
		t.Fatal(err)
	}
	cfg, err := mysql.ParseDSN(tdb.DSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = ""
	src, err := Open(ctx, cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if host, _, _ := strings.Cut(cfg.Addr, ":"); src.Database() != host {
		t.Errorf("Database() = %q, want the host %q", src.Database(), host)
	}
	if _, err := src.Describe(ctx, source.TableRef{Schema: tdb.Name, Name: "t"}); err != nil {
		t.Errorf("Describe(%s.t): %v", tdb.Name, err)
	}
	_, err = src.Describe(ctx, source.TableRef{Name: "t"})
	if want := "table t: no database: write DATABASE.t, or name a database in the connection's secret (dbname)"; err == nil || err.Error() != want {
		t.Errorf("Describe(t) = %v, want %s", err, want)
	}
}

// TestDescribeSuggestsTheNameInAnotherCase: table and database names are
// case-sensitive on Linux; REGIONS and DB.regions name the existing table.
func TestDescribeSuggestsTheNameInAnotherCase(t *testing.T) {
	src, db := openTest(t)
	if err := db.Exec(t.Context(), "CREATE TABLE regions (id int)"); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[source.TableRef]string{
		{Name: "REGIONS"}: fmt.Sprintf(`table %[1]s.REGIONS: no table or view "REGIONS" in database %[1]s (or no privilege on it) (did you mean "regions"?): not found`, db.name),
		{Schema: strings.ToUpper(db.name), Name: "regions"}: fmt.Sprintf(`table %[2]s.regions: no table or view "regions" in database %[2]s (or no privilege on it) (did you mean "%[1]s.regions"?): not found`,
			db.name, strings.ToUpper(db.name)),
	} {
		_, err := src.Describe(t.Context(), ref)
		if !errors.Is(err, source.ErrNotFound) || err.Error() != want {
			t.Errorf("Describe(%s) = %v\nwant %s", ref, err, want)
		}
	}
}
