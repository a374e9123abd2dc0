package sandbox

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// testKeyID signs every test request; it belongs to no user, so the caller
// is the account root unless a test signs with a user's own key.
const testKeyID = "AKIAIOSFODNN7EXAMPLE"

var ctx = context.Background()

// sandbox is a sandbox served over loopback HTTP with real SDK clients.
type sandbox struct {
	srv *Server
	url string
	iam *iam.Client
	sts *sts.Client
}

// newSandbox starts a sandbox on a loopback port and returns it with IAM and
// STS clients of the real AWS SDK that reach it through an endpoint override
// only. Retries are off so that every error a test provokes surfaces as is.
func newSandbox(t testing.TB, opts Options) *sandbox {
	t.Helper()
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &sandbox{srv: srv, url: hs.URL, iam: iamClient(hs.URL, testKeyID, 1), sts: stsClient(hs.URL, testKeyID)}
}

func awsConfig(keyID string, attempts int) aws.Config {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, "secretsecretsecretsecretsecretsecret1234", ""),
		RetryMaxAttempts: attempts,
		HTTPClient:       awshttp.NewBuildableClient(),
	}
	if attempts == 1 {
		cfg.RetryMaxAttempts = 0
		cfg.Retryer = connectionRetryer
	}
	return cfg
}

// connectionRetryer retries only a broken connection, never an IAM error,
// so that every error a test provokes surfaces on the first attempt. A
// sandbox answers so fast that net/http's client can still be writing the
// request when the response arrives, and a race between the SDK closing the
// request body and the transport's final read of it then closes the
// connection under the response ("use of closed network connection";
// aws/aws-sdk-go-v2#2737). The SDK's default retryer retries it; tests that
// turn retries off must too.
func connectionRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

func iamClient(url, keyID string, attempts int) *iam.Client {
	return iam.NewFromConfig(awsConfig(keyID, attempts), func(o *iam.Options) { o.BaseEndpoint = aws.String(url) })
}

func stsClient(url, keyID string) *sts.Client {
	return sts.NewFromConfig(awsConfig(keyID, 1), func(o *sts.Options) { o.BaseEndpoint = aws.String(url) })
}

// asUser returns an IAM client signing with the given access key id.
func (sb *sandbox) asUser(keyID string) *iam.Client { return iamClient(sb.url, keyID, 1) }

// wantCode fails the test unless err is an IAM API error with code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// wantStatus fails the test unless err carries the HTTP status.
func wantStatus(t testing.TB, err error, status int) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want HTTP %d, got %v", status, err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d, got %d (%v)", status, re.HTTPStatusCode(), err)
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// ok fails the test on err.
func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
