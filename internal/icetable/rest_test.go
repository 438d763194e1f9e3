package icetable

import (
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/secret"
)

// A REST catalog's secret is a token or a JSON object of a token or client
// credentials; an error never shows the content, and the values are
// redacted from then on.
func TestRESTCredential(t *testing.T) {
	for _, good := range []string{"tok-1a2b3c\n", `{"token": "tok-4d5e6f"}`, `{"client_id": "id-7a8b", "client_secret": "cs-9c0d"}`} {
		if _, err := restCredential(secret.Secret(good)); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, v := range []string{"tok-1a2b3c", "tok-4d5e6f", "cs-9c0d"} {
		if got := secret.RedactString("the server said " + v); strings.Contains(got, v) {
			t.Errorf("%s is not redacted: %s", v, got)
		}
	}
	for _, bad := range []string{"", "two words-xyz", `{"token": "t-abc", "client_id": "c"}`, `{"client_id": "c-only"}`, `{"token": 12345}`, `{"tok`} {
		_, err := restCredential(secret.Secret(bad))
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		for _, part := range []string{"words-xyz", "t-abc", "c-only", "12345"} {
			if strings.Contains(bad, part) && strings.Contains(err.Error(), part) {
				t.Errorf("%q: the error shows the content: %v", bad, err)
			}
		}
	}
}
