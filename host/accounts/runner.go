package accounts

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// ExpiryWindow is how long before its expiry a role session is renewed.
// A call must not start with credentials that expire while it runs (a
// batch or a review makes many calls), nor be refused for a few seconds of
// clock skew between this machine and STS: five minutes covers both, and
// still leaves a 15-minute session ten minutes of use.
const ExpiryWindow = 5 * time.Minute

// maxSessions bounds the role sessions kept: one per account and tool
// name, so a server with many tools and accounts evicts the least
// recently used rather than grow (an evicted session is assumed again
// when next needed).
const maxSessions = 512

// SessionNamePrefix starts every role session's name, so that CloudTrail
// and the trust policy's sts:RoleSessionName can tell the server's calls.
const SessionNamePrefix = "iam-mcp"

// maxSessionName and sessionNameBad are STS's RoleSessionName rules: 2 to
// 64 characters of [\w+=,.@-].
const maxSessionName = 64

var sessionNameBad = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName names the role session of a call: the server and the tool
// it serves (iam-mcp.list_users, iam-mcp.access_review; iam-mcp.cli.list_users
// for `iam-mcp-server call list_users`), cut to STS's 64 characters and
// alphabet.
func SessionName(caller gate.Caller) string {
	tool := caller.Tool
	switch {
	case caller.Kind == gate.CLI && tool != "":
		tool = "cli." + tool
	case caller.Kind == gate.CLI:
		tool = "cli"
	case tool == "" && caller.Kind == gate.Plugin:
		tool = caller.Plugin
	}
	name := SessionNamePrefix
	if tool != "" {
		name += "." + sessionNameBad.ReplaceAllString(tool, "-")
	}
	if len(name) > maxSessionName {
		name = name[:maxSessionName]
	}
	return name
}

// Runner returns the catalogue acting in acct for caller: base, which must
// be the *catalogue.Catalogue, with the clients of a role session (or the
// account's profile). session names that session for the audit line.
func (r *Registry) Runner(ctx context.Context, base gate.Runner, acct gate.Account, caller gate.Caller) (gate.Runner, string, error) {
	cat, ok := base.(*catalogue.Catalogue)
	if !ok {
		return nil, "", api.Errorf(api.Internal, "accounts: acting in account %s needs the catalogue, but the gate runs a %T; please report this", acct.ID, base)
	}
	if acct.Self || acct.ID == r.self.ID {
		return nil, "", api.Errorf(api.Internal, "accounts: the server's own account %s needs no runner; the gate runs its own catalogue there; please report this", acct.ID)
	}
	t, ok := r.byName[acct.ID]
	if !ok || t.acct.ID != acct.ID {
		return nil, "", api.Errorf(api.AccountNotAllowed, "account %s is not one this server reaches; get_account_info lists those it does", args.Quote(acct.ID))
	}
	if t.profile != "" {
		clients, err := r.profile(ctx, t)
		if err != nil {
			return nil, "", err
		}
		return cat.With(clients), "profile " + t.profile, nil
	}
	s := r.session(t, SessionName(caller))
	// Assume now (or find the cached session still fresh) so that a
	// refused AssumeRole is this call's clear error, before any IAM call.
	if _, err := s.creds.Retrieve(ctx); err != nil {
		return nil, "", r.assumeFailed(t, err)
	}
	return cat.With(s.clients), s.arn, nil
}

// session is one role session: its credentials, cached and renewed by the
// SDK, and the clients that sign with them.
type session struct {
	key     string
	arn     string // arn:P:sts::ID:assumed-role/ROLE/NAME
	creds   *aws.CredentialsCache
	clients *catalogue.Clients
}

// session returns the cached session of t named name, or makes one; it
// calls nothing (the first use assumes the role).
func (r *Registry) session(t *target, name string) *session {
	key := t.acct.ID + "/" + name
	return r.sessions.get(key, func() *session {
		opts := func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = name
			if t.externalID != "" {
				o.ExternalID = aws.String(t.externalID)
			}
			if t.duration > 0 {
				o.Duration = t.duration
			}
		}
		p := &assumer{p: stscreds.NewAssumeRoleProvider(r.clients.STS, t.roleARN, opts), r: r, t: t}
		creds := aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = ExpiryWindow })
		return &session{
			key:     key,
			arn:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", r.partition, t.acct.ID, t.roleName, name),
			creds:   creds,
			clients: r.derive(creds, creds.Invalidate),
		}
	})
}

// derive makes clients like the server's — region, retryer, HTTP client,
// endpoint — that sign with creds, and that retry a request once with
// fresh credentials when the session is refused as expired before the
// cache thought it would be (invalidate drops the cached ones).
func (r *Registry) derive(creds aws.CredentialsProvider, invalidate func()) *catalogue.Clients {
	cfg := r.clients.Config.Copy()
	cfg.Credentials = creds
	if invalidate != nil {
		// Clip: appending must not write into the server's own slice.
		cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(st *middleware.Stack) error {
			return st.Finalize.Insert(&expiredRetry{invalidate: invalidate}, "Retry", middleware.Before)
		})
	}
	return catalogue.ClientsFromConfig(cfg, r.clients.Endpoint)
}

// expiredRetry retries a request once when it is refused with
// ExpiredToken: the clock of this machine and that of AWS disagree, or
// the session was cut short, so the cache still held credentials AWS no
// longer takes. It sits outside the SDK's retry loop, which resolves the
// credentials again for each attempt, so the retry assumes the role anew.
type expiredRetry struct{ invalidate func() }

