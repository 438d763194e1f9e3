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

// MySQLDatabase is a database private to one test.
type MySQLDatabase struct {
	// Name is the database (schema) name.
	Name string
	// URL is mysql://user:password@host:port/NAME, as a wharf secret holds it.
	URL string
	// DSN is the go-sql-driver/mysql DSN of the same database.
	DSN string
	// DB is an open handle on it (utf8mb4, session time zone UTC), closed at cleanup.
	DB *sql.DB
}

// MySQL creates a fresh database for the test (dropped at cleanup), or
// skips the test (fails it when CI=true) when the server is unreachable.
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
	name := "wharf_test_" + RandomSuffix()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
		admin.Close()
	})
	dsn := mysqlDSN(base, name)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	u := *base
	u.Path = "/" + name
	return &MySQLDatabase{Name: name, URL: u.String(), DSN: dsn, DB: db}
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
