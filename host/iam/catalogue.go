package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// impl is one operation's implementation, typed erasure over the generic
// function each family file registers.
type impl struct {
	inType reflect.Type
	run    func(ctx context.Context, c *Catalogue, in any) (any, error)
}

// registry holds every implementation; family files add to it in init
// through implement, which refuses duplicates and names not in sdk/api.
var registry = map[string]impl{}

// implement registers fn as the implementation of the named operation. Its
// input and output types must be the ones sdk/api declares for it, so the
// published schemas and the code can never disagree.
func implement[I, O any](name string, fn func(ctx context.Context, c *Catalogue, in *I) (*O, error)) {
	op, ok := api.Lookup(name)
	if !ok {
		panic("iam: implementation for unknown operation " + name)
	}
	if _, dup := registry[name]; dup {
		panic("iam: operation " + name + " implemented twice")
	}
	in, out := reflect.TypeOf((*I)(nil)).Elem(), reflect.TypeOf((*O)(nil)).Elem()
	if in != reflect.TypeOf(op.Input) || out != reflect.TypeOf(op.Output) {
		panic(fmt.Sprintf("iam: %s implemented as %v -> %v, but sdk/api declares %T -> %T", name, in, out, op.Input, op.Output))
	}
	registry[name] = impl{inType: in, run: func(ctx context.Context, c *Catalogue, v any) (any, error) {
		return fn(ctx, c, v.(*I))
	}}
}

// Catalogue runs operations against one AWS account.
type Catalogue struct {
	clients *Clients
	secrets SecretSink
	// returnSecrets puts new secrets in results instead of the sink.
	returnSecrets bool
	// allowRisky lets policy writes with SECURITY_WARNING findings through
	// (as warnings); see guardrails.go.
	allowRisky bool

	accountMu          sync.Mutex
	account, callerARN string
}

// Options configures a Catalogue.
type Options struct {
	// Secrets receives new secret access keys; nil refuses to create keys
	// rather than lose a secret.
	Secrets SecretSink
	// ReturnSecrets returns new secrets inline, once, with a warning,
	// instead of handing them to Secrets.
	ReturnSecrets bool
	// AllowRiskyPolicies writes policies that the guardrails would refuse
	// as risky (admin-equivalent, privilege escalation on "*", trust open
	// to anyone or to another account unconditionally), listing the risks
	// as warnings. ERROR findings are refused regardless.
	AllowRiskyPolicies bool
}

// New builds a catalogue over AWS clients, first checking that every
// operation in sdk/api has an implementation (Caddy's rule: the table
// refuses to start incomplete).
func New(clients *Clients, opts Options) (*Catalogue, error) {
	var missing []string
	for _, op := range api.Operations {
		if _, ok := registry[op.Name]; !ok {
			missing = append(missing, op.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("iam: operations without an implementation: %s", strings.Join(missing, ", "))
	}
	return &Catalogue{clients: clients, secrets: opts.Secrets, returnSecrets: opts.ReturnSecrets, allowRisky: opts.AllowRiskyPolicies}, nil
}

// Call runs one operation with JSON arguments ("" or null for none),
// decoded strictly (host/args), and returns its output (a pointer to the
// api output type) or an *api.Error. It is Run for callers that hold JSON
// and no gate: tests, and the server's own start-up reads.
func (c *Catalogue) Call(ctx context.Context, name string, raw json.RawMessage) (any, error) {
	op, ok := api.Lookup(name)
	if !ok {
		return nil, api.Errorf(api.InvalidInput, "there is no operation %s; list the tools to see what exists", args.Quote(name))
	}
	in, err := args.Decode(op, raw)
	if err != nil {
		return nil, err
	}
	return c.Run(ctx, name, in)
}

// Run runs one operation on in, a pointer to a value of its input type
// (as host/args decodes it), after checking every argument against IAM's
// rules; it returns the output or an *api.Error.
func (c *Catalogue) Run(ctx context.Context, name string, in any) (any, error) {
	im, ok := registry[name]
	if !ok {
		return nil, api.Errorf(api.InvalidInput, "there is no operation %s; list the tools to see what exists", args.Quote(name))
	}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Type() != im.inType {
		return nil, api.Errorf(api.Internal, "%s was given %T instead of its input type; please report it", name, in)
	}
	if err := validate(v.Elem()); err != nil {
		return nil, err
	}
	out, err := im.run(ctx, c, in)
	if err != nil {
		return nil, asAPIError(err)
	}
	return out, nil
}

// knownAccount is the account id if Account has learnt it already, else "":
// for offline tools, which must not call AWS to find it.
func (c *Catalogue) knownAccount() string {
	c.accountMu.Lock()
	defer c.accountMu.Unlock()
	return c.account
}

// Account returns the account id of the credentials, asked of STS once and
// remembered (an account's id never changes).
func (c *Catalogue) Account(ctx context.Context) (string, error) {
	c.accountMu.Lock()
	defer c.accountMu.Unlock()
	if c.account != "" {
		return c.account, nil
	}
	out, err := c.clients.STS.GetCallerIdentity(ctx, nil)
	if err != nil {
		return "", asAPIError(err)
	}
	c.account, c.callerARN = str(out.Account), str(out.Arn)
	return c.account, nil
}
