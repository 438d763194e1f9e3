package secret

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/testdb"
)

// writeFile writes content to dir/name, creating parent directories.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, "DemoDBSecret.json", `{"engine":"aurora-postgresql","host":"demo.cluster.example","port":5432,"username":"app","password":"pw-json-1","dbname":"hr","dbClusterIdentifier":"demo"}`)
	writeFile(t, dir, "prod/hr/mysql.json", `{"engine":"mariadb","host":"10.0.0.7","port":"3307","username":"etl","password":"pw-json-2","dbname":"hr"}`)
	writeFile(t, dir, "lite.json", `{"engine":"sqlite","dbname":"/data/hr.db"}`)
	urlFile := writeFile(t, dir, "loose/hr.url", "postgres://app:pw-url-1@db.example:6543/hr?sslmode=require\n")
	t.Setenv("WHARF_TEST_PG_URL", "postgresql://app:pw-env-1@db.example/hr")
	t.Setenv("WHARF_TEST_MY_URL", "mysql://etl:pw-env-2@my.example:3306/shop?tls=true")
	t.Setenv("WHARF_TEST_LITE_ABS", "sqlite:///var/lib/hr.db")
	t.Setenv("WHARF_TEST_LITE_REL", "sqlite:data/hr.db?_pragma=busy_timeout(5000)")
	t.Setenv(EnvProvider, "")

	for _, tc := range []struct {
		ref, provider string
		engine        string // normalized
		want          Credentials
		dsn, redacted string
	}{
		{
			ref: "DemoDBSecret", provider: "file:" + dir, engine: "postgres",
			want:     Credentials{Engine: "aurora-postgresql", Host: "demo.cluster.example", Port: 5432, Username: "app", Password: "pw-json-1", DBName: "hr"},
			dsn:      "postgres://app:pw-json-1@demo.cluster.example:5432/hr",
			redacted: "postgres://app:xxxxx@demo.cluster.example:5432/hr",
		},
		{
			ref: "prod/hr/mysql", provider: "file://" + dir, engine: "mysql",
			want:     Credentials{Engine: "mariadb", Host: "10.0.0.7", Port: 3307, Username: "etl", Password: "pw-json-2", DBName: "hr"},
			dsn:      "etl:pw-json-2@tcp(10.0.0.7:3307)/hr",
			redacted: "mysql://etl:xxxxx@10.0.0.7:3307/hr",
		},
		{
			ref: "lite", provider: "file:" + dir, engine: "sqlite",
			want: Credentials{Engine: "sqlite", DBName: "/data/hr.db"},
			dsn:  "/data/hr.db", redacted: "sqlite:///data/hr.db",
		},
		{
			ref: "file:" + urlFile, engine: "postgres",
			want:     Credentials{Engine: "postgres", Host: "db.example", Port: 6543, Username: "app", Password: "pw-url-1", DBName: "hr"},
			dsn:      "postgres://app:pw-url-1@db.example:6543/hr?sslmode=require",
			redacted: "postgres://app:xxxxx@db.example:6543/hr",
		},
		{
			ref: "env:WHARF_TEST_PG_URL", engine: "postgres",
			want:     Credentials{Engine: "postgresql", Host: "db.example", Username: "app", Password: "pw-env-1", DBName: "hr"},
			dsn:      "postgresql://app:pw-env-1@db.example/hr",
			redacted: "postgres://app:xxxxx@db.example:5432/hr",
		},
		{
			ref: "env:WHARF_TEST_MY_URL", engine: "mysql",
			want:     Credentials{Engine: "mysql", Host: "my.example", Port: 3306, Username: "etl", Password: "pw-env-2", DBName: "shop"},
			dsn:      "etl:pw-env-2@tcp(my.example:3306)/shop?tls=true",
			redacted: "mysql://etl:xxxxx@my.example:3306/shop",
		},
		{
			ref: "env:WHARF_TEST_LITE_ABS", engine: "sqlite",
			want: Credentials{Engine: "sqlite", DBName: "/var/lib/hr.db"},
			dsn:  "/var/lib/hr.db", redacted: "sqlite:///var/lib/hr.db",
		},
		{
			ref: "env:WHARF_TEST_LITE_REL", engine: "sqlite",
			want: Credentials{Engine: "sqlite", DBName: "data/hr.db"},
			dsn:  "data/hr.db?_pragma=busy_timeout%285000%29", redacted: "sqlite:data/hr.db",
		},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			c, err := Resolve(ctx, tc.ref, tc.provider)
			if err != nil {
				t.Fatal(err)
			}
			got := Credentials{Engine: c.Engine, Host: c.Host, Port: c.Port, Username: c.Username, Password: c.Password, DBName: c.DBName}
			if got.GoString() != tc.want.GoString() || got.Password != tc.want.Password {
				t.Errorf("credentials\n got %#v\nwant %#v", got, tc.want)
			}
			if e := c.NormalizedEngine(); e != tc.engine {
				t.Errorf("NormalizedEngine() = %q, want %q", e, tc.engine)
			}
			if d := c.DSN().Reveal(); d != tc.dsn {
				t.Errorf("DSN() = %q, want %q", d, tc.dsn)
			}
			if r := c.Redacted(); r != tc.redacted {
				t.Errorf("Redacted() = %q, want %q", r, tc.redacted)
			}
		})
	}
}

