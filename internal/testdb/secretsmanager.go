package testdb

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// SecretsManager is a local AWS Secrets Manager endpoint for tests: an HTTP
// server speaking the service's JSON 1.1 wire protocol for GetSecretValue
// (POST / with X-Amz-Target: secretsmanager.GetSecretValue, a SigV4
// signature, a {"SecretId", "VersionStage"} body), so the real SDK client
// is what the tests exercise. No emulator of the service is packaged.
type SecretsManager struct {
	// URL is the endpoint, for aws-sm:?region=...&endpoint=URL.
	URL string

	mu      sync.Mutex
	secrets map[string]string // name, or name#stage → SecretString
	deny    map[string]bool
	throttl int
	broken  int
	calls   map[string]int
}

// StartSecretsManager starts an endpoint holding secrets (keys are names,
// or NAME#VERSION_STAGE), closed at cleanup.
func StartSecretsManager(t testing.TB, secrets map[string]string) *SecretsManager {
	t.Helper()
	s := &SecretsManager{secrets: map[string]string{}, deny: map[string]bool{}, calls: map[string]int{}}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Put stores (or rotates) a secret's current value.
func (s *SecretsManager) Put(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = value
}

// Deny makes lookups of name fail with AccessDeniedException.
func (s *SecretsManager) Deny(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny[name] = true
}

// Throttle makes the next n requests fail with ThrottlingException.
func (s *SecretsManager) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttl = n
}

// Break makes the next n requests fail with a 500 InternalServiceError.
func (s *SecretsManager) Break(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = n
}

// Calls returns how many GetSecretValue requests named secret id.
func (s *SecretsManager) Calls(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *SecretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, body any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	fail := func(typ, msg string) {
		reply(http.StatusBadRequest, map[string]string{"__type": typ, "message": msg})
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		fail("InvalidRequestException", "want a signed POST with X-Amz-Target: secretsmanager.GetSecretValue")
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in struct{ SecretId, VersionStage string }
	if err := json.Unmarshal(body, &in); err != nil || in.SecretId == "" {
		fail("InvalidParameterException", "want a JSON body with SecretId")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[in.SecretId]++
	if s.throttl > 0 {
		s.throttl--
		fail("ThrottlingException", "Rate exceeded")
		return
	}
	if s.broken > 0 {
		s.broken--
		reply(http.StatusInternalServerError, map[string]string{"__type": "InternalServiceError", "message": "An error occurred on the server side."})
		return
	}
	if s.deny[in.SecretId] {
		fail("AccessDeniedException", "User: arn:aws:iam::123456789012:user/app is not authorized to perform: secretsmanager:GetSecretValue on resource: "+in.SecretId)
		return
	}
	key := in.SecretId
	if in.VersionStage != "" {
		key += "#" + in.VersionStage
	}
	v, ok := s.secrets[key]
	if !ok {
		fail("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	stage := in.VersionStage
	if stage == "" {
		stage = "AWSCURRENT"
	}
	reply(http.StatusOK, map[string]any{
		"ARN":           "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + in.SecretId + "-AbCdEf",
		"Name":          in.SecretId,
		"SecretString":  v,
		"VersionId":     "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE",
		"VersionStages": []string{stage},
		"CreatedDate":   1.7e9,
	})
}

// AWSTestEnv is the environment a process needs to sign requests to a
// SecretsManager endpoint: dummy keys, and no shared config files.
func AWSTestEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}