func (*expiredRetry) ID() string { return "IAMMCPExpiredTokenRetry" }

func (m *expiredRetry) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleFinalize(ctx, in)
	if err == nil || !isExpired(err) {
		return out, md, err
	}
	m.invalidate()
	// The first attempt read the body; the retry sends it again.
	if rw, ok := in.Request.(interface{ RewindStream() error }); ok {
		if rerr := rw.RewindStream(); rerr != nil {
			return out, md, err
		}
	}
	return next.HandleFinalize(ctx, in)
}

func isExpired(err error) bool {
	var se smithy.APIError
	if !errors.As(err, &se) {
		return false
	}
	switch se.ErrorCode() {
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return true
	}
	return false
}

// profile returns the clients of t's named profile, checked once to be
// t's account.
func (r *Registry) profile(ctx context.Context, t *target) (*catalogue.Clients, error) {
	t.profileMu.Lock()
	defer t.profileMu.Unlock()
	if t.profileClients != nil {
		return t.profileClients, nil
	}
	loaded, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(t.profile), config.WithRegion(r.clients.Config.Region))
	if err != nil {
		return nil, api.Errorf(api.CredentialsError, "account %s: cannot load the AWS profile %q: %v. Check the profile in the shared AWS configuration (aws configure list-profiles)", label(t.acct), t.profile, err)
	}
	var invalidate func()
	if c, ok := loaded.Credentials.(*aws.CredentialsCache); ok {
		invalidate = c.Invalidate
	}
	clients := r.derive(loaded.Credentials, invalidate)
	id, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, api.Errorf(api.CredentialsError, "account %s: the AWS profile %q does not work: %v", label(t.acct), t.profile, err)
	}
	if got := deref(id.Account); got != t.acct.ID {
		return nil, api.Errorf(api.WrongAccount, "the AWS profile %q is account %s (%s), not account %s as the accounts file says; fix the profile or the entry's id", t.profile, got, deref(id.Arn), label(t.acct))
	}
	t.profileClients = clients
	return clients, nil
}

// label names an account for people: "prod (444444444444)" or its id.
func label(a gate.Account) string {
	if a.Alias != "" {
		return a.Alias + " (" + a.ID + ")"
	}
	return a.ID
}

// assumer assumes t's role, and turns a refusal into an error that says
// how to let the server in.
type assumer struct {
	p *stscreds.AssumeRoleProvider
	r *Registry
	t *target
}

func (a *assumer) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := a.p.Retrieve(ctx)
	if err == nil {
		return c, nil
	}
	var se smithy.APIError
	if errors.As(err, &se) && (se.ErrorCode() == "AccessDenied" || se.ErrorCode() == "AccessDeniedException") {
		return c, a.r.refused(a.t, se.ErrorMessage())
	}
	return c, err
}

// assumeFailed is the error of an AssumeRole that failed other than by
// refusal (refused made those an *api.Error already): STS's own words
// (a disabled region, the network, throttling), with the account and role.
func (r *Registry) assumeFailed(t *target, err error) *api.Error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	code := api.ServiceFailure
	var se smithy.APIError
	if errors.As(err, &se) && strings.Contains(se.ErrorCode(), "Throttl") {
		code = api.Throttled
	}
	return api.Errorf(code, "could not assume the role %s in account %s: %s", t.roleARN, label(t.acct), args.Cut(err.Error(), 1000))
}

// refused is the error of an AssumeRole the role's trust policy (or the
// server's own policies) refused: the account, the role, the principal
// that asked, and the trust statement that would let it in.
func (r *Registry) refused(t *target, msg string) *api.Error {
	principal := trustPrincipal(r.callerARN)
	stmt := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]string{"AWS": principal},
		"Action":    "sts:AssumeRole",
	}
	if t.externalID != "" {
		stmt["Condition"] = map[string]any{"StringEquals": map[string]string{"sts:ExternalId": t.externalID}}
	}
	js, _ := json.Marshal(stmt) // maps of strings: cannot fail
	as := ""
	if principal != r.callerARN {
		as = fmt.Sprintf(" (it acts as %s)", r.callerARN)
	}
	return api.Errorf(api.AccessDenied,
		"the server could not assume the role %s in account %s: STS answered AccessDenied: %s. The server is %s%s; the role's trust policy must let it in, for example with the statement %s. Across accounts the server's own policies must also allow sts:AssumeRole on %s",
		t.roleARN, label(t.acct), strings.TrimSuffix(msg, "."), principal, as, js, t.roleARN)
}

// trustPrincipal is what a trust policy names to let the caller in: for a
// role session, its role's ARN (a trust policy cannot name a session); for
// anything else, the caller's own ARN.
func trustPrincipal(callerARN string) string {
	// arn:P:sts::ID:assumed-role/ROLE/SESSION
	parts := strings.SplitN(callerARN, ":", 6)
	if len(parts) == 6 && parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/") {
		rest := strings.TrimPrefix(parts[5], "assumed-role/")
		if role, _, ok := strings.Cut(rest, "/"); ok {
			return fmt.Sprintf("arn:%s:iam::%s:role/%s", parts[1], parts[4], role)
		}
	}
	return callerARN
}

// sessionCache holds the most recently used sessions, at most max.
type sessionCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *session, most recent first
	byKey map[string]*list.Element
}

func newSessionCache(max int) *sessionCache {
	return &sessionCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *sessionCache) get(key string, create func() *session) *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*session)
	}
	s := create()
	c.byKey[key] = c.order.PushFront(s)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*session).key)
	}
	return s
}

func (c *sessionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
