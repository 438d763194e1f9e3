package secret

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/singleflight"
)

// AWSSMScheme is the scheme of the AWS Secrets Manager provider
// (--secrets aws-sm:) and of explicit references (secret: aws-sm:NAME).
const AWSSMScheme = "aws-sm"

func init() {
	RegisterProvider(AWSSMScheme, func(ctx context.Context, uri string) (Provider, error) {
		return openAWSSM(ctx, uri)
	})
}

// AWSSMProvider reads secrets from AWS Secrets Manager with GetSecretValue.
// Region and credentials come from the AWS default chain unless the URI
// sets them: aws-sm:?region=eu-west-1&endpoint=http://127.0.0.1:4566.
// Each secret is read once per process (see ForgetCached).
type AWSSMProvider struct {
	uri      string // canonical: aws-sm:?endpoint=...&region=...
	region   string
	endpoint string
	client   *secretsmanager.Client
}

var _ Provider = (*AWSSMProvider)(nil)

// awsSM caches providers (one SDK client per URI) and secret values (one
// GetSecretValue per secret per process).
var awsSM = struct {
	sync.Mutex
	providers map[string]*AWSSMProvider
	values    map[string]Secret  // provider URI + "\x00" + name#stage
	inflight  singleflight.Group // one GetSecretValue per key, however many runs ask at once
}{providers: map[string]*AWSSMProvider{}, values: map[string]Secret{}}

// ForgetCached drops every cached secret value, so the next lookup reads
// the store again: used when a connection fails to authenticate, since the
// password may have been rotated. It reports whether anything was cached.
func ForgetCached() bool {
	awsSM.Lock()
	defer awsSM.Unlock()
	n := len(awsSM.values)
	clear(awsSM.values)
	return n > 0
}

// openAWSSM opens aws-sm: or aws-sm:?region=R&endpoint=URL (once per URI).
func openAWSSM(ctx context.Context, uri string) (*AWSSMProvider, error) {
	rest := strings.TrimPrefix(uri, AWSSMScheme+":")
	if rest != "" && !strings.HasPrefix(rest, "?") {
		return nil, errors.New("secrets provider aws-sm: want aws-sm: or aws-sm:?region=REGION&endpoint=URL")
	}
	q, err := url.ParseQuery(strings.TrimPrefix(rest, "?"))
	if err != nil {
		return nil, errors.New("secrets provider aws-sm: malformed query: want aws-sm:?region=REGION&endpoint=URL")
	}
	for k := range q {
		if k != "region" && k != "endpoint" {
			return nil, fmt.Errorf("secrets provider aws-sm: unknown option %q: want region and endpoint", safeScheme(k))
		}
	}
	p := &AWSSMProvider{region: q.Get("region"), endpoint: q.Get("endpoint")}
	if p.endpoint != "" {
		u, err := url.Parse(p.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, errors.New("secrets provider aws-sm: endpoint: want http(s)://HOST[:PORT] without credentials")
		}
	}
	canon := url.Values{}
	if p.region != "" {
		canon.Set("region", p.region)
	}
	if p.endpoint != "" {
		canon.Set("endpoint", p.endpoint)
	}
	p.uri = AWSSMScheme + ":"
	if len(canon) > 0 {
		p.uri += "?" + canon.Encode()
	}

	awsSM.Lock()
	defer awsSM.Unlock()
	if cached, ok := awsSM.providers[p.uri]; ok {
		return cached, nil
	}
	var opts []func(*config.LoadOptions) error
	if p.region != "" {
		opts = append(opts, config.WithRegion(p.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("secrets provider aws-sm: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("secrets provider aws-sm: no AWS region: set AWS_REGION or write aws-sm:?region=REGION")
	}
	p.region = cfg.Region
	p.client = secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if p.endpoint != "" {
			o.BaseEndpoint = aws.String(p.endpoint)
		}
	})
	awsSM.providers[p.uri] = p
	return p, nil
}

// String implements Provider.
func (p *AWSSMProvider) String() string {
	s := "AWS Secrets Manager " + p.region
	if p.endpoint != "" {
		s += " at " + p.endpoint
	}
	return s
}

// Lookup implements Provider: name is a secret name or ARN, optionally
// followed by #VERSION_STAGE (AWSCURRENT when omitted).
func (p *AWSSMProvider) Lookup(ctx context.Context, name string) (Secret, error) {
	id, stage, _ := strings.Cut(name, "#")
	if id == "" {
		return "", errors.New("empty secret name")
	}
	key := p.uri + "\x00" + name
	awsSM.Lock()
	v, ok := awsSM.values[key]
	awsSM.Unlock()
	if ok {
		return v, nil
	}
	got, err, _ := awsSM.inflight.Do(key, func() (any, error) {
		in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
		if stage != "" {
			in.VersionStage = aws.String(stage)
		}
		out, err := p.client.GetSecretValue(ctx, in)
		if err != nil {
			return nil, awsSMError(err)
		}
		var v Secret
		switch {
		case out.SecretString != nil:
			v = Secret(*out.SecretString)
		case out.SecretBinary != nil:
			v = Secret(out.SecretBinary)
		default:
			return nil, errors.New("the secret has neither SecretString nor SecretBinary")
		}
		awsSM.Lock()
		awsSM.values[key] = v
		awsSM.Unlock()
		return v, nil
	})
	if err != nil {
		return "", err
	}
	return got.(Secret), nil
}

// awsSMError keeps what the caller acts on: the error code and AWS's
// message (which names the secret, never its value). Throttling and server
// errors (5xx) have already been retried by the SDK; they stay transient
// (a later run may succeed), unlike a missing secret or access denied.
// Network failures and timeouts are transient by their own types.
func awsSMError(err error) error {
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %s", ErrNotFound, nf.ErrorMessage())
	}
	var re interface{ HTTPStatusCode() int }
	serverSide := errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429)
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		switch ae.ErrorCode() {
		case "AccessDeniedException":
			return fmt.Errorf("access denied (check the IAM policy allows secretsmanager:GetSecretValue): %s", msg)
		case "ThrottlingException":
			return &transientError{fmt.Errorf("throttled by AWS Secrets Manager, still after retries: %s", msg)}
		case "InternalServiceError":
			serverSide = true
		}
		err = fmt.Errorf("%s: %s", ae.ErrorCode(), msg)
	}
	if serverSide {
		return &transientError{err}
	}
	return err
}

// transientError marks a lookup failure that retrying later may cure.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }
