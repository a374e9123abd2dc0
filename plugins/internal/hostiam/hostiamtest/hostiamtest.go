// Package hostiamtest gives workflow tests a hostiam.Host over the real
// gate and catalogue on an embedded sandbox, with a plugin's grants, the
// server's read-only mode and --confirm level, and a person who answers
// the questions, as the plugin runtime would: plans stated through
// Consent are approved, matched and refused by the runtime's own code
// (plugin.Consent).
package hostiamtest

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/plugins/internal/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Options configure a test host.
type Options struct {
	Seed     string          // sandbox seed: "" or "demo"
	Sandbox  *sandbox.Server // an existing sandbox instead of a new seeded one
	Plugin   string          // the plugin's name, for the gate and Info
	Grants   []string        // operations granted; deny by default, as in plugins.yaml
	ReadOnly bool            // the server's --readonly
	Confirm  gate.Confirm    // the server's --confirm; "" is destructive
	// Person answers the questions put to the person; nil: nobody can be
	// asked, as with a client that cannot elicit.
	Person gate.Consent
	// Latency delays every call, so that wall time counts calls as a
	// remote IAM would (batches still run eight at a time).
	Latency time.Duration
	// SecretsDir is the server's secrets directory: where new keys'
	// secrets are written (and RemoveSecretFile removes them) and where
	// Seal's key is kept. "" is the sandbox's own, one per sandbox, so
	// that every Client (and LoadWasm) on a sandbox shares it, as servers
	// restarted with the same --secrets-dir do.
	SecretsDir string
}

// Client is a hostiam.Client for tests; it counts the operations it ran and
// records progress reports.
type Client struct {
	Sandbox  *sandbox.Server
	gate     *gate.Gate
	caller   gate.Caller
	opts     Options
	secrets  string                         // the secrets directory
	sealer   *plugin.StateSealer            // the runtime's own sealer, over secrets
	consent  atomic.Pointer[plugin.Consent] // the current tool call's
	calls    atomic.Int64
	mu       sync.Mutex
	progress []string
	ops      map[string]int
}

// New builds a Client; the sandbox lives as long as the test.
func New(t testing.TB, o Options) *Client {
	t.Helper()
	sb := o.Sandbox
	if sb == nil {
		var err error
		if sb, err = sandbox.New(sandbox.Options{Seed: o.Seed}); err != nil {
			t.Fatal(err)
		}
	}
	cat, secrets := newCatalogue(t, sb, sb.Transport(), o.SecretsDir)
	grants := map[string]bool{}
	for _, g := range o.Grants {
		grants[g] = true
	}
	h := &Client{
		Sandbox: sb, gate: gate.New(cat, gate.Options{ReadOnly: o.ReadOnly, Confirm: o.Confirm}), opts: o, ops: map[string]int{},
		caller:  gate.Caller{Kind: gate.Plugin, Plugin: o.Plugin, Grants: grants},
		secrets: secrets, sealer: plugin.NewStateSealer(secrets),
	}
	h.NewToolCall()
	return h
}

// NewToolCall starts a new tool call: the approvals of the plans stated
// in the last one are gone, as in the runtime, where they last one tool
// call.
func (h *Client) NewToolCall() {
	h.consent.Store(plugin.NewConsent(h.gate, h.caller, h.opts.Person))
}

// Consent implements hostiam.Host.
func (h *Client) Consent(summary string, calls []hostiam.Request) error {
	wire := make([]api.IAMRequest, len(calls))
	for i, c := range calls {
		args, err := json.Marshal(c.In)
		if err != nil {
			return &api.Error{Code: api.InvalidInput, Message: err.Error()}
		}
		wire[i] = api.IAMRequest{Op: c.Op, Args: args}
	}
	a := h.consent.Load().State(context.Background(), summary, wire)
	if a.Error != nil {
		return a.Error
	}
	return nil
}

// Call implements hostiam.Host.
func (h *Client) Call(op string, in, out any) error {
	time.Sleep(h.opts.Latency)
	c := h.consent.Load()
	if c.Pending() {
		// The runtime stops a tool call whose question went pending.
		return &api.Error{Code: api.ConsentRequired, Message: "this tool call is stopping to wait for the person's answer; nothing more runs in it"}
	}
	h.calls.Add(1)
	h.mu.Lock()
	h.ops[op]++
	h.mu.Unlock()
	args, err := json.Marshal(in)
	if err != nil {
		return &api.Error{Code: api.InvalidInput, Message: err.Error()}
	}
	res, err := h.gate.Call(context.Background(), c.Caller(), op, args)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	// Through JSON, as a plugin receives it.
	b, err := json.Marshal(res)
	if err != nil {
		return &api.Error{Code: api.Internal, Message: err.Error()}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &api.Error{Code: api.Internal, Message: err.Error()}
	}
	return nil
}

// Batch implements hostiam.Host, eight at a time as the runtime does.
func (h *Client) Batch(reqs []hostiam.Request) []error {
	errs := make([]error, len(reqs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = h.Call(r.Op, r.In, r.Out)
		}()
	}
	wg.Wait()
	return errs
}

// Progress implements hostiam.Host.
func (h *Client) Progress(done, total float64, message string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.progress = append(h.progress, message)
}