func TestResolveUsesWharfSecretsEnv(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "hr.json", `{"engine":"postgres","host":"db","username":"app","password":"pw-env-provider"}`)
	t.Setenv(EnvProvider, "file:"+dir)
	c, err := Resolve(context.Background(), "hr", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "db" || c.Port != 0 || c.Redacted() != "postgres://app:xxxxx@db:5432/" {
		t.Errorf("got %v", c)
	}
}

func TestResolveErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const pw = "pw-do-not-show-42"
	writeFile(t, dir, "broken.json", `{"engine":"postgres","password":"`+pw+`",`)
	writeFile(t, dir, "garbage.json", `{"engine":"postgres","password":"`+pw+`" x}`)
	writeFile(t, dir, "oracle.json", `{"engine":"oracle","host":"db","password":"`+pw+`"}`)
	writeFile(t, dir, "nohost.json", `{"engine":"postgres","username":"app","password":"`+pw+`"}`)
	writeFile(t, dir, "badport.json", `{"engine":"postgres","host":"db","port":"54x","password":"`+pw+`"}`)
	writeFile(t, dir, "numpw.json", `{"engine":"postgres","host":"db","password":12345678}`)
	writeFile(t, dir, "nolite.json", `{"engine":"sqlite","password":"`+pw+`"}`)
	writeFile(t, dir, "empty.json", "  \n")
	writeFile(t, dir, "badurl.json", "postgres://app:"+pw+"@db:54x/hr")
	writeFile(t, dir, "scheme.json", "oracle://app:"+pw+"@db/hr")
	writeFile(t, dir, "plain.json", pw)
	notDir := writeFile(t, dir, "afile", "x")
	t.Setenv("WHARF_TEST_EMPTY", "")
	t.Setenv(EnvProvider, "")
	fp := "file provider " + dir

	for _, tc := range []struct {
		ref, provider, want string
		notFound            bool
	}{
		{"env:WHARF_TEST_UNSET_VAR", "", `secret "env:WHARF_TEST_UNSET_VAR": secret not found: environment variable WHARF_TEST_UNSET_VAR is not set`, true},
		{"env:WHARF_TEST_EMPTY", "", `secret "env:WHARF_TEST_EMPTY": environment variable WHARF_TEST_EMPTY is empty`, false},
		{"file:" + dir + "/nope.txt", "", `secret "file:` + dir + `/nope.txt": secret not found: no such file`, true},
		{"DemoDBSecret", "", `secret "DemoDBSecret": a secret name needs a secrets provider: pass --secrets or set WHARF_SECRETS (e.g. --secrets aws-sm: or file:/etc/wharf/secrets), or write env:VAR or file:PATH`, false},
		{"DemoDBSecret", "file:" + dir, `secret "DemoDBSecret" (` + fp + `): secret not found: no file ` + dir + `/DemoDBSecret.json`, true},
		{"DemoDBSecret", "vault://token@vault:8200", `secret "DemoDBSecret": secrets provider: unknown scheme "vault" (known schemes: aws-sm, file, maptest)`, false},
		{"DemoDBSecret", "file:" + dir + "/missing", `secret "DemoDBSecret": secrets provider file:` + dir + `/missing: no such file or directory`, false},
		{"DemoDBSecret", "file:" + notDir, `secret "DemoDBSecret": secrets provider file:` + notDir + `: not a directory`, false},
		{"../etc/passwd", "file:" + dir, `secret "../etc/passwd" (` + fp + `): a secret name for the file provider must not have empty, "." or ".." parts`, false},
		{"broken", "file:" + dir, `secret "broken" (` + fp + `): malformed JSON: unexpected end (content not shown)`, false},
		{"garbage", "file:" + dir, `secret "garbage" (` + fp + `): malformed JSON at byte 53 (content not shown)`, false},
		{"oracle", "file:" + dir, `secret "oracle" (` + fp + `): engine "oracle" is not supported: want postgres, mysql, mariadb, aurora-postgresql, aurora-mysql or sqlite`, false},
		{"nohost", "file:" + dir, `secret "nohost" (` + fp + `): "host" is required`, false},
		{"badport", "file:" + dir, `secret "badport" (` + fp + `): JSON key "port": want a whole number in 1-65535`, false},
		{"numpw", "file:" + dir, `secret "numpw" (` + fp + `): JSON key "password": want a string`, false},
		{"nolite", "file:" + dir, `secret "nolite" (` + fp + `): sqlite needs a database file path ("dbname", or sqlite:///PATH)`, false},
		{"empty", "file:" + dir, `secret "empty" (` + fp + `): the secret is empty`, false},
		{"badurl", "file:" + dir, `secret "badurl" (` + fp + `): malformed postgres URL (value not shown): invalid port`, false},
		{"scheme", "file:" + dir, `secret "scheme" (` + fp + `): URL scheme "oracle" is not supported: want postgres, postgresql, mysql, mariadb or sqlite`, false},
		{"plain", "file:" + dir, `secret "plain" (` + fp + `): content is neither a connection URL (postgres://, mysql://, sqlite:) nor RDS JSON ({"engine": ...})`, false},
		{"postgres://app:" + pw + "@db/hr", "", `secret reference: inline connection URL with a password (postgres://app:xxxxx@db/hr): put it in a secret and write env:VAR, file:PATH or a secret name here`, false},
	} {
		_, err := Resolve(ctx, tc.ref, tc.provider)
		if err == nil {
			t.Errorf("Resolve(%q, %q): no error", tc.ref, tc.provider)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Resolve(%q, %q) error\n got %s\nwant %s", tc.ref, tc.provider, err, tc.want)
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error repeats the secret content: %s", err)
		}
		if errors.Is(err, ErrNotFound) != tc.notFound {
			t.Errorf("Resolve(%q): errors.Is(err, ErrNotFound) = %v, want %v", tc.ref, !tc.notFound, tc.notFound)
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("Resolve(%q): error is %T, want *secret.Error", tc.ref, err)
		}
	}
}

