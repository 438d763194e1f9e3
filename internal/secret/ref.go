package secret

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// RefKind says where a secret reference points.
type RefKind string

const (
	RefEnv  RefKind = "env"  // env:VAR, an environment variable
	RefFile RefKind = "file" // file:PATH, one file holding the secret
	RefName RefKind = "name" // a bare name looked up through the secrets provider
	// RefAWSSM is aws-sm:NAME[#STAGE], a secret in AWS Secrets Manager
	// whatever --secrets says (whose region and endpoint it uses when
	// --secrets is an aws-sm: provider).
	RefAWSSM RefKind = AWSSMScheme
)

// Ref is a parsed secret reference.
type Ref struct {
	Kind RefKind
	// Target is the variable name, the file path or the secret name.
	Target string
}

// String gives the reference as written in a catalog.
func (r Ref) String() string {
	switch r.Kind {
	case RefEnv:
		return "env:" + r.Target
	case RefFile:
		return "file:" + r.Target
	case RefAWSSM:
		return AWSSMScheme + ":" + r.Target
	default:
		return r.Target
	}
}

// MaxNameLen is the longest bare secret name (AWS Secrets Manager's limit).
const MaxNameLen = 512

var (
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	// AWS version stages: 1-256 characters of letters, digits and _ + = . @ -.
	arnRE          = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$`)
	versionStageRE = regexp.MustCompile(`^[A-Za-z0-9_+=.@-]{1,256}$`)
)

// ParseRef parses a secret reference: env:VAR, file:PATH (or file:///PATH),
// aws-sm:NAME[#VERSION_STAGE] (or an ARN for NAME), or a bare name of [A-Za-z0-9/_+=.@-] as AWS Secrets Manager allows.
//
// A value that is not a reference may be a credential pasted by mistake, so
// error messages never repeat it; a URL that carries a password is shown
// with the password masked.
func ParseRef(s string) (Ref, error) {
	if strings.TrimSpace(s) == "" {
		return Ref{}, errors.New("empty secret reference: want env:VAR, file:PATH or a secret name")
	}
	if err := inlineCredential(s); err != nil {
		return Ref{}, err
	}
	switch {
	case strings.HasPrefix(s, "env:"):
		v := strings.TrimPrefix(s, "env:")
		if !envNameRE.MatchString(v) {
			return Ref{}, fmt.Errorf("env:%s: not an environment variable name (want letters, digits and _, not starting with a digit)", safeEcho(v))
		}
		return Ref{Kind: RefEnv, Target: v}, nil
	case strings.HasPrefix(s, "file://"):
		u, err := url.Parse(s)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" || u.RawQuery != "" {
			return Ref{}, errors.New("file:// secret reference: want file:///ABSOLUTE/PATH or file:PATH")
		}
		return Ref{Kind: RefFile, Target: u.Path}, nil
	case strings.HasPrefix(s, AWSSMScheme+":"):
		v := strings.TrimPrefix(s, AWSSMScheme+":")
		name, stage, hasStage := strings.Cut(v, "#")
		if len(name) > 2048 || (!secretNameRE.MatchString(name) && !arnRE.MatchString(name)) {
			return Ref{}, errors.New("aws-sm: secret reference: want aws-sm:NAME or aws-sm:NAME#VERSION_STAGE, NAME of letters, digits and / _ + = . @ - or an ARN")
		}
		if hasStage && !versionStageRE.MatchString(stage) {
			return Ref{}, fmt.Errorf("aws-sm:%s: version stage: want 1-256 letters, digits and _ + = . @ - after #", name)
		}
		return Ref{Kind: RefAWSSM, Target: v}, nil
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if p == "" || strings.ContainsAny(p, "\x00\n\r") {
			return Ref{}, errors.New("file: secret reference: want file:PATH")
		}
		return Ref{Kind: RefFile, Target: p}, nil
	}
	if len(s) > MaxNameLen {
		return Ref{}, fmt.Errorf("secret name is %d characters long: at most %d", len(s), MaxNameLen)
	}
	if !secretNameRE.MatchString(s) {
		// Not echoed: it may be a password or a connection string.
		return Ref{}, errors.New("not a secret reference (value not shown): want env:VAR, file:PATH or a secret name of letters, digits and / _ + = . @ -")
	}
	return Ref{Kind: RefName, Target: s}, nil
}

// inlineCredential reports a connection URL or key=value connection string
// written where a reference belongs, without repeating its password.
func inlineCredential(s string) error {
	const advice = "put it in a secret and write env:VAR, file:PATH or a secret name here"
	if i := strings.Index(s, "://"); i > 0 && !strings.HasPrefix(s, "file://") {
		u, err := url.Parse(s)
		if err != nil {
			return errors.New("looks like an inline connection URL (value not shown): " + advice)
		}
		if _, hasPw := u.User.Password(); hasPw {
			return fmt.Errorf("inline connection URL with a password (%s): %s", RedactURL(s), advice)
		}
		if q := u.Query(); q.Has("password") || q.Has("pwd") {
			return errors.New("inline connection URL with a password (value not shown): " + advice)
		}
		return fmt.Errorf("inline connection URL (%s): %s", RedactURL(s), advice)
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "password=") || strings.Contains(lower, "pwd=") {
		return errors.New("looks like an inline connection string with a password (value not shown): " + advice)
	}
	return nil
}

// safeEcho returns s quoted if it is short and printable, else a placeholder.
func safeEcho(s string) string {
	if len(s) > 64 || strings.ContainsAny(s, " \t\n\r\x00") {
		return "(value not shown)"
	}
	return fmt.Sprintf("%q", s)
}