// Info implements hostiam.Host.
func (h *Client) Info() (*api.HostInfo, error) {
	return &api.HostInfo{ReadOnly: h.opts.ReadOnly, Confirm: string(h.gate.Confirm()), AccountID: sandbox.AccountID, Partition: "aws", Plugin: h.opts.Plugin, Grants: h.opts.Grants, Config: map[string]string{}}, nil
}

// Seal implements hostiam.Sealer with the runtime's own sealer, over the
// host's secrets directory, for the plugin in the sandbox's account.
func (h *Client) Seal(data string) (string, error) {
	a := h.sealer.Seal(h.opts.Plugin, sandbox.AccountID, data)
	if a.Error != nil {
		return "", a.Error
	}
	return a.MAC, nil
}

// RemoveSecretFile implements hostiam.SecretFileRemover with the
// runtime's own code (plugin.RemoveSecretFile) over the real gate: the
// plugin's grants and the server's read-only mode decide, and the
// get_access_key_last_used it makes counts as one of the host's calls.
func (h *Client) RemoveSecretFile(accessKeyID string) (string, string, error) {
	c := h.consent.Load()
	if c.Pending() {
		return "", "", &api.Error{Code: api.ConsentRequired, Message: "this tool call is stopping to wait for the person's answer; nothing more runs in it"}
	}
	a := plugin.RemoveSecretFile(context.Background(), h.gate, c.Caller(), catalogue.SecretFiles{Dir: h.secrets}, accessKeyID, nil, func(op string) *api.Error {
		h.calls.Add(1)
		h.mu.Lock()
		h.ops[op]++
		h.mu.Unlock()
		return nil
	})
	if a.Error != nil {
		return "", "", a.Error
	}
	return a.Removed, a.Note, nil
}

// SecretsDir is the host's secrets directory.
func (h *Client) SecretsDir() string { return h.secrets }

// sandboxSecrets holds each sandbox's own secrets directory.
var sandboxSecrets sync.Map // *sandbox.Server → string

// newCatalogue is the catalogue as the server builds it, on sb reached
// through rt, with the secrets directory secretsDir ("" for the sandbox's
// own), which it returns.
func newCatalogue(t testing.TB, sb *sandbox.Server, rt http.RoundTripper, secretsDir string) (*catalogue.Catalogue, string) {
	t.Helper()
	clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: rt, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	if secretsDir == "" {
		secretsDir = SandboxSecretsDir(t, sb)
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: secretsDir}})
	if err != nil {
		t.Fatal(err)
	}
	return cat, secretsDir
}

// SandboxSecretsDir is sb's own secrets directory, made in t's temporary
// directory the first time it is asked for, and shared by every Client and
// LoadWasm on sb that names none (so their seals agree).
func SandboxSecretsDir(t testing.TB, sb *sandbox.Server) string {
	t.Helper()
	if v, ok := sandboxSecrets.Load(sb); ok {
		return v.(string)
	}
	v, loaded := sandboxSecrets.LoadOrStore(sb, filepath.Join(t.TempDir(), "secrets"))
	if !loaded {
		t.Cleanup(func() { sandboxSecrets.Delete(sb) })
	}
	return v.(string)
}

// Calls is how many operations the host ran (batched ones each count).
func (h *Client) Calls() int { return int(h.calls.Load()) }

// Ops is how many times each operation ran.
func (h *Client) Ops() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.ops))
	for k, v := range h.ops {
		out[k] = v
	}
	return out
}

// ProgressMessages are the progress reports so far.
func (h *Client) ProgressMessages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string{}, h.progress...)
}

// Person is a test's person at the client: it answers the questions put
// to it in turn with its answers (the last one again once they run out;
// accept when it has none) and records them.
type Person struct {
	mu        sync.Mutex
	answers   []gate.Answer
	questions []gate.Question
}

// NewPerson returns a person who gives these answers, in turn.
func NewPerson(answers ...gate.Answer) *Person { return &Person{answers: answers} }

// Accepting is a person who says yes to everything.
func Accepting() *Person { return NewPerson(gate.Answer{Decision: gate.Accept, Via: "test"}) }

// Declining is a person who says no to everything.
func Declining() *Person { return NewPerson(gate.Answer{Decision: gate.Decline, Via: "test"}) }

// Ask implements gate.Consent.
func (p *Person) Ask(_ context.Context, q gate.Question) (gate.Answer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.questions = append(p.questions, q)
	if len(p.answers) == 0 {
		return gate.Answer{Decision: gate.Accept, Via: "test"}, nil
	}
	return p.answers[min(len(p.questions), len(p.answers))-1], nil
}

// Questions are the questions asked so far.
func (p *Person) Questions() []gate.Question {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]gate.Question(nil), p.questions...)
}

// Asked lists the questions asked so far, each as its changes
// "op {input}; op {input}" with the decoded inputs.
func (p *Person) Asked() []string {
	var out []string
	for _, q := range p.Questions() {
		var calls []string
		for _, c := range q.Changes {
			b, _ := json.Marshal(c.Input)
			calls = append(calls, c.Operation+" "+string(b))
		}
		out = append(out, strings.Join(calls, "; "))
	}
	return out
}
