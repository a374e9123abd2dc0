package catalogue

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
// function each family file registers: run for an operation that reads,
// prepare for one that mutates.
type impl struct {
	inType  reflect.Type
	run     func(ctx context.Context, c *Catalogue, in any) (any, error)
	prepare func(ctx context.Context, c *Catalogue, in any) (*change, error)
}

// registry holds every implementation; family files add to it in init
// through implement and implementChange, which refuse duplicates and names
// not in sdk/api.
var registry = map[string]impl{}

// register checks that fn's input and output types are the ones sdk/api
// declares for name, so the published schemas and the code can never
// disagree, and that name is registered once, the right way.
func register[I, O any](name string, mutates bool) reflect.Type {
	op, ok := api.Lookup(name)
	if !ok {
		panic("iam: implementation for unknown operation " + name)
	}
	if _, dup := registry[name]; dup {
		panic("iam: operation " + name + " implemented twice")
	}
	if op.Mutates != mutates {
		panic("iam: " + name + ": an operation that mutates is implemented with implementChange (a plan, then the change), any other with implement")
	}
	in, out := reflect.TypeOf((*I)(nil)).Elem(), reflect.TypeOf((*O)(nil)).Elem()
	if in != reflect.TypeOf(op.Input) || out != reflect.TypeOf(op.Output) {
		panic(fmt.Sprintf("iam: %s implemented as %v -> %v, but sdk/api declares %T -> %T", name, in, out, op.Input, op.Output))
	}
	return in
}

// implement registers fn as the implementation of the named operation,
// which must not mutate.
func implement[I, O any](name string, fn func(ctx context.Context, c *Catalogue, in *I) (*O, error)) {
	in := register[I, O](name, false)
	registry[name] = impl{inType: in, run: func(ctx context.Context, c *Catalogue, v any) (any, error) {
		return fn(ctx, c, v.(*I))
	}}
}

// Planned is a change a planner prepared: its plan, and the function that
// carries out exactly that plan.
type Planned[O any] struct {
	Plan  api.Plan
	Apply func(ctx context.Context) (*O, error)
}

// change is a prepared mutation, typed erasure over Planned.
type change struct {
	plan  *api.Plan
	apply func(ctx context.Context) (any, error)
}

// implementChange registers the planner of a mutating operation. A
// planner reads what the change needs — that the entities exist, what a
// force delete will remove, what the guardrails say — and changes
// nothing; its Apply makes the change it planned. A dry run returns the
// plan; consent shows it; a call runs Apply after both.
func implementChange[I, O any](name string, plan func(ctx context.Context, c *Catalogue, in *I) (*Planned[O], error)) {
	in := register[I, O](name, true)
	registry[name] = impl{inType: in, prepare: func(ctx context.Context, c *Catalogue, v any) (*change, error) {
		p, err := plan(ctx, c, v.(*I))
		if err != nil {
			return nil, err
		}
		p.Plan.Operation = name
		if p.Plan.Steps == nil {
			p.Plan.Steps = []api.PlanStep{}
		}
		if p.Plan.Affected == nil {
			p.Plan.Affected = []string{}
		}
		return &change{plan: &p.Plan, apply: func(ctx context.Context) (any, error) {
			out, err := p.Apply(ctx)
			if err != nil {
				return nil, asAPIError(err)
			}
			return out, nil
		}}, nil
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
	// accounts lists the accounts the server may act in (Options.Accounts).
	accounts func() []api.ReachableAccount

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
	// Accounts returns every account the server may act in, its own first
	// (host/accounts); get_account_info lists them when there is more than
	// the server's own. Nil: the server's own account only.
	Accounts func() []api.ReachableAccount
}

// New builds a catalogue over AWS clients, first checking that every
// operation in sdk/api has an implementation and a complete tool entry
// (tools.go) (Caddy's rule: the table refuses to start incomplete).
func New(clients *Clients, opts Options) (*Catalogue, error) {
	if err := checkTools(about); err != nil {
		return nil, err
	}
	var missing []string
	for _, op := range api.All() {
		if _, ok := registry[op.Name]; !ok {
			missing = append(missing, op.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("iam: operations without an implementation: %s", strings.Join(missing, ", "))
	}
	return &Catalogue{clients: clients, secrets: opts.Secrets, returnSecrets: opts.ReturnSecrets, allowRisky: opts.AllowRiskyPolicies, accounts: opts.Accounts}, nil
}

// With returns the same catalogue — options, secret sink — acting through
// other clients (another account's credentials), with its own memory of
// which account it is in. It checks nothing and calls nothing: cheap
// enough to make per call.
func (c *Catalogue) With(clients *Clients) *Catalogue {
	return &Catalogue{clients: clients, secrets: c.secrets, returnSecrets: c.returnSecrets, allowRisky: c.allowRisky, accounts: c.accounts}
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
// rules; it returns the output or an *api.Error. A mutating operation is
// prepared and applied at once, with no one asked: consent is the gate's.
func (c *Catalogue) Run(ctx context.Context, name string, in any) (any, error) {
	im, err := c.lookup(name, in)
	if err != nil {
		return nil, err
	}
	if im.prepare != nil {
		ch, err := c.prepare(ctx, im, in)
		if err != nil {
			return nil, err
		}
		return ch.apply(ctx)
	}
	out, err := im.run(ctx, c, in)
	if err != nil {
		return nil, asAPIError(err)
	}
	return out, nil
}

// Prepare plans a mutating operation on in, checked as Run checks it,
// and changes nothing: it returns the plan, and the function that carries
// it out (returning the operation's output or an *api.Error).
func (c *Catalogue) Prepare(ctx context.Context, name string, in any) (*api.Plan, func(context.Context) (any, error), error) {
	im, err := c.lookup(name, in)
	if err != nil {
		return nil, nil, err
	}
	if im.prepare == nil {
		return nil, nil, api.Errorf(api.Internal, "%s changes nothing and has no plan; please report this", name)
	}
	ch, err := c.prepare(ctx, im, in)
	if err != nil {
		return nil, nil, err
	}
	return ch.plan, ch.apply, nil
}

func (c *Catalogue) prepare(ctx context.Context, im impl, in any) (*change, error) {
	ch, err := im.prepare(ctx, c, in)
	if err != nil {
		return nil, asAPIError(err)
	}
	return ch, nil
}

// lookup finds name's implementation and checks in against its rules.
func (c *Catalogue) lookup(name string, in any) (impl, error) {
	im, ok := registry[name]
	if !ok {
		return impl{}, api.Errorf(api.InvalidInput, "there is no operation %s; list the tools to see what exists", args.Quote(name))
	}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Type() != im.inType {
		return impl{}, api.Errorf(api.Internal, "%s was given %T instead of its input type; please report it", name, in)
	}
	if err := validate(v.Elem()); err != nil {
		return impl{}, err
	}
	return im, nil
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
