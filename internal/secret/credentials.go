package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Engines wharf reads from, as NormalizedEngine returns them.
const (
	EnginePostgres = "postgres"
	EngineMySQL    = "mysql"
	EngineSQLite   = "sqlite"
)

// engineAliases maps engine names as AWS (and URLs) write them to the engine
// wharf uses.
var engineAliases = map[string]string{
	"postgres":          EnginePostgres,
	"postgresql":        EnginePostgres,
	"aurora-postgresql": EnginePostgres,
	"mysql":             EngineMySQL,
	"mariadb":           EngineMySQL,
	"aurora":            EngineMySQL, // the original Aurora MySQL engine name
	"aurora-mysql":      EngineMySQL,
	"sqlite":            EngineSQLite,
	"sqlite3":           EngineSQLite,
}

// NormalizeEngine maps an engine name as AWS writes it to postgres, mysql or
// sqlite; it returns "" for an engine wharf does not read.
func NormalizeEngine(engine string) string {
	return engineAliases[strings.ToLower(strings.TrimSpace(engine))]
}

const supportedEngines = "postgres, mysql, mariadb, aurora-postgresql, aurora-mysql or sqlite"

// Credentials are the resolved connection details of a source database.
// Printing, logging or marshalling them shows Redacted(), never the password.
type Credentials struct {
	// Engine as the secret writes it (postgres, aurora-postgresql, mariadb,
	// ...); "" when the secret does not say (then the catalog must).
	Engine   string
	Host     string
	Port     int
	Username string
	Password Secret
	// DBName is the database name; for sqlite, the database file path.
	DBName string
	// rawURL is the URL the secret held, kept whole (with its query
	// parameters) for the driver; "" for a JSON secret.
	rawURL Secret
	// params are the URL's query parameters (sslmode, tls, ...).
	params url.Values
}

// NormalizedEngine returns postgres, mysql or sqlite ("aurora-postgresql" →
// postgres, "mariadb" → mysql), or "" when the engine is unknown or unset.
func (c *Credentials) NormalizedEngine() string { return NormalizeEngine(c.Engine) }

// ForEngine returns a copy of c for a connection that declares engine (""
// = take the secret's). It fails when neither says the engine, or when they
// disagree.
func (c *Credentials) ForEngine(engine string) (*Credentials, error) {
	out := *c
	want := NormalizeEngine(engine)
	if engine != "" && want == "" {
		return nil, fmt.Errorf("engine %q is not supported: want %s", engine, supportedEngines)
	}
	have := c.NormalizedEngine()
	switch {
	case want == "" && have == "":
		return nil, errors.New(`the secret has no engine: add "engine" to the secret or set engine on the connection`)
	case want == "":
		return &out, nil
	case have == "":
		out.Engine = engine
	case have != want:
		return nil, fmt.Errorf("the connection says engine %s but the secret says %s", engine, c.Engine)
	}
	if err := out.check(); err != nil {
		return nil, err
	}
	registerCredentials(&out)
	return &out, nil
}

// DSN returns the connection string for the engine's driver: a pgx URL for
// postgres, a go-sql-driver/mysql DSN (user:pass@tcp(host:port)/db?params)
// for mysql, and the database file path for sqlite (with the URL's query, if
// any, for modernc.org/sqlite). It returns "" when the engine is unknown.
func (c *Credentials) DSN() Secret {
	switch c.NormalizedEngine() {
	case EnginePostgres:
		if c.rawURL != "" {
			return c.rawURL
		}
		u := c.url("postgres", c.Password.Reveal())
		u.RawQuery = c.params.Encode()
		return Secret(u.String())
	case EngineMySQL:
		var b strings.Builder
		if c.Username != "" || c.Password != "" {
			b.WriteString(c.Username)
			if c.Password != "" {
				b.WriteString(":" + c.Password.Reveal())
			}
			b.WriteString("@")
		}
		host := c.Host
		if host == "" {
			host = "127.0.0.1"
		}
		b.WriteString("tcp(" + net.JoinHostPort(host, strconv.Itoa(c.port())) + ")/" + c.DBName)
		if len(c.params) > 0 {
			b.WriteString("?" + c.params.Encode())
		}
		return Secret(b.String())
	case EngineSQLite:
		if len(c.params) > 0 {
			return Secret(c.DBName + "?" + c.params.Encode())
		}
		return Secret(c.DBName)
	}
	return ""
}

