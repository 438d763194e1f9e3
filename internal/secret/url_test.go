package secret

import (
	"bytes"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw1234@h:5432/db?sslmode=disable":      "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                                  "postgres://u@h/db",
		"postgres://h/db?password=pw1234&sslmode=require":    "postgres://h/db?password=xxxxx&sslmode=require",
		"postgres://h/db?sslpassword=pw1234":                 "postgres://h/db?sslpassword=xxxxx",
		"s3://b/p?region=eu-west-1&secret_access_key=pw1234": "s3://b/p?region=eu-west-1&secret_access_key=xxxxx",
		"postgres://u:pw#1234@h/db":                          "postgres://(unparseable URL)",
		"postgres://u:pw?1234@h/db":                          "postgres://(unparseable URL)",
		"postgres://u:pw1234%zz@h/db":                        "postgres://(unparseable URL)",
		"postgres://u:pw 1234@h/db":                          "postgres://(unparseable URL)",
		"postgres://u:pw1234@h:port/db":                      "postgres://(unparseable URL)",
		"postgres://u:pw1234@h:99999999999/db":               "postgres://u:xxxxx@h:99999999999/db",
		"postgres://u:1234/pwpw@h/db":                        "postgres://u:xxxxx@h/db",
		"mysql:u:pw1234@h/db":                                "mysql:u:xxxxx@h/db",
		"u:pw1234@h":                                         "u:xxxxx@h",
		"pw1234 :// x":                                       "(unparseable URL)",
		"sqlite:.wharf/state.db":                             "sqlite:.wharf/state.db",
		"postgres://h:5432/db?application_name=me@x":         "postgres://h:5432/db?application_name=me@x",
		"file:///tmp/lake":                                   "file:///tmp/lake",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRegisterURL: once a URL is registered, every output through the
// redactor is free of its password, in whatever form the URL is printed,
// even a malformed URL printed whole.
func TestRegisterURL(t *testing.T) {
	for _, u := range []string{
		"postgres://u:Reg1st3r%2Fed@h/db",
		"postgres://u:Reg#1st3rH@h/db",
		"postgres://u:Reg/1st3rS@h/db",
		"postgres://h/db?password=Reg1st3rQ",
	} {
		RegisterURL(u)
		var b bytes.Buffer
		w := NewRedactingWriter(&b)
		_, _ = w.Write([]byte("error: state " + u + ": failed\n"))
		_ = w.Flush()
		for _, leak := range []string{"Reg1st3r", "Reg#1st3rH", "Reg/1st3rS", "Reg1st3r/ed"} {
			if strings.Contains(b.String(), leak) {
				t.Errorf("%s: output leaks %q: %s", u, leak, b.String())
			}
		}
	}
}

// TestRDSJSONTLS: a JSON secret can ask for verified TLS with the drivers'
// own keys; they reach the DSN instead of being dropped (and the
// connection silently falling back to an unverified one).
func TestRDSJSONTLS(t *testing.T) {
	pg, err := ParseCredentials(Secret(`{"engine":"postgres","host":"db.example","port":5432,"username":"app","password":"pw-tls-1","dbname":"hr","sslmode":"verify-full","sslrootcert":"/etc/wharf/rds.pem"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pg.DSN().Reveal(), "postgres://app:pw-tls-1@db.example:5432/hr?sslmode=verify-full&sslrootcert=%2Fetc%2Fwharf%2Frds.pem"; got != want {
		t.Errorf("postgres DSN %q, want %q", got, want)
	}
	my, err := ParseCredentials(Secret(`{"engine":"mysql","host":"db.example","port":3306,"username":"app","password":"pw-tls-2","dbname":"hr","ssl-ca":"/etc/wharf/rds.pem"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := my.DSN().Reveal(), "app:pw-tls-2@tcp(db.example:3306)/hr?ssl-ca=%2Fetc%2Fwharf%2Frds.pem"; got != want {
		t.Errorf("mysql DSN %q, want %q", got, want)
	}
	if _, err := ParseCredentials(Secret(`{"engine":"postgres","host":"h","sslmode":true}`)); err == nil || !strings.Contains(err.Error(), `"sslmode"`) {
		t.Errorf("a non-string sslmode: %v", err)
	}
}
