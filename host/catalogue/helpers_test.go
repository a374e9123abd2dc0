package catalogue

import (
	"context"
	"encoding/json"
	"errors"
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
	sb, err := sandbox.New(sandbox.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := NewClients(ctx, ClientOptions{Local: sb.Transport(), MaxAttempts: 1})
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

// call runs an operation with JSON arguments and decodes its output into T
// through JSON, as an MCP client would see it.
func call[T any](t testing.TB, c *testCatalogue, op, args string) T {
	t.Helper()
	out, err := c.Call(ctx, op, json.RawMessage(args))
	if err != nil {
		t.Fatalf("%s %s: %v", op, args, err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("%s: marshal output: %v", op, err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: output %s does not decode: %v", op, b, err)
	}
	return v
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
