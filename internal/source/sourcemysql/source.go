package sourcemysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/go-sql-driver/mysql"

	"github.com/wharf-data/wharf/internal/source"
)

// The driver logs connection trouble (such as "packets.go:100 unexpected
// EOF") beside the error it returns: through the standard log package,
// which wharf's CLI keeps at debug level.
func init() { _ = mysql.SetLogger(log.Default()) }

// Source reads tables of one MySQL or MariaDB server. Its methods may be
// called from several goroutines. Connections broken by a cancelled or
// failed extract are discarded and replaced by the pool.
type Source struct {
	db       *sql.DB
	cfg      *mysql.Config
	database string // the connection's default database ("" = none)
	mariadb  bool
	version  string
	mem      memory.Allocator

	// pipelined decodes in a goroutine of its own while the caller's
	// goroutine runs the sink. Tests switch it off to compare.
	pipelined bool
}

var _ source.Source = (*Source)(nil)

// DefaultConnectTimeout bounds dialing the server when the DSN sets no timeout.
const DefaultConnectTimeout = 30 * time.Second

// Options tune a Source; the zero value is Open's.
type Options struct {
	// StatementTimeout makes the server end any one statement that runs
	// longer: MariaDB's max_statement_time (every statement), MySQL's
	// max_execution_time (SELECT statements, which are all wharf runs).
	// 0: the DSN's or the server's setting.
	StatementTimeout time.Duration
}

// Open connects to the server a go-sql-driver/mysql DSN
// (user:password@tcp(host:port)/dbname?params) names and checks it answers.
// The session reads TIMESTAMP values in UTC and text as utf8mb4, whatever
// the DSN says. Errors never contain the password.
func Open(ctx context.Context, dsn string) (*Source, error) {
	return OpenWithOptions(ctx, dsn, Options{})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(ctx context.Context, dsn string, opts Options) (*Source, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's parse errors may quote the DSN: say what is wrong without it.
		return nil, errors.New("mysql source: invalid connection string (value not shown): want user:password@tcp(host:port)/dbname")
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if err := verifyWithCA(cfg); err != nil {
		return nil, fmt.Errorf("mysql source: %w", err)
	}
	for k := range cfg.Params {
		if strings.EqualFold(k, "time_zone") || strings.EqualFold(k, "charset") {
			delete(cfg.Params, k)
		}
	}
	// TIMESTAMP columns are converted to the session zone: read them in UTC.
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Collation = "utf8mb4_general_ci" // results in utf8mb4, whatever each column's charset
	cfg.ParseTime = false                // dates and times are decoded here, zero dates included
	cfg.InterpolateParams = true         // text protocol, one round trip per statement
	cfg.MultiStatements = false
	cfg.Loc = time.UTC
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConnectTimeout
	}
	cfg.DialFunc = bufferedDial
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql source: %w", err)
	}
	s := &Source{db: pool(conn), cfg: cfg, database: cfg.DBName, mem: source.Buffers, pipelined: true}
	if err := s.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.version); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("mysql source: connect (%s): %w", s.where(), err)
	}
	s.mariadb = strings.Contains(strings.ToLower(s.version), "mariadb")
	if opts.StatementTimeout > 0 {
		// The variable's name and unit depend on the server, known only
		// now: every connection of the pool sets it when it opens.
		s.db.Close()
		if s.mariadb {
			cfg.Params["max_statement_time"] = strconv.FormatFloat(opts.StatementTimeout.Seconds(), 'f', -1, 64)
		} else {
			cfg.Params["max_execution_time"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
		}
		if conn, err = mysql.NewConnector(cfg); err != nil {
			return nil, fmt.Errorf("mysql source: %w", err)
		}
		s.db = pool(conn)
	}
	return s, nil
}

// pool is the source's connection pool over conn.
func pool(conn driver.Connector) *sql.DB {
	db := sql.OpenDB(conn)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db
}

// verifyWithCA applies ssl-ca=PATH (also spelled sslrootcert, as for
// PostgreSQL): TLS verified against the PEM certificates in PATH (for RDS,
// the region's certificate bundle) and the server's host name. The driver's
// own tls=true|skip-verify|preferred|false work as documented by
// go-sql-driver/mysql.
func verifyWithCA(cfg *mysql.Config) error {
	var path, name string
	for _, k := range []string{"ssl-ca", "sslrootcert"} {
		if v, ok := cfg.Params[k]; ok {
			path, name = v, k
			delete(cfg.Params, k)
		}
	}
	if name == "" {
		return nil
	}
	if cfg.TLS != nil && cfg.TLS.InsecureSkipVerify {
		return fmt.Errorf("%s: the certificate is verified against it, which tls=%s turns off: drop one", name, cfg.TLSConfig)
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s: %s holds no PEM certificate", name, path)
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		host = cfg.Addr
	}
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
	return nil
}

// where names the server for messages: user, address and database, never the password.
func (s *Source) where() string {
	return fmt.Sprintf("user=%s addr=%s database=%s", s.cfg.User, s.cfg.Addr, s.cfg.DBName)
}

// Database names the source in the lake layout (<database>/<table>): the
// connection's database, or, when the secret names none (tables are then
// always written as database.table), the server's host name.
func (s *Source) Database() string {
	if s.database != "" {
		return s.database
	}
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil || host == "" {
		return "mysql"
	}
	return host
}

// DefaultSchema implements source.Qualifier: a table named without its
// database is the connection's database's.
func (s *Source) DefaultSchema(context.Context) (string, error) { return s.Database(), nil }

// Close closes every connection.
func (s *Source) Close() error { return s.db.Close() }

// schemaOf resolves a table reference's database.
func (s *Source) schemaOf(ref source.TableRef) (string, error) {
	if ref.Schema != "" {
		return ref.Schema, nil
	}
	if s.database == "" {
		return "", fmt.Errorf("table %s: no database: write DATABASE.%s, or name a database in the connection's secret (dbname)", ref, ref.Name)
	}
	return s.database, nil
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// discard makes the pool drop conn instead of reusing it: after a failed or
// cancelled extract the session may be mid-result or mid-transaction.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}

// IsAuthError reports whether err is the server refusing the user's
// credentials (ER_ACCESS_DENIED_ERROR 1045, or 1698 for a socket-only user),
// the case where a rotated secret should be read again.
func IsAuthError(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1045 || me.Number == 1698)
}
