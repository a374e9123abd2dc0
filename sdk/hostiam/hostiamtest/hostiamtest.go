package hostiamtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/iammcp/iam-mcp-server/host/accounts"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// Options configure a test host (New). The zero value is a host on an
// empty sandbox account, granted nothing.
type Options struct {
	// Seed is the new sandbox's data set: "" for an empty account, "demo"
	// for the demo organisation (25 users in 6 groups, roles, policies and
	// planted problems; sandbox.Options.Seed), "org" for an AWS
	// Organization of four accounts (the management account, the server's
	// own, and the members shared, dev and prod, with cross-account
	// problems planted). On an organisation (this seed, or a Sandbox
	// with members) the host reaches every account, as the server does
	// under --sandbox-seed org: see the package doc.
	Seed string
	// Sandbox is an existing sandbox to use instead of a new one (Seed
	// and Throttle then do not apply: give that sandbox its own
	// sandbox.Options.Faults). Hosts on one sandbox see the same accounts.
	Sandbox *sandbox.Server
	// Accounts are the accounts the plugin may act in, as the plugins
	// file's accounts key says it: ids or aliases the server reaches; nil
	// for every one. A name the server does not reach fails the test, as
	// it refuses the server's start.
	Accounts []string
	// Plugin is the plugin's name, for the gate, the audit records and
	// Info.
	Plugin string
	// Grants are the operations granted, as in the plugins file: deny by
	// default, so a call to anything else fails with api.NotGranted.
	Grants []string
	// ReadOnly is the server's --readonly: every mutation is refused with
	// api.ReadOnly, whatever the grants.
	ReadOnly bool
	// Confirm is the server's --confirm; "" is destructive.
	Confirm gate.Confirm
	// Person answers the questions put to the person; nil: nobody can be
	// asked, as with a client that cannot elicit.
	Person gate.Consent
	// Latency delays every call, so that wall time counts calls as a
	// remote IAM would (batches still run eight at a time).
	Latency time.Duration
	// Throttle is the fraction of IAM requests, in [0, 1], that the new
	// sandbox answers with IAM's own Throttling error (its fault
	// injection, sandbox.Faults.ThrottleRate), as IAM does when an account
	// calls it too fast. The AWS SDK retries a throttled request, Attempts
	// times in all, as the server's does: a workflow sees api.Throttled
	// only when every attempt was throttled (Throttle 1: every call). The
	// sequence of answers is fixed (the fault seed is 1), so a test that
	// makes its calls in one order sees the same failures each run;
	// Recorder counts the throttled answers.
	Throttle float64
	// Attempts is how many times the AWS SDK tries a request that IAM
	// throttled or failed, the first included; 0 is the server's own count
	// (catalogue.NewClients' default). The retries run at once, without
	// the SDK's back-off waits (a second or more after a throttling) and
	// without its retry quota, so a test neither sleeps nor depends on
	// the calls before: whether a call fails depends only on the
	// sandbox's answers.
	Attempts int
	// Recorder, when set, receives the gate's audit records of this host
	// (every call decided, refusals included) and counts its IAM requests
	// and their throttled answers. nil: none is kept (Client.Calls and
	// Ops still count).
	Recorder *Recorder
	// SecretsDir is the server's secrets directory: where new keys'
	// secrets are written (and RemoveSecretFile removes them) and where
	// Seal's key is kept. "" is the sandbox's own, one per sandbox, so
	// that every Client (and LoadWasm) on a sandbox shares it, as servers
	// restarted with the same --secrets-dir do.
	SecretsDir string
}

