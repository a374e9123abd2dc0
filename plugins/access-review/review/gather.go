package review

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// The bulk reads. Everything the default review needs comes from four
// sources whose cost grows with pages, not principals: the authorization
// details (every user, group, role and managed policy with its documents),
// the credential report (every user's credentials in one CSV), the password
// policy and the account summary.

// Operation names the review calls.
const (
	opAuthDetails         = "get_account_authorization_details"
	opGenerateCredReport  = "generate_credential_report"
	opGetCredReport       = "get_credential_report"
	opPasswordPolicy      = "get_account_password_policy"
	opAccountSummary      = "get_account_summary"
	opGenerateLastAccess  = "generate_service_last_accessed_details"
	opGetLastAccess       = "get_service_last_accessed_details"
	opAccessKeyLastUsed   = "get_access_key_last_used"
	opListAccessKeys      = "list_access_keys"
	authDetailsPageSize   = 1000
	credReportAttempts    = 8
	throttleAttempts      = 5
	lastAccessedAttempts  = 8
	batchChunk            = 50
	firstBackoff          = 250 * time.Millisecond
	maxBackoff            = 4 * time.Second
	lastAccessedPageItems = 1000
)

// Operations lists every catalogue operation the review may call, all
// read-only as IAM rates them: what the plugin declares and what an
// operator grants.
var Operations = []string{
	opAuthDetails, opGenerateCredReport, opGetCredReport, opPasswordPolicy, opAccountSummary,
	opGenerateLastAccess, opGetLastAccess, opAccessKeyLastUsed, opListAccessKeys,
	opDescribeOrganization, // organisation reviews (Input.Accounts): SCPs and the tree, once
}

// counter wraps the host to count IAM calls per operation, so that the
// header states the review's cost whatever the host is.
type counter struct {
	h     hostiam.Client
	total int
	byOp  map[string]int
	sleep func(time.Duration)
}

func (c *counter) count(op string, n int) {
	c.total += n
	c.byOp[op] += n
}

// call runs one operation, retrying Throttled with exponential back-off:
// the host's SDK already retried, so this is the review's second line for
// an account under sustained load.
//
// Inside the plugin the SDK decodes each result once, straight into out (a
// page of authorization details is up to a megabyte, and JSON decoding is
// the plugin's largest cost).
func (c *counter) call(op string, in, out any) error {
	wait := firstBackoff
	for attempt := 1; ; attempt++ {
		c.count(op, 1)
		err := c.h.Call(op, in, out)
		if hostiam.Code(err) != api.Throttled || attempt == throttleAttempts {
			return err
		}
		c.sleep(wait)
		wait = min(2*wait, maxBackoff)
	}
}

// batch runs requests through Host.Batch in chunks of batchChunk,
// retrying the Throttled ones with back-off (batchRetrying), and returns
// one error per request.
func (c *counter) batch(reqs []hostiam.Request) []error {
	return batchRetrying(c.h, reqs, batchChunk, func(i int) { c.count(reqs[i].Op, 1) }, c.sleep)
}

// batchRetrying runs reqs through h.Batch in chunks of chunk, retrying the
// Throttled ones with exponential back-off, and returns one error per
// request; count is called with each request's index every time it is
// sent (retries included). Chunks bound what one host call holds (memory,
// and the host's own concurrency), and let a throttled chunk back off
// before the next.
func batchRetrying(h hostiam.Client, reqs []hostiam.Request, chunk int, count func(int), sleep func(time.Duration)) []error {
	errs := make([]error, len(reqs))
	for start := 0; start < len(reqs); start += chunk {
		end := min(start+chunk, len(reqs))
		pending := make([]int, 0, end-start)
		for i := start; i < end; i++ {
			pending = append(pending, i)
		}
		wait := firstBackoff
		for attempt := 1; len(pending) > 0; attempt++ {
			sent := make([]hostiam.Request, len(pending))
			for k, i := range pending {
				sent[k] = reqs[i]
				count(i)
			}
			res := h.Batch(sent)
			var again []int
			for k, i := range pending {
				errs[i] = res[k]
				if hostiam.Code(res[k]) == api.Throttled && attempt < throttleAttempts {
					again = append(again, i)
				}
			}
			if len(again) > 0 {
				sleep(wait)
				wait = min(2*wait, maxBackoff)
			}
			pending = again
		}
	}
	return errs
}

