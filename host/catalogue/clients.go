package catalogue

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Clients are the AWS SDK clients the catalogue calls.
type Clients struct {
	IAM           *iam.Client
	STS           *sts.Client
	Organizations *organizations.Client
	// Config is the configuration the clients were built from (region,
	// retryer, HTTP client, credentials), and Endpoint their endpoint
	// override ("" for AWS's own): host/accounts derives the clients of
	// other accounts from them, changing only the credentials.
	Config   aws.Config
	Endpoint string
}

// ClientOptions says how to reach IAM.
type ClientOptions struct {
	// Region for STS and request signing; IAM itself is global. Default
	// us-east-1 when neither this nor the AWS configuration names one.
	Region string
	// Profile is a named profile of the shared AWS configuration.
	Profile string
	// EndpointURL overrides IAM's and STS's endpoint (a sandbox, a proxy).
	EndpointURL string
	// Sandbox, when set, sends every request in process to this transport
	// (the embedded sandbox's) and reads no AWS configuration or
	// credentials.
	Sandbox http.RoundTripper
	// MaxAttempts bounds the SDK's retries of throttling and server errors
	// (default 5).
	MaxAttempts int
	// SandboxKeyID is the access key id the Sandbox clients sign with
	// (default one that belongs to no user, so the sandbox answers as its
	// account's root). An organization sandbox names the key of its
	// management account's operator.
	SandboxKeyID string
}

// sandboxKeyID signs requests to the embedded sandbox; it belongs to no user,
// so the sandbox answers as the account root.
const sandboxKeyID = "AKIAIOSFODNN7EXAMPLE"

// NewClients loads the AWS configuration the way every AWS tool does
// (environment, shared config and credentials files, SSO, instance role),
// or, with Sandbox, a fixed configuration for the sandbox.
func NewClients(ctx context.Context, o ClientOptions) (*Clients, error) {
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	var cfg aws.Config
	if o.Sandbox != nil {
		key := o.SandboxKeyID
		if key == "" {
			key = sandboxKeyID
		}
		cfg = aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(key, "local-sandbox-secret", ""),
			HTTPClient:  &http.Client{Transport: o.Sandbox},
		}
		if o.EndpointURL == "" {
			o.EndpointURL = "http://sandbox.invalid"
		}
	} else {
		opts := []func(*config.LoadOptions) error{}
		if o.Region != "" {
			opts = append(opts, config.WithRegion(o.Region))
		}
		if o.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(o.Profile))
		}
		loaded, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("cannot load the AWS configuration: %w", err)
		}
		cfg = loaded
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
	}
	cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), attempts) }
	return ClientsFromConfig(cfg, o.EndpointURL), nil
}

// ClientsFromConfig builds the clients over cfg, every one sent to
// endpoint when it is not "": the one place the set of clients is made,
// for the server's own credentials and for those of another account.
func ClientsFromConfig(cfg aws.Config, endpoint string) *Clients {
	var base *string
	if endpoint != "" {
		base = aws.String(endpoint)
	}
	return &Clients{
		IAM:           iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = base }),
		STS:           sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = base }),
		Organizations: organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.BaseEndpoint = base }),
		Config:        cfg,
		Endpoint:      endpoint,
	}
}
