package catalogue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var ctx = context.Background()

// testCatalogue is a catalogue over the real AWS SDK client talking to an
// embedded sandbox in process. Secrets go to a temporary directory.
type testCatalogue struct {
	*Catalogue
	sandbox    *sandbox.Server
	secretsDir string
}

func newTestCatalogue(t testing.TB, seed string) *testCatalogue {
	t.Helper()
	return newTestCatalogueWith(t, seed, Options{})
}

// newTestCatalogueWith is newTestCatalogue with options (Secrets is set
// here, to a temporary directory).
func newTestCatalogueWith(t testing.TB, seed string, opts Options) *testCatalogue {
	t.Helper()
	sb := newSandbox(t, sandbox.Options{Seed: seed})
	return catalogueOver(t, sb, sb.Transport(), opts)
}

// newSandbox is an embedded sandbox for one test.
func newSandbox(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// catalogueOver is a catalogue whose requests go through rt, which may
// note or refuse them on their way to sb (nil when rt answers them all
// itself). Secrets go to a temporary directory.
func catalogueOver(t testing.TB, sb *sandbox.Server, rt http.RoundTripper, opts Options) *testCatalogue {
	t.Helper()
	clients, err := NewClients(ctx, ClientOptions{Sandbox: rt, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/secrets"
	opts.Secrets = SecretFiles{Dir: dir}
	c, err := New(clients, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &testCatalogue{Catalogue: c, sandbox: sb, secretsDir: dir}
}

// recorder is an http.RoundTripper in front of the sandbox that notes the
// IAM action of every request, so a test sees each call the catalogue
// makes.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.seen = append(r.seen, form.Get("Action"))
	r.mu.Unlock()
	clone := req.Clone(req.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	return r.next.RoundTrip(clone)
}

// take returns the actions seen since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// writes are the actions that change something: all but IAM's and STS's
// reads (Get*, List*, Simulate*).
func writes(actions []string) []string {
	out := []string{}
	for _, a := range actions {
		if !strings.HasPrefix(a, "Get") && !strings.HasPrefix(a, "List") && !strings.HasPrefix(a, "Simulate") {
			out = append(out, a)
		}
	}
	return out
}

// rawCall runs an operation and returns its output as the JSON a client
// receives, to check what it does not contain.
func rawCall(t testing.TB, c *testCatalogue, op, args string) string {
	t.Helper()
	out, err := c.Call(ctx, op, json.RawMessage(args))
	if err != nil {
		t.Fatalf("%s %s: %v", op, args, err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("%s: marshal output: %v", op, err)
	}
	return string(b)
}

// call runs an operation with JSON arguments and decodes its output into T
// through JSON, as an MCP client would see it.
func call[T any](t testing.TB, c *testCatalogue, op, args string) T {
	t.Helper()
	b := rawCall(t, c, op, args)
	var v T
	if err := json.Unmarshal([]byte(b), &v); err != nil {
		t.Fatalf("%s: output %s does not decode: %v", op, b, err)
	}
	return v
}

// says fails t for each of wants that msg, the message of what, does not
// contain.
func says(t testing.TB, what, msg string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(msg, want) {
			t.Errorf("%s %q does not say %q", what, msg, want)
		}
	}
}

// callFails runs an operation that must fail with the given code, and
// returns the error's message.
func callFails(t testing.TB, c *testCatalogue, op, args string, code api.ErrorCode) string {
	t.Helper()
	_, err := c.Call(ctx, op, json.RawMessage(args))
	if err == nil {
		t.Fatalf("%s %s: want %s, got success", op, args, code)
	}
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s %s: want *api.Error %s, got %T %v", op, args, code, err, err)
	}
	if ae.Code != code {
		t.Fatalf("%s %s: want %s, got %s: %s", op, args, code, ae.Code, ae.Message)
	}
	return ae.Message
}
