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