// Redacted returns the connection as a URL with the password masked, e.g.
// postgres://app:xxxxx@db:5432/hr. Query parameters are left out.
func (c *Credentials) Redacted() string {
	if c == nil {
		return "<nil>"
	}
	switch c.NormalizedEngine() {
	case EngineSQLite:
		if strings.HasPrefix(c.DBName, "/") {
			return "sqlite://" + c.DBName
		}
		return "sqlite:" + c.DBName
	case "":
		scheme := c.Engine
		if scheme == "" {
			scheme = "unknown"
		}
		return c.url(scheme, mask(c.Password)).String()
	default:
		return c.url(c.NormalizedEngine(), mask(c.Password)).String()
	}
}

func mask(s Secret) string {
	if s == "" {
		return ""
	}
	return redactedText
}

func (c *Credentials) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.NormalizedEngine() {
	case EngineMySQL:
		return 3306
	default:
		return 5432
	}
}

// url builds scheme://user:password@host:port/dbname.
func (c *Credentials) url(scheme, password string) *url.URL {
	u := &url.URL{Scheme: scheme, Path: "/" + c.DBName}
	if c.Host != "" {
		u.Host = net.JoinHostPort(c.Host, strconv.Itoa(c.port()))
	}
	switch {
	case password != "":
		u.User = url.UserPassword(c.Username, password)
	case c.Username != "":
		u.User = url.User(c.Username)
	}
	return u
}

// String implements fmt.Stringer with Redacted().
func (c Credentials) String() string { return c.Redacted() }

// GoString implements fmt.GoStringer without the password.
func (c Credentials) GoString() string {
	return fmt.Sprintf("secret.Credentials{Engine:%q, Host:%q, Port:%d, Username:%q, Password:%s, DBName:%q}",
		c.Engine, c.Host, c.Port, c.Username, RedactedValue, c.DBName)
}

// Format implements fmt.Formatter: every verb shows the redacted form, so
// neither the password nor the unexported raw URL can be printed.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, c.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(c.Redacted()))
	default:
		_, _ = io.WriteString(f, c.Redacted())
	}
}

// MarshalJSON implements json.Marshaler with the password redacted.
func (c Credentials) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Engine   string `json:"engine,omitempty"`
		Host     string `json:"host,omitempty"`
		Port     int    `json:"port,omitempty"`
		Username string `json:"username,omitempty"`
		Password Secret `json:"password,omitempty"`
		DBName   string `json:"dbname,omitempty"`
	}{c.Engine, c.Host, c.Port, c.Username, c.Password, c.DBName})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// MarshalText implements encoding.TextMarshaler with Redacted().
func (c Credentials) MarshalText() ([]byte, error) { return []byte(c.Redacted()), nil }

// LogValue implements slog.LogValuer with Redacted().
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.Redacted()) }

// ParseCredentials reads a secret's content: a connection URL
// (postgres://..., mysql://..., sqlite:///path or sqlite:relative/path) or
// the AWS Secrets Manager RDS JSON shape
// {"engine","host","port","username","password","dbname"}. Error messages
// never contain the content.
func ParseCredentials(content Secret) (*Credentials, error) {
	s := strings.TrimSpace(content.Reveal())
	if s == "" {
		return nil, errors.New("the secret is empty")
	}
	var c *Credentials
	var err error
	if strings.HasPrefix(s, "{") {
		c, err = parseRDSJSON([]byte(s))
	} else {
		// Registered before parsing: a malformed URL's error must not
		// print its password either.
		RegisterURL(s)
		c, err = parseURL(s)
	}
	if err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	registerCredentials(c)
	return c, nil
}

// check validates what the engine needs.
func (c *Credentials) check() error {
	if c.Engine != "" && c.NormalizedEngine() == "" {
		return fmt.Errorf("engine %q is not supported: want %s", c.Engine, supportedEngines)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("port %d out of range 1-65535", c.Port)
	}
	switch c.NormalizedEngine() {
	case EngineSQLite:
		if c.DBName == "" {
			return errors.New(`sqlite needs a database file path ("dbname", or sqlite:///PATH)`)
		}
	case EnginePostgres, EngineMySQL:
		if c.rawURL == "" && c.Host == "" {
			return errors.New(`"host" is required`)
		}
	}
	return nil
}