// gathered is what the bulk reads returned.
type gathered struct {
	auth       *api.AuthorizationDetailsOutput // nil when unreadable
	authPages  int
	report     *api.CredentialReportOutput // nil when unreadable or not needed
	password   *api.PasswordPolicyOutput   // nil when unreadable or not needed
	summary    *api.AccountSummaryOutput   // nil when unreadable or not needed
	unreadable []Unreadable
}

func (g *gathered) fail(what, op string, err error, impact string) {
	u := Unreadable{What: what, Op: op, Message: err.Error(), Impact: impact}
	if e, ok := err.(*api.Error); ok {
		u.Code, u.Message = string(e.Code), e.Message
	}
	g.unreadable = append(g.unreadable, u)
}

// authFilter asks GetAccountAuthorizationDetails for what the scope needs:
// every principal kind reviewed, and the managed policies whenever any
// principal is (their documents are what the principals are allowed).
func authFilter(cfg *config) []string {
	users := cfg.wants(KindUser) || cfg.wants(KindPolicy)
	groups := users || cfg.wants(KindGroup)
	roles := cfg.wants(KindRole) || cfg.wants(KindAccount) || cfg.wants(KindPolicy) // the support-role check reads roles
	policies := cfg.wants(KindUser) || cfg.wants(KindGroup) || cfg.wants(KindRole) || cfg.wants(KindPolicy)
	if users && groups && roles && policies {
		return nil // everything
	}
	var f []string
	for _, w := range []struct {
		on   bool
		name []string
	}{{users, []string{"User"}}, {groups, []string{"Group"}}, {roles, []string{"Role"}}, {policies, []string{"LocalManagedPolicy", "AWSManagedPolicy"}}} {
		if w.on {
			f = append(f, w.name...)
		}
	}
	return f
}

// gather runs the bulk reads the scope needs. A read that fails is
// recorded with what it costs the review, and the review goes on with the
// rest: a partial review that says what is missing beats none.
func gather(c *counter, cfg *config, progress func(string)) *gathered {
	g := &gathered{}

	progress("reading the account's users, groups, roles and policies")
	in := api.AuthorizationDetailsInput{Filter: authFilter(cfg), PageInput: api.PageInput{MaxItems: authDetailsPageSize}}
	all := &api.AuthorizationDetailsOutput{}
	for {
		var raw rawAuthPage
		if err := c.call(opAuthDetails, in, &raw); err != nil {
			g.fail("authorization details (users, groups, roles, managed policies)", opAuthDetails, err,
				"no permission, trust or structure check ran: they all read the authorization details")
			all = nil
			break
		}
		g.authPages++
		page := raw.convert()
		all.Users = append(all.Users, page.Users...)
		all.Groups = append(all.Groups, page.Groups...)
		all.Roles = append(all.Roles, page.Roles...)
		all.Policies = append(all.Policies, page.Policies...)
		if !page.IsTruncated || page.Marker == "" {
			break
		}
		in.Marker = page.Marker
		progress(fmt.Sprintf("reading authorization details: %d users, %d groups, %d roles, %d policies so far",
			len(all.Users), len(all.Groups), len(all.Roles), len(all.Policies)))
	}
	g.auth = all

	if cfg.wants(KindUser) || cfg.wants(KindAccount) {
		progress("reading the credential report")
		g.report = credentialReport(c, g)
	}
	if cfg.wants(KindAccount) {
		progress("reading the password policy and the account summary")
		var pp api.PasswordPolicyOutput
		if err := c.call(opPasswordPolicy, api.Empty{}, &pp); err != nil {
			g.fail("password policy", opPasswordPolicy, err, "the password policy checks did not run")
		} else {
			g.password = &pp
		}
		var sm api.AccountSummaryOutput
		if err := c.call(opAccountSummary, api.Empty{}, &sm); err != nil {
			g.fail("account summary", opAccountSummary, err, "root user checks rely on the credential report alone")
		} else {
			g.summary = &sm
		}
	}
	return g
}

// The authorization details as they are decoded: api.PolicyDocument checks
// that each document is a JSON object by decoding it into a map, which in
// a 10,000-principal account is most of the page's decoding time inside the
// Wasm plugin. The review parses every document with the policy engine
// anyway, so documents are kept raw here (the shadowing fields win over the
// embedded ones, as encoding/json resolves names) and converted without a
// second look.
type rawInline struct {
	PolicyName     string          `json:"policy_name"`
	PolicyDocument json.RawMessage `json:"policy_document"`
}