func TestForEngine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "noengine.json", `{"host":"db","username":"app","password":"pw-for-engine","dbname":"hr"}`)
	writeFile(t, dir, "aurora.json", `{"engine":"aurora-mysql","host":"db","username":"app","password":"pw-for-engine"}`)
	ctx := context.Background()
	c, err := Resolve(ctx, "noengine", "file:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.NormalizedEngine() != "" || c.DSN() != "" {
		t.Errorf("no engine: NormalizedEngine %q, DSN set %v", c.NormalizedEngine(), c.DSN() != "")
	}
	if _, err := c.ForEngine(""); err == nil || err.Error() != `the secret has no engine: add "engine" to the secret or set engine on the connection` {
		t.Errorf("ForEngine(\"\") error = %v", err)
	}
	pg, err := c.ForEngine("postgres")
	if err != nil {
		t.Fatal(err)
	}
	if pg.DSN().Reveal() != "postgres://app:pw-for-engine@db:5432/hr" || c.Engine != "" {
		t.Errorf("ForEngine(postgres): DSN %q, original engine %q", pg.DSN().Reveal(), c.Engine)
	}
	a, err := Resolve(ctx, "aurora", "file:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ForEngine("mysql"); err != nil {
		t.Errorf("aurora-mysql ForEngine(mysql): %v", err)
	}
	if _, err := a.ForEngine("postgres"); err == nil || err.Error() != "the connection says engine postgres but the secret says aurora-mysql" {
		t.Errorf("aurora-mysql ForEngine(postgres) error = %v", err)
	}
	if _, err := a.ForEngine("db2"); err == nil || !strings.Contains(err.Error(), `engine "db2" is not supported`) {
		t.Errorf("ForEngine(db2) error = %v", err)
	}
}