// Client is a hostiam.Client for tests (and a hostiam.Planner, Sealer and
// SecretFileRemover, as the runtime's is): each call goes through the real
// gate to the real catalogue on the sandbox. It counts the operations the
// workflow asked for and records its progress reports. It is safe for
// concurrent use.
type Client struct {
	// Sandbox is the IAM sandbox the host calls: a test prepares the
	// account through it (or through another Client on it, granted what
	// the preparation needs) and inspects what the workflow changed.
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

// New builds a Client; its sandbox lives as long as the test. A bad
// option (a Throttle outside [0, 1], or one given with an existing Sandbox)
// fails the test.
func New(t testing.TB, o Options) *Client {
	t.Helper()
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	sb := o.Sandbox
	if sb == nil {
		var err error
		if sb, err = sandbox.New(sandbox.Options{Seed: o.Seed, Faults: sandbox.Faults{ThrottleRate: o.Throttle, Seed: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	g, secrets := newGate(t, sb, sb.Transport(), serverOptions{
		secretsDir: o.SecretsDir, attempts: o.Attempts, rec: o.Recorder, readOnly: o.ReadOnly, confirm: o.Confirm,
	})
	grants := map[string]bool{}
	for _, g := range o.Grants {
		grants[g] = true
	}
	allowed, err := plugin.ResolveAccounts(context.Background(), g, o.Plugin, o.Accounts, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &Client{
		Sandbox: sb, gate: g, opts: o, ops: map[string]int{},
		caller:  gate.Caller{Kind: gate.Plugin, Plugin: o.Plugin, Grants: grants, Accounts: allowed},
		secrets: secrets, sealer: plugin.NewStateSealer(secrets),
	}
	h.NewToolCall()
	return h
}

// check refuses the options New cannot honour, saying what to do instead.
func (o Options) check() error {
	switch {
	case o.Throttle < 0 || o.Throttle > 1:
		return fmt.Errorf("hostiamtest.Options.Throttle is %v; give a fraction of the requests, from 0 to 1", o.Throttle)
	case o.Sandbox != nil && o.Throttle != 0:
		return errors.New("hostiamtest.Options.Throttle applies to a sandbox the kit makes; give your own sandbox sandbox.Options{Faults: sandbox.Faults{ThrottleRate: …}} instead")
	case o.Sandbox != nil && o.Seed != "":
		return errors.New("hostiamtest.Options.Seed applies to a sandbox the kit makes; seed your own sandbox with sandbox.Options{Seed: …} instead")
	}
	return checkAttempts(o.Attempts)
}

// checkAttempts refuses a negative Attempts.
func checkAttempts(n int) error {
	if n < 0 {
		return fmt.Errorf("hostiamtest: Attempts is %d; give 1 or more tries (0 for the server's count)", n)
	}
	return nil
}

// NewToolCall starts a new tool call: the approvals of the plans stated
// in the last one are gone, as in the runtime, where they last one tool
// call.
func (h *Client) NewToolCall() {
	h.consent.Store(plugin.NewConsent(h.gate, h.caller, h.opts.Person))
}

// Consent implements hostiam.Planner.
func (h *Client) Consent(summary string, calls []hostiam.Request) error {
	wire := make([]api.IAMRequest, len(calls))
	for i, c := range calls {
		args, err := json.Marshal(c.In)
		if err != nil {
			return &api.Error{Code: api.InvalidInput, Message: err.Error()}
		}
		wire[i] = api.IAMRequest{Op: c.Op, Args: args, Account: c.Account}
	}
	a := h.consent.Load().State(context.Background(), summary, wire)
	if a.Error != nil {
		return a.Error
	}
	return nil
}

// Call implements hostiam.Client: op in the server's own account (or the
// one in names with its account argument; hostiam.In names another).
func (h *Client) Call(op string, in, out any) error {
	return h.call("", op, in, out)
}

// call runs op in account (an id or alias; "" for the server's own)
// through the gate, as the runtime's iam_call does.
func (h *Client) call(account, op string, in, out any) error {
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
	res, err := h.gate.CallIn(context.Background(), c.Caller(), account, op, args)
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

// Batch implements hostiam.Client, eight at a time as the runtime does,
// each request in the account it names.
func (h *Client) Batch(reqs []hostiam.Request) []error {
	errs := make([]error, len(reqs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = h.call(r.Account, r.Op, r.In, r.Out)
		}()
	}
	wg.Wait()
	return errs
}

// Progress implements hostiam.Client.
func (h *Client) Progress(done, total float64, message string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.progress = append(h.progress, message)
}

// Info implements hostiam.Client: on an organisation, Accounts lists the
// accounts the plugin may act in, as the runtime's host_info does.
func (h *Client) Info() (*api.HostInfo, error) {
	return &api.HostInfo{ReadOnly: h.opts.ReadOnly, Confirm: string(h.gate.Confirm()), AccountID: h.Sandbox.AccountID(), Partition: "aws", Plugin: h.opts.Plugin, Grants: h.opts.Grants, Config: map[string]string{},
		Accounts: plugin.HostAccounts(h.gate, h.caller.Accounts)}, nil
}

// Seal implements hostiam.Sealer with the runtime's own sealer, over the
// host's secrets directory, for the plugin in the sandbox's account.
func (h *Client) Seal(data string) (string, error) {
	a := h.sealer.Seal(h.opts.Plugin, h.Sandbox.AccountID(), data)
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

// serverOptions are the server's side of a test host: its flags, and
// what the kit adds (a recorder, the SDK's attempts).
type serverOptions struct {
	secretsDir string // "" for the sandbox's own
	attempts   int    // 0: the server's count
	rec        *Recorder
	readOnly   bool
	confirm    gate.Confirm
}

// newGate is the gate and catalogue as the server builds them, on sb
// reached through rt (counted by o.rec, when not nil), with the secrets
// directory o.secretsDir ("" for the sandbox's own), which it returns. Its
// AWS SDK clients, and those of every other account, try each request
// o.attempts times (0: the server's count), with no wait between tries
// (Options.Attempts).
//
// On an organisation sandbox it is the server under --sandbox-seed org:
// the clients sign as the management account's operator
// (sandbox.OrgOperatorKeyID), and the gate reaches every member by
// discovery through its sandbox.OrgAccessRoleName role (host/accounts,
// assuming the role through the sandbox's STS), each with the server's
// mode.
func newGate(t testing.TB, sb *sandbox.Server, rt http.RoundTripper, o serverOptions) (*gate.Gate, string) {
	t.Helper()
	ctx := context.Background()
	if err := checkAttempts(o.attempts); err != nil {
		t.Fatal(err)
	}
	if o.rec != nil {
		rt = o.rec.transport(rt)
	}
	org := len(sb.Members()) > 0
	copts := catalogue.ClientOptions{Sandbox: rt, MaxAttempts: o.attempts}
	if org {
		copts.SandboxKeyID = sandbox.OrgOperatorKeyID
	}
	clients, err := catalogue.NewClients(ctx, copts)
	if err != nil {
		t.Fatal(err)
	}
	// The prompt retryer on the configuration, so that the clients
	// host/accounts derives for other accounts have it too.
	retries := promptRetries(clients.Config.Retryer().MaxAttempts())
	cfg := clients.Config.Copy()
	cfg.Retryer = func() aws.Retryer { return retries }
	clients = catalogue.ClientsFromConfig(cfg, clients.Endpoint)
	if o.secretsDir == "" {
		o.secretsDir = SandboxSecretsDir(t, sb)
	}
	copt := catalogue.Options{Secrets: catalogue.SecretFiles{Dir: o.secretsDir}}
	gopts := gate.Options{ReadOnly: o.readOnly, Confirm: o.confirm, Audit: o.rec.audit()}
	if org {
		reg := orgAccounts(t, clients, o)
		gopts.Accounts = reg
		copt.Accounts = func() []api.ReachableAccount { return reg.Reachable(nil) }
	}
	cat, err := catalogue.New(clients, copt)
	if err != nil {
		t.Fatal(err)
	}
	return gate.New(cat, gopts), o.secretsDir
}

// orgAccounts is the registry of an organisation's accounts as the server
// builds it with no accounts file: discovery through the role every
// member has, each account with the server's mode.
func orgAccounts(t testing.TB, clients *catalogue.Clients, o serverOptions) *accounts.Registry {
	t.Helper()
	confirm := o.confirm
	if confirm == "" {
		confirm = gate.ConfirmDestructive
	}
	mode := "read-write"
	if o.readOnly {
		mode = "read-only"
	}
	f := &accounts.File{Discovery: &accounts.Discovery{RoleName: sandbox.OrgAccessRoleName, Mode: mode, Confirm: string(confirm)}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	reg, err := accounts.New(context.Background(), f, accounts.Options{Clients: clients, Self: gate.Account{Self: true, ReadOnly: o.readOnly, Confirm: confirm}})
	if err != nil {
		t.Fatal(err)
	}
	return reg
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

// promptRetries is the AWS SDK's standard retryer, trying each request up
// to attempts times, with neither its back-off waits nor its retry quota
// (Options.Attempts says why).
func promptRetries(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}