type rawUser struct {
	api.UserDetail
	InlinePolicies []rawInline `json:"inline_policies"`
}

type rawGroup struct {
	api.GroupDetail
	InlinePolicies []rawInline `json:"inline_policies"`
}

type rawRole struct {
	api.RoleDetail
	AssumeRolePolicyDocument json.RawMessage `json:"assume_role_policy_document"`
	InlinePolicies           []rawInline     `json:"inline_policies"`
}

type rawVersion struct {
	api.PolicyVersion
	Document json.RawMessage `json:"document"`
}

type rawPolicy struct {
	api.ManagedPolicyDetail
	Versions []rawVersion `json:"versions"`
}

type rawAuthPage struct {
	Users    []rawUser   `json:"users"`
	Groups   []rawGroup  `json:"groups"`
	Roles    []rawRole   `json:"roles"`
	Policies []rawPolicy `json:"policies"`
	api.Page
}

func inlines(list []rawInline) []api.InlinePolicy {
	out := make([]api.InlinePolicy, len(list))
	for i, p := range list {
		out[i] = api.InlinePolicy{PolicyName: p.PolicyName, PolicyDocument: api.PolicyDocument(p.PolicyDocument)}
	}
	return out
}

// convert turns a raw page into the api types the model reads.
func (p *rawAuthPage) convert() api.AuthorizationDetailsOutput {
	out := api.AuthorizationDetailsOutput{Page: p.Page}
	for _, u := range p.Users {
		d := u.UserDetail
		d.InlinePolicies = inlines(u.InlinePolicies)
		out.Users = append(out.Users, d)
	}
	for _, g := range p.Groups {
		d := g.GroupDetail
		d.InlinePolicies = inlines(g.InlinePolicies)
		out.Groups = append(out.Groups, d)
	}
	for _, r := range p.Roles {
		d := r.RoleDetail
		d.AssumeRolePolicyDocument = api.PolicyDocument(r.AssumeRolePolicyDocument)
		d.InlinePolicies = inlines(r.InlinePolicies)
		out.Roles = append(out.Roles, d)
	}
	for _, mp := range p.Policies {
		d := mp.ManagedPolicyDetail
		d.Versions = make([]api.PolicyVersion, len(mp.Versions))
		for i, v := range mp.Versions {
			d.Versions[i] = v.PolicyVersion
			d.Versions[i].Document = api.PolicyDocument(v.Document)
		}
		out.Policies = append(out.Policies, d)
	}
	return out
}

// credentialReport asks IAM to build the report and reads it. IAM builds
// it in the background: GenerateCredentialReport answers STARTED, then
// INPROGRESS, then COMPLETE, and GetCredentialReport fails until it is
// built. The review asks for the report as soon as generation has started
// (often it is ready; always so in the sandbox) and otherwise waits with
// back-off, a bounded number of times.
func credentialReport(c *counter, g *gathered) *api.CredentialReportOutput {
	const impact = "the credential checks (root user, MFA, access keys, console passwords) did not run"
	wait := firstBackoff
	var lastErr error
	for attempt := 1; attempt <= credReportAttempts; attempt++ {
		var gen api.GenerateCredentialReportOutput
		if err := c.call(opGenerateCredReport, api.Empty{}, &gen); err != nil {
			g.fail("credential report", opGenerateCredReport, err, impact)
			return nil
		}
		if gen.State != "INPROGRESS" {
			var rep api.CredentialReportOutput
			err := c.call(opGetCredReport, api.Empty{}, &rep)
			if err == nil {
				return &rep
			}
			// NoSuchEntity is IAM's "not built yet" (or expired): wait.
			if hostiam.Code(err) != api.NoSuchEntity {
				g.fail("credential report", opGetCredReport, err, impact)
				return nil
			}
			lastErr = err
		}
		c.sleep(wait)
		wait = min(2*wait, maxBackoff)
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("IAM was still building the report after %d attempts", credReportAttempts)
	}
	g.fail("credential report", opGetCredReport, lastErr, impact+"; IAM was still building the report, run the review again in a minute")
	return nil
}
