package blueprint

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestOpenSourceRereadsARotatedSecret: a secret from Secrets Manager is read
// once per process; when the database refuses its password (rotated since),
// OpenSource reads it again and connects with the new one.
func TestOpenSourceRereadsARotatedSecret(t *testing.T) {
	for _, kv := range testdb.AWSTestEnv() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := context.Background()
	tdb := testdb.MySQL(t)
	u, err := url.Parse(tdb.URL)
	if err != nil {
		t.Fatal(err)
	}
	user := "wharf_rot_" + testdb.RandomSuffix()
	exec := func(q string) {
		t.Helper()
		if _, err := tdb.Admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'first-Pa55'", user))
	exec(fmt.Sprintf("GRANT SELECT ON `%s`.* TO '%s'@'%%'", tdb.Name, user))
	t.Cleanup(func() { _, _ = tdb.Admin.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", user)) })
	secretJSON := func(pw string) string {
		return fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%s,"username":%q,"password":%q,"dbname":%q}`,
			u.Hostname(), u.Port(), user, pw, tdb.Name)
	}
	sm := testdb.StartSecretsManager(t, map[string]string{"rotating": secretJSON("first-Pa55")})
	t.Cleanup(func() { secret.ForgetCached() })
	providers := "aws-sm:?region=eu-west-1&endpoint=" + sm.URL
	conn := &catalog.Connection{Name: "db", Secret: "rotating"}

	for i := 0; i < 2; i++ {
		src, err := OpenSource(ctx, conn, providers)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		src.Close()
	}
	if n := sm.Calls("rotating"); n != 1 {
		t.Fatalf("GetSecretValue called %d times for two opens, want 1", n)
	}

	exec(fmt.Sprintf("ALTER USER '%s'@'%%' IDENTIFIED BY 'second-Pa55'", user))
	sm.Put("rotating", secretJSON("second-Pa55"))
	src, err := OpenSource(ctx, conn, providers)
	if err != nil {
		t.Fatalf("open after rotation: %v", err)
	}
	src.Close()
	if n := sm.Calls("rotating"); n != 2 {
		t.Errorf("GetSecretValue called %d times, want 2 (one re-read after the refused login)", n)
	}

	// A password that is simply wrong fails after one re-read, naming the user.
	sm.Put("rotating", secretJSON("wrong-Pa55"))
	secret.ForgetCached()
	_, err = OpenSource(ctx, conn, providers)
	if err == nil || !strings.Contains(err.Error(), "Access denied for user '"+user+"'") || strings.Contains(err.Error(), "wrong-Pa55") {
		t.Errorf("open with a wrong password: %v", err)
	}
}