// TestDSNConnectsToPostgres resolves both secret shapes for a real role
// whose password needs escaping, and connects with the DSN.
func TestDSNConnectsToPostgres(t *testing.T) {
	admin := testdb.Postgres(t)
	ctx := context.Background()
	base, err := url.Parse(testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	role := "wharf_secret_" + testdb.RandomSuffix()
	const pw = `p@ss:w/rd%20?#&="x`
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s", pgx.Identifier{role}.Sanitize(), quoteLiteral(pw))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})
	port := base.Port()
	if port == "" {
		port = "5432"
	}
	dbname := strings.TrimPrefix(base.Path, "/")
	dir := t.TempDir()
	portN, _ := strconv.Atoi(port)
	writeFile(t, dir, "rds.json", fmt.Sprintf(`{"engine":"aurora-postgresql","host":%q,"port":%q,"username":%q,"password":%q,"dbname":%q}`,
		base.Hostname(), port, role, pw, dbname))
	u := *base
	u.User = url.UserPassword(role, pw)
	writeFile(t, dir, "url.json", u.String())

	for _, name := range []string{"rds", "url"} {
		c, err := Resolve(ctx, name, "file:"+dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Password.Reveal() != pw || c.Port != portN {
			t.Errorf("%s: password or port not read back (port %d)", name, c.Port)
		}
		conn, err := pgx.Connect(ctx, c.DSN().Reveal())
		if err != nil {
			t.Fatalf("%s: connect with DSN: %v", name, RedactString(err.Error()))
		}
		var user string
		if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		if user != role {
			t.Errorf("%s: connected as %q, want %q", name, user, role)
		}
	}
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestDSNOpensSQLite resolves a sqlite secret and opens the file with the
// pure-Go driver.
func TestDSNOpensSQLite(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "hr.db")
	t.Setenv("WHARF_TEST_SQLITE", "sqlite://"+dbPath+"?_pragma=busy_timeout(5000)")
	c, err := Resolve(context.Background(), "env:WHARF_TEST_SQLITE", "")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", c.DSN().Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE regions (id integer primary key, name text)"); err != nil {
		t.Fatal(err)
	}
	var timeout int
	if err := db.QueryRow("PRAGMA busy_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != 5000 {
		t.Errorf("busy_timeout = %d: the URL's query did not reach the driver", timeout)
	}
	if _, err := os.Stat(dbPath); err != nil {
		t.Errorf("database file not created at the secret's path: %v", err)
	}
}

// mapProvider is a provider registered under its own scheme, to check that
// Resolve reaches providers through the registry.
type mapProvider map[string]string

func (m mapProvider) Lookup(_ context.Context, name string) (Secret, error) {
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return Secret(v), nil
}

func (m mapProvider) String() string { return "map provider" }

// mapOpened is the URI the maptest provider was last opened with.
var mapOpened string

// Registered once per process (tests may run several times with -count).
func init() {
	RegisterProvider("maptest", func(_ context.Context, uri string) (Provider, error) {
		mapOpened = uri
		return mapProvider{"team/hr": "postgres://app:pw-map-provider@db/hr"}, nil
	})
}

func TestRegisteredProvider(t *testing.T) {
	const scheme = "maptest"
	c, err := Resolve(context.Background(), "team/hr", scheme+":region=x")
	if err != nil {
		t.Fatal(err)
	}
	if mapOpened != scheme+":region=x" || c.Redacted() != "postgres://app:xxxxx@db:5432/hr" {
		t.Errorf("opened %q, got %v", mapOpened, c)
	}
	_, err = Resolve(context.Background(), "team/other", scheme+":")
	if err == nil || err.Error() != `secret "team/other" (map provider): secret not found: team/other` {
		t.Errorf("missing secret error = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering a scheme twice did not panic")
			}
		}()
		RegisterProvider(scheme, nil)
	}()
}