func parseURL(s string) (*Credentials, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return nil, errors.New("content is neither a connection URL (postgres://, mysql://, sqlite:) nor RDS JSON ({\"engine\": ...})")
	}
	scheme = strings.ToLower(scheme)
	engine := NormalizeEngine(scheme)
	if engine == "" {
		if len(scheme) > 20 || strings.ContainsAny(scheme, " /@") {
			return nil, errors.New("content is neither a connection URL (postgres://, mysql://, sqlite:) nor RDS JSON ({\"engine\": ...})")
		}
		return nil, fmt.Errorf("URL scheme %q is not supported: want postgres, postgresql, mysql, mariadb or sqlite", scheme)
	}
	if engine == EngineSQLite {
		return parseSQLiteURL(scheme, rest)
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse errors repeat the URL: say what is wrong without it.
		return nil, fmt.Errorf("malformed %s URL (value not shown)%s", scheme, urlErrorHint(err))
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("malformed %s URL: want %s://user:password@host:port/dbname", scheme, scheme)
	}
	c := &Credentials{
		Engine:   scheme,
		Host:     u.Hostname(),
		Username: u.User.Username(),
		DBName:   strings.TrimPrefix(u.Path, "/"),
		params:   u.Query(),
	}
	if pw, ok := u.User.Password(); ok {
		c.Password = Secret(pw)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("malformed URL: port out of range 1-65535")
		}
		c.Port = n
	}
	c.rawURL = Secret(s)
	if len(c.params) == 0 {
		c.params = nil
	}
	return c, nil
}

// urlErrorHint keeps the part of a url.Error that does not repeat the URL.
func urlErrorHint(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := ue.Err.Error()
		// "invalid port \":x\" after host" quotes a piece of the URL; keep the kind only.
		if i := strings.IndexAny(msg, "\"'"); i >= 0 {
			msg = strings.TrimSpace(msg[:i])
		}
		if msg != "" {
			return ": " + msg
		}
	}
	return ""
}

// parseSQLiteURL reads sqlite:///abs/path, sqlite:relative/path and
// sqlite://localhost/abs/path.
func parseSQLiteURL(scheme, rest string) (*Credentials, error) {
	var path string
	switch {
	case strings.HasPrefix(rest, "///"):
		path = rest[2:]
	case strings.HasPrefix(rest, "//localhost/"):
		path = rest[len("//localhost"):]
	case strings.HasPrefix(rest, "//"):
		return nil, errors.New("malformed sqlite URL: want sqlite:///ABSOLUTE/PATH or sqlite:RELATIVE/PATH")
	default:
		path = rest
	}
	path, query, _ := strings.Cut(path, "?")
	if path == "" || path == "/" {
		return nil, errors.New("malformed sqlite URL: no database file path")
	}
	c := &Credentials{Engine: scheme, DBName: path}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, errors.New("malformed sqlite URL: bad query parameters")
		}
		c.params = q
	}
	return c, nil
}

// parseRDSJSON reads the AWS Secrets Manager RDS shape. Extra keys (AWS adds
// dbInstanceIdentifier, dbClusterIdentifier, ...) are ignored.
func parseRDSJSON(data []byte) (*Credentials, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("malformed JSON at byte %d (content not shown)", se.Offset)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("malformed JSON: unexpected end (content not shown)")
		}
		return nil, errors.New("malformed JSON: want an object with engine, host, port, username, password, dbname (content not shown)")
	}
	if dec.More() {
		return nil, errors.New("malformed JSON: more than one value (content not shown)")
	}
	str := func(key string) (string, error) {
		v, ok := m[key]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("JSON key %q: want a string", key)
		}
		return s, nil
	}
	c := &Credentials{}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"engine", &c.Engine}, {"host", &c.Host}, {"username", &c.Username}, {"dbname", &c.DBName}} {
		if *f.dst, err = str(f.key); err != nil {
			return nil, err
		}
	}
	pw, err := str("password")
	if err != nil {
		return nil, err
	}
	c.Password = Secret(pw)
	switch p := m["port"].(type) {
	case nil:
	case json.Number:
		n, err := strconv.Atoi(p.String())
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New(`JSON key "port": want a whole number in 1-65535`)
		}
		c.Port = n
	case string:
		if strings.TrimSpace(p) != "" {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 1 || n > 65535 {
				return nil, errors.New(`JSON key "port": want a whole number in 1-65535`)
			}
			c.Port = n
		}
	default:
		return nil, errors.New(`JSON key "port": want a number or a numeric string`)
	}
	// TLS settings, which the RDS shape lacks: the drivers' own parameter
	// names (PostgreSQL sslmode/sslrootcert, MySQL tls/ssl-ca), as in a URL.
	for _, key := range tlsKeys {
		v, err := str(key)
		if err != nil {
			return nil, err
		}
		if v != "" {
			if c.params == nil {
				c.params = url.Values{}
			}
			c.params.Set(key, v)
		}
	}
	return c, nil
}

// tlsKeys are the TLS settings a JSON secret may hold besides the RDS keys.
var tlsKeys = []string{"sslmode", "sslrootcert", "tls", "ssl-ca"}
