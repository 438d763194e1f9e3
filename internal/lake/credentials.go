package lake

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Credentials are an object store's keys, read from a wharf secret that the
// lake's catalog entry names. They replace the store's standard credential
// chain (AWS: environment, shared config, instance role; GCS: Application
// Default Credentials; Azure: AZURE_STORAGE_* variables, then Azure
// identity). Every way of printing them shows no key.
//
// The secret is a JSON object. The keys that apply depend on the lake's
// scheme:
//
//	s3://      {"access_key_id": "...", "secret_access_key": "...", "session_token": "..." (optional)}
//	azblob://  {"account_name": "...", "account_key": "..."} or {"connection_string": "..."}
//	gs://      a service account key file as Google issues it ({"type": "service_account", ...})
type Credentials struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`

	AccountName      string `json:"account_name"`
	AccountKey       string `json:"account_key"`
	ConnectionString string `json:"connection_string"`

	// Type is "service_account" (or another Google credential type) for
	// GCS; the whole document is then in raw.
	Type string `json:"type"`
	raw  []byte
}

// String implements fmt.Stringer without showing any key.
func (c Credentials) String() string {
	switch {
	case c.AccessKeyID != "":
		return "S3 access key <redacted>"
	case c.AccountName != "":
		return "Azure account " + c.AccountName + " key <redacted>"
	case c.ConnectionString != "":
		return "Azure connection string <redacted>"
	case c.Type != "":
		return "Google " + c.Type + " <redacted>"
	}
	return "<redacted>"
}

// GoString implements fmt.GoStringer (%#v) without showing any key.
func (c Credentials) GoString() string { return c.String() }

// Secrets returns the secret values of c, for a redactor.
func (c *Credentials) Secrets() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, s := range []string{c.SecretAccessKey, c.SessionToken, c.AccountKey, c.ConnectionString} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ParseCredentials reads a lake secret's content (a JSON object, see
// Credentials) for a lake of the given URL scheme. Errors name the keys at
// fault, never a value.
func ParseCredentials(scheme string, content []byte) (*Credentials, error) {
	var c Credentials
	dec := json.NewDecoder(strings.NewReader(string(content)))
	if err := dec.Decode(&c); err != nil {
		// The JSON error may quote the content: do not repeat it.
		return nil, errors.New("lake secret is not a JSON object (want e.g. {\"access_key_id\": ..., \"secret_access_key\": ...} for S3)")
	}
	c.raw = append([]byte(nil), content...)
	switch strings.ToLower(scheme) {
	case "s3":
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, errors.New(`lake secret for an s3:// lake needs "access_key_id" and "secret_access_key" (and optionally "session_token")`)
		}
	case "azblob":
		switch {
		case c.ConnectionString != "":
		case c.AccountName != "" && c.AccountKey != "":
		default:
			return nil, errors.New(`lake secret for an azblob:// lake needs "account_name" and "account_key", or "connection_string"`)
		}
	case "gs":
		if c.Type == "" {
			return nil, errors.New(`lake secret for a gs:// lake must be a Google credentials file (with a "type" such as "service_account")`)
		}
	default:
		return nil, fmt.Errorf("lake secrets are for s3://, gs:// and azblob:// lakes, not %s://", scheme)
	}
	return &c, nil
}
