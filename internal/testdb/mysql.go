package testdb

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultMySQLURL is used when TEST_MYSQL_URL is unset: the MariaDB this
// machine kind runs (root, empty password).
const DefaultMySQLURL = "mysql://root@127.0.0.1:3306/"

// MySQLURL returns the base MySQL/MariaDB test server URL
// (mysql://user:password@host:port/).
func MySQLURL() string {
	if u := os.Getenv("TEST_MYSQL_URL"); u != "" {
		return u
	}
	return DefaultMySQLURL
}

// MySQLDatabase is a database private to one test, and a user private to it.
//
// The user may do anything in the database and nothing server-wide: in
// particular it lacks PROCESS, so an incremental run through URL or DSN
// cannot read the write transactions in flight (information_schema.innodb_trx
// lists the whole server's) and is not held back by other tests' open
// transactions, on any database (docs/guarantees.md). Only a test of that
// bound uses AdminURL.
type MySQLDatabase struct {
	// Name is the database (schema) name.
	Name string
	// User is the test's own user, granted every privilege on Name only.
	User string
	// URL is mysql://USER:PASSWORD@host:port/NAME, as a wharf secret holds it.
	URL string
	// DSN is the go-sql-driver/mysql DSN of the same user and database.
	DSN string
	// DB is an open handle as that user (utf8mb4, session time zone UTC),
	// closed at cleanup.
	DB *sql.DB
	// AdminURL is TEST_MYSQL_URL's user (root) on the same database: a run
	// through it sees every write transaction in flight on the server, the
	// other tests' too. For tests of the in-flight bound only.
	AdminURL string
	// AdminDSN is the driver DSN of AdminURL.
	AdminDSN string
	// Admin is an open handle as TEST_MYSQL_URL's user, for what the test's
	// user may not do (CREATE USER, GRANT).
	Admin *sql.DB
}

// MySQL creates a fresh database and a user that may use only it for the
// test (both dropped at cleanup), or skips the test (fails it when CI=true)
// when the server is unreachable.
func MySQL(t testing.TB) *MySQLDatabase {
	t.Helper()
	base, err := url.Parse(MySQLURL())
	if err != nil {
		t.Fatalf("TEST_MYSQL_URL: %v", err)
	}
	admin, err := sql.Open("mysql", mysqlDSN(base, ""))
	if err != nil {
		t.Fatalf("TEST_MYSQL_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		Unavailable(t, "MySQL/MariaDB ("+redactURL(MySQLURL())+")", err)
	}
	suffix := RandomSuffix()
	name, user, password := "wharf_test_"+suffix, "wharf_t_"+suffix, "pw-"+RandomSuffix()+RandomSuffix()
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
		_, _ = admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'")
		admin.Close()
	})
	for _, q := range []string{
		"CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4",
		"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT ALL PRIVILEGES ON `" + name + "`.* TO '" + user + "'@'%'",
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", strings.Fields(q)[0]+" "+strings.Fields(q)[1], err)
		}
	}
	u := *base
	u.Path = "/" + name
	adminURL, adminDSN := u.String(), mysqlDSN(&u, name)
	u.User = url.UserPassword(user, password)
	dsn := mysqlDSN(&u, name)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &MySQLDatabase{Name: name, User: user, URL: u.String(), DSN: dsn, DB: db, AdminURL: adminURL, AdminDSN: adminDSN, Admin: admin}
}

// mysqlDSN turns mysql://user:pass@host:port/?params into a driver DSN for
// database db, with utf8mb4 and the session time zone set to UTC.
func mysqlDSN(u *url.URL, db string) string {
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = strings.TrimSuffix(u.Host, ":") + ":3306"
	}
	cfg.DBName = db
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	for k, v := range u.Query() {
		cfg.Params[k] = v[0]
	}
	cfg.MultiStatements = true
	return cfg.FormatDSN()
}
