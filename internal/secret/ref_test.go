package secret

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ref
	}{
		{"env:HR_DB_URL", Ref{RefEnv, "HR_DB_URL"}},
		{"env:_x1", Ref{RefEnv, "_x1"}},
		{"file:/run/secrets/hr.json", Ref{RefFile, "/run/secrets/hr.json"}},
		{"file:secrets/hr.json", Ref{RefFile, "secrets/hr.json"}},
		{"file:///run/secrets/hr.json", Ref{RefFile, "/run/secrets/hr.json"}},
		{"DemoDBSecret", Ref{RefName, "DemoDBSecret"}},
		{"prod/hr/db-1_a+b=c.d@e", Ref{RefName, "prod/hr/db-1_a+b=c.d@e"}},
	} {
		got, err := ParseRef(tc.in)
		if err != nil {
			t.Errorf("ParseRef(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseRef(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if got.String() != tc.in && !strings.HasPrefix(tc.in, "file://") {
			t.Errorf("Ref(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestParseRefErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want, secret string
	}{
		{"", "empty secret reference: want env:VAR, file:PATH or a secret name", ""},
		{"env:1BAD", `env:"1BAD": not an environment variable name (want letters, digits and _, not starting with a digit)`, ""},
		{"file:", "file: secret reference: want file:PATH", ""},
		{"file://host/x", "file:// secret reference: want file:///ABSOLUTE/PATH or file:PATH", ""},
		{"postgres://app:hunter2pw@db:5432/hr",
			"inline connection URL with a password (postgres://app:xxxxx@db:5432/hr): put it in a secret and write env:VAR, file:PATH or a secret name here", "hunter2pw"},
		{"mysql://db/hr?user=app&password=hunter2pw",
			"inline connection URL with a password (value not shown): put it in a secret and write env:VAR, file:PATH or a secret name here", "hunter2pw"},
		{"postgres://db/hr", "inline connection URL (postgres://db/hr): put it in a secret and write env:VAR, file:PATH or a secret name here", ""},
		{"host=db user=app password=hunter2pw", "looks like an inline connection string with a password (value not shown): put it in a secret and write env:VAR, file:PATH or a secret name here", "hunter2pw"},
		{"my secret hunter2pw", "not a secret reference (value not shown): want env:VAR, file:PATH or a secret name of letters, digits and / _ + = . @ -", "hunter2pw"},
		{strings.Repeat("a", 513), "secret name is 513 characters long: at most 512", ""},
	} {
		_, err := ParseRef(tc.in)
		if err == nil {
			t.Errorf("ParseRef(%q): no error", tc.in)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("ParseRef(%q) error\n got %s\nwant %s", tc.in, err, tc.want)
		}
		if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
			t.Errorf("ParseRef(%q) error repeats the password: %s", tc.in, err)
		}
	}
}
