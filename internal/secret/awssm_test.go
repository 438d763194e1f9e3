package secret_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/testdb"
)

const smPassword = "Rot4ted-Pa55w0rd-xyz"

// startSM starts a local endpoint and returns the --secrets URI for it.
func startSM(t *testing.T) (*testdb.SecretsManager, string) {
	t.Helper()
	for _, kv := range testdb.AWSTestEnv() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	sm := testdb.StartSecretsManager(t, map[string]string{
		"DemoDBSecret":            `{"engine":"mysql","host":"db.internal","port":3306,"username":"app","password":"` + smPassword + `","dbname":"hr"}`,
		"DemoDBSecret#AWSPENDING": `{"engine":"mysql","host":"db.internal","username":"app","password":"next-` + smPassword + `","dbname":"hr"}`,
		"url":                     "mysql://app:" + smPassword + "@db.internal:3306/hr?tls=true",
		"throttled":               "postgres://app:" + smPassword + "@db.internal/hr",
		"malformed":               `{"engine":"mysql","host":"db.internal","password":"` + smPassword + `",`,
	})
	sm.Deny("denied/DemoDBSecret")
	t.Cleanup(func() { secret.ForgetCached() })
	return sm, "aws-sm:?region=eu-west-1&endpoint=" + sm.URL
}

func TestAWSSecretsManager(t *testing.T) {
	sm, uri := startSM(t)
	ctx := context.Background()
	noSecret := func(t *testing.T, err error) {
		t.Helper()
		if err != nil && strings.Contains(err.Error(), smPassword) {
			t.Errorf("error shows the secret value: %v", err)
		}
	}

	t.Run("Found", func(t *testing.T) {
		c, err := secret.Resolve(ctx, "DemoDBSecret", uri)
		if err != nil {
			t.Fatal(err)
		}
		if c.NormalizedEngine() != secret.EngineMySQL || c.Host != "db.internal" || c.Port != 3306 || c.Username != "app" || c.Password.Reveal() != smPassword || c.DBName != "hr" {
			t.Errorf("credentials %#v", c)
		}
		// Cached for the process: a second resolve does not call the service.
		if _, err := secret.Resolve(ctx, "DemoDBSecret", uri); err != nil {
			t.Fatal(err)
		}
		if n := sm.Calls("DemoDBSecret"); n != 1 {
			t.Errorf("GetSecretValue called %d times for two lookups, want 1", n)
		}
		// After ForgetCached (a failed authentication) it is read again.
		if !secret.ForgetCached() {
			t.Error("ForgetCached reported nothing cached")
		}
		if _, err := secret.Resolve(ctx, "DemoDBSecret", uri); err != nil {
			t.Fatal(err)
		}
		if n := sm.Calls("DemoDBSecret"); n != 2 {
			t.Errorf("GetSecretValue called %d times after ForgetCached, want 2", n)
		}
	})

	t.Run("URLSecret", func(t *testing.T) {
		c, err := secret.Resolve(ctx, "url", uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.DSN().Reveal(); got != "app:"+smPassword+"@tcp(db.internal:3306)/hr?tls=true" {
			t.Errorf("DSN = %q", got)
		}
	})

	t.Run("ExplicitReferenceWithStage", func(t *testing.T) {
		c, err := secret.Resolve(ctx, "aws-sm:DemoDBSecret#AWSPENDING", uri)
		if err != nil {
			t.Fatal(err)
		}
		if c.Password.Reveal() != "next-"+smPassword {
			t.Errorf("version stage AWSPENDING not read: %#v", c)
		}
		// An explicit reference works with another (or no) --secrets provider
		// when WHARF_SECRETS names the endpoint.
		t.Setenv(secret.EnvProvider, uri)
		if _, err := secret.Resolve(ctx, "aws-sm:url", ""); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := secret.Resolve(ctx, "NoSuchSecret", uri)
		if !errors.Is(err, secret.ErrNotFound) || !strings.Contains(err.Error(), `secret "NoSuchSecret" (AWS Secrets Manager eu-west-1 at http://127.0.0.1:`) {
			t.Errorf("err = %v, want ErrNotFound naming the secret and the provider", err)
		}
	})

	t.Run("AccessDenied", func(t *testing.T) {
		_, err := secret.Resolve(ctx, "denied/DemoDBSecret", uri)
		if err == nil || errors.Is(err, secret.ErrNotFound) || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), "denied/DemoDBSecret") {
			t.Errorf("err = %v, want access denied naming the secret", err)
		}
	})

	t.Run("ThrottledIsRetried", func(t *testing.T) {
		sm.Throttle(2)
		c, err := secret.Resolve(ctx, "throttled", uri)
		if err != nil {
			t.Fatalf("throttled twice then found: %v", err)
		}
		if c.NormalizedEngine() != secret.EnginePostgres || sm.Calls("throttled") != 3 {
			t.Errorf("engine %q after %d calls, want postgres after 3", c.Engine, sm.Calls("throttled"))
		}
	})

	t.Run("Malformed", func(t *testing.T) {
		_, err := secret.Resolve(ctx, "malformed", uri)
		noSecret(t, err)
		if err == nil || !strings.Contains(err.Error(), `secret "malformed"`) || !strings.Contains(err.Error(), "malformed JSON") {
			t.Errorf("err = %v, want malformed JSON naming the secret", err)
		}
	})

	t.Run("BadProviderURI", func(t *testing.T) {
		for _, bad := range []string{"aws-sm:x", "aws-sm:?regoin=eu-west-1", "aws-sm:?endpoint=ftp://x", "aws-sm:?endpoint=http://u:" + smPassword + "@h"} {
			_, err := secret.Resolve(ctx, "DemoDBSecret", bad)
			noSecret(t, err)
			if err == nil || !strings.Contains(err.Error(), "secrets provider aws-sm") {
				t.Errorf("%s: err = %v", bad, err)
			}
		}
	})

	t.Run("BadReference", func(t *testing.T) {
		for _, bad := range []string{"aws-sm:", "aws-sm:a b", "aws-sm:name#", "aws-sm:name#bad stage"} {
			if _, err := secret.ParseRef(bad); err == nil {
				t.Errorf("ParseRef(%q): no error", bad)
			}
		}
		r, err := secret.ParseRef("aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf#AWSPREVIOUS")
		if err != nil || r.Kind != secret.RefAWSSM || r.String() != "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf#AWSPREVIOUS" {
			t.Errorf("ParseRef ARN = %+v, %v", r, err)
		}
	})
}
