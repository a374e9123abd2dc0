package catalogue

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The write guardrails. Every operation that changes what a principal may
// do asks the policy engine first, and all of them get the same answer for
// the same grant, because all of them use the guardrail decision rule of
// policy (risk.go: decided by evaluating the requests that matter, with
// conditions read as an attacker meets them, not by how the policy is
// spelled):
//
//   - writes of documents (put_*_policy, create_policy,
//     create_policy_version, create_role, update_assume_role_policy) go
//     through the validator validate_policy exposes;
//   - attaching a managed policy, and making a stored version the default
//     (set_default_policy_version), judge that version's document;
//   - adding a user to a group judges the group's inline and attached
//     policies as the user's;
//   - removing or replacing a permissions boundary, and every write that
//     takes a policy away (detach_*_policy, delete_*_policy, put_*_policy
//     over an existing name, remove_user_from_group, a managed policy's new
//     default version), judge the principal's policies (its own, its
//     groups', its boundary) after the change against before it: what the
//     boundary or the removed Deny statements were holding back ("Removals"
//     below), for every user and role the change reaches.
//
// The findings decide:
//
//   - ERROR findings (IAM would refuse the document, or it is over its size
//     quota) refuse the write: better our sentence with the place than
//     IAM's MalformedPolicyDocument without one.
//   - SECURITY_WARNING findings (admin-equivalent, privilege escalation,
//     iam:PassRole on any role, Allow with NotResource/NotPrincipal, a trust
//     policy open to anyone, to another account without a condition that
//     restricts, or to a public identity provider's tokens) refuse the write
//     with RiskyPolicy, unless the operator started the server with
//     --allow-risky-policies; then they are the result's warnings.
//   - WARNING findings (unknown actions, mismatched resources) never refuse:
//     the action reference ages, and IAM accepts them. They are warnings.
//
// A read the check needs that fails (no iam:GetPolicyVersion, say) refuses
// the write: the check fails closed, unless --allow-risky-policies, which
// then writes with a warning saying the check could not run.
//
// A managed policy being attached is judged by its default version's
// document, whoever wrote it: AdministratorAccess is refused because it
// allows every action, PowerUserAccess because it allows sts:AssumeRole on
// every role, IAMFullAccess because IAM can grant anything; not because of
// their names.

// maxListedRisks bounds the findings a refusal lists; the rest are counted.
const maxListedRisks = 5

// listRisks joins findings for a message, folding beyond maxListedRisks.
func listRisks(items []string) string {
	if len(items) <= maxListedRisks {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:maxListedRisks], "; ") + fmt.Sprintf("; and %d more (validate_policy lists them all)", len(items)-maxListedRisks)
}

// guardAccount is the account the guardrails judge in: the credentials'
// account, asked of STS once. When it cannot be learnt, "" lets the
// decision rule try the accounts a document names and a random stand-in.
func (c *Catalogue) guardAccount(ctx context.Context) string {
	a, err := c.Account(ctx)
	if err != nil {
		return ""
	}
	return a
}

// guardDocument checks a document before it is written. what names the
// write for messages ("inline policy P on user U"); reach says whom it
// applies to ("user U"). It returns the warnings for the result, or the refusal.
func (c *Catalogue) guardDocument(ctx context.Context, doc api.PolicyDocument, t policy.PolicyType, o policy.ValidateOptions, what, reach string) ([]string, error) {
	if o.Account == "" && t == policy.IdentityPolicy {
		o.Account = c.guardAccount(ctx)
	}
	var errs, risky []string
	var warned []policy.Finding
	for _, f := range policy.ValidateWithOptions(doc.String(), t, o) {
		switch f.Severity {
		case policy.SeverityError:
			errs = append(errs, describeFinding(f))
		case policy.SeveritySecurityWarning:
			risky = append(risky, describeFinding(f))
		case policy.SeverityWarning:
			warned = append(warned, f)
		}
	}
	if len(errs) > 0 {
		return nil, api.Errorf(api.MalformedPolicyDocument, "IAM would refuse %s, so nothing was written: %s. Correct the document; validate_policy shows every finding with its place", what, listRisks(errs))
	}
	warnings := summarizeWarnings(warned)
	if len(risky) > 0 {
		if !c.allowRisky {
			return nil, riskyRefusal(what, reach, risky)
		}
		warnings = append(riskyAllowed(reach, risky), warnings...)
	}
	return warnings, nil
}

// summarizeWarnings renders WARNING findings for a result, folding more
// than three of one code into one line, so that a policy naming fifty
// actions newer than the catalogue does not bury the rest.
func summarizeWarnings(fs []policy.Finding) []string {
	byCode := map[string][]policy.Finding{}
	var order []string
	for _, f := range fs {
		if byCode[f.Code] == nil {
			order = append(order, f.Code)
		}
		byCode[f.Code] = append(byCode[f.Code], f)
	}
	var out []string
	for _, code := range order {
		group := byCode[code]
		if len(group) <= 3 {
			for _, f := range group {
				out = append(out, describeFinding(f))
			}
			continue
		}
		values := make([]string, 0, 3)
		for _, f := range group[:3] {
			values = append(values, f.Value)
		}
		out = append(out, fmt.Sprintf("%d findings %s, for %s and %d more; the first: %s (validate_policy lists them all)",
			len(group), code, strings.Join(values, ", "), len(group)-3, describeFinding(group[0])))
	}
	return out
}

// guardAttach checks the default version of a managed policy before it is
// attached.
func (c *Catalogue) guardAttach(ctx context.Context, policyARN, reach string) ([]string, error) {
	return c.guardManaged(ctx, policyARN, "", "attaching", "attached", reach)
}

// guardManaged checks one version of a managed policy ("" for the default)
// before it takes effect for reach: attached, or made the default. Only its
// risks count: AWS's own policies are over customer quotas and may name
// actions newer than the catalogue.
func (c *Catalogue) guardManaged(ctx context.Context, policyARN, versionID, doing, done, reach string) ([]string, error) {
	v, err := c.policyVersion(ctx, policyARN, versionID)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the write would fail the same way
		}
		e := asAPIError(err)
		if c.allowRisky {
			return []string{"could not read the policy's document to check what it grants (" + e.Message + "); it was " + done + " unchecked because of --allow-risky-policies. Review it with get_managed_policy_document"}, nil
		}
		return nil, api.Errorf(e.Code, "could not read the document of %s to check what it grants (%s), so nothing was %s. Give the server's credentials iam:GetPolicy and iam:GetPolicyVersion, or have the operator start the server with --allow-risky-policies to write without this check", policyARN, e.Message, done)
	}
	var risky []string
	doc := decodeDocument(v.Document)
	o := policy.ValidateOptions{SizeLimit: -1, Inline: true, Account: c.guardAccount(ctx), Stored: true}
	for _, f := range policy.ValidateWithOptions(doc.String(), policy.IdentityPolicy, o) {
		if f.Severity == policy.SeveritySecurityWarning {
			risky = append(risky, describeFinding(f))
		}
	}
	if len(risky) == 0 {
		return nil, nil
	}
	what := policyARN + " (version " + str(v.VersionId) + ")"
	if !c.allowRisky {
		return nil, riskyRefusal(doing+" "+what, reach, risky)
	}
	return riskyAllowed(reach, risky), nil
}

// guardSources judges identity policies (and boundaries) together, as one
// principal's, and renders the risks for messages.
func (c *Catalogue) guardSources(ctx context.Context, in policy.Input) ([]policy.Risk, []string) {
	rs := policy.Risks(in, policy.RiskOptions{Account: c.guardAccount(ctx)})
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, describeRisk(r))
	}
	return rs, out
}

// describeRisk renders a risk with its place, as describeFinding does.
func describeRisk(r policy.Risk) string {
	return describeAt(string(r.Severity), r.Code, r.Statement, r.Sid, r.Source, r.Field, r.Message)
}

// readFailed is the fail-closed answer when the policies a check needs
// cannot be read: refused, or with --allow-risky-policies done unchecked.
func (c *Catalogue) readFailed(err error, what, doing string) ([]string, error) {
	e := asAPIError(err)
	if c.allowRisky {
		return []string{"could not read " + what + " to check what the change grants (" + e.Message + "); it was made unchecked because of --allow-risky-policies"}, nil
	}
	return nil, api.Errorf(e.Code, "could not read %s to check what %s would grant (%s), so nothing was changed. Give the server's credentials the IAM read permissions (iam:Get*, iam:List*), or have the operator start the server with --allow-risky-policies to change it without this check", what, doing, e.Message)
}

// newGatherer is a gatherer of a principal's policies (explain.go) for a
// guardrail.
func (c *Catalogue) newGatherer() *gatherer {
	return &gatherer{c: c, kinds: map[string]string{}, docs: map[string]string{}, managed: map[string]int{}}
}

// groupPolicies gathers a group's inline and attached policies.
func (c *Catalogue) groupPolicies(ctx context.Context, group string) (*gatherer, error) {
	g := c.newGatherer()
	return g, g.principal(ctx, groupKind, group)
}

// guardGroupMembership judges what a user gains by joining a group: the
// group's inline and attached policies, as if they were the user's own.
func (c *Catalogue) guardGroupMembership(ctx context.Context, group, user string) ([]string, error) {
	g, err := c.groupPolicies(ctx, group)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the add would fail the same way
		}
		return c.readFailed(err, "the policies of group "+group, "adding user "+user+" to it")
	}
	_, risky := c.guardSources(ctx, g.in)
	if len(risky) == 0 {
		return nil, nil
	}
	reach := "user " + user + ", who would get the group's policies"
	if !c.allowRisky {
		return nil, riskyRefusal("adding user "+user+" to group "+group, reach, risky)
	}
	return riskyAllowed(reach, risky), nil
}

// guardBoundary judges removing (newBoundary "") or replacing a user's or
// role's permissions boundary: the principal's policies within the new
// boundary, or none, against the same policies within the old one. A risk
// the old boundary was holding back refuses the change.
func (c *Catalogue) guardBoundary(ctx context.Context, kind, name, newBoundary string) ([]string, error) {
	g, err := c.gatherPrincipal(ctx, kind, name)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the change would fail the same way
		}
		return c.readFailed(err, "the policies of "+kind+" "+name, "changing its permissions boundary")
	}
	old := g.in.Boundaries
	if len(old) == 0 {
		return nil, nil // no boundary: a new one can only narrow
	}
	var next []policy.Source
	w := widening{
		doing:   "removing the permissions boundary " + old[0].ID + " of " + kind + " " + name,
		holding: "the boundary is",
		advice:  "Narrow the " + kind + "'s policies first, or choose a boundary that still excludes this",
	}
	if newBoundary != "" {
		w.doing = "replacing the permissions boundary " + old[0].ID + " of " + kind + " " + name + " with " + newBoundary
		v, err := c.policyVersion(ctx, newBoundary, "")
		if err != nil {
			if isCode(err, "NoSuchEntity") {
				return nil, err
			}
			return c.readFailed(err, "the new boundary "+newBoundary, "the change")
		}
		d, perr := policy.Parse(decodeDocument(v.Document).String())
		if perr != nil {
			return c.readFailed(api.Errorf(api.Internal, "%v", perr), "the new boundary "+newBoundary, "the change")
		}
		next = []policy.Source{{ID: newBoundary, Type: sourceBoundary, Doc: d}}
	}
	w.change = func(g *gatherer) policy.Input {
		return policy.Input{Identity: g.in.Identity, Boundaries: next}
	}
	return c.judgeWidening(ctx, w, []*gatherer{g}, kind+" "+name)
}

// Removals. A write that takes a restriction away widens a principal's
// access as surely as one that adds a grant: detaching AdministratorAccess's
// companion Deny on iam:* leaves an administrator. So every write that
// removes or replaces a policy a principal has — detach_*_policy,
// delete_*_policy, put_*_policy over an existing name, remove_user_from_group,
// a managed policy's new default version, a boundary removed or replaced —
// is judged by one comparison (judgeWidening): the principal's policies as
// they are (its own, its groups', its boundary) against the same set with
// the change applied, each by the guardrail decision rule; a risk present
// after and not before refuses the write, naming what held it back.
//
// A change that reaches many principals (a group's policy: every member; a
// managed policy's new default: every user and role it is attached to,
// directly or through a group) judges each of them, up to
// maxJudgedPrincipals; beyond that the check fails closed, as when a read
// fails.
//
// The shortcut: the principal's policies are read only when the policy
// taken away holds a statement whose Effect is not "Allow". Evaluation
// allows a request only when some identity policy allows it, no policy
// denies it and the boundary (when there is one) allows it; taking away an
// identity policy of Allow statements only (NotAction, NotResource and
// conditions included) takes away allows and leaves every deny and the
// boundary as they were, so every request it allowed before is allowed
// after or denied: the change can only narrow. A replaced document's own
// grants are judged on their own by guardDocument, as a new one's are.
// Boundaries are different — removing one removes a whole layer — and go
// through guardBoundary always.

// maxJudgedPrincipals bounds how many users and roles one change is judged
// for. Each costs a few reads and two evaluations by the decision rule; a
// group or managed policy reaching more is refused unless
// --allow-risky-policies (then written with a warning that it was not
// checked), because judging some and not the rest would let the rest
// through unseen.
const maxJudgedPrincipals = 200

// widening is a write that may take a restriction away.
type widening struct {
	doing   string // "detaching P from user U", for messages
	holding string // "the Deny statements of P are", for messages
	advice  string // what to do instead, for the refusal
	// change is the principal's policies after the write, computed from a
	// gatherer of them as they are. It must not modify g.
	change func(g *gatherer) policy.Input
}

// gatherPrincipal reads a user's or role's policies: its own, its groups'
// and its boundary.
func (c *Catalogue) gatherPrincipal(ctx context.Context, kind, name string) (*gatherer, error) {
	g := c.newGatherer()
	_, _, err := g.identity(ctx, kind, name)
	return g, err
}

// who names a principal ("user U") from its kind and name.
type who struct{ kind, name string }

func (w who) String() string { return w.kind + " " + w.name }

// judgeMany gathers each principal of list and judges w for it. A principal
// that vanished meanwhile (NoSuchEntity) is skipped: it holds nothing.
// Findings name the principal when the change reaches more than one
// (named).
func (c *Catalogue) judgeMany(ctx context.Context, w widening, list []who, reach string, named bool) ([]string, error) {
	if len(list) > maxJudgedPrincipals {
		if c.allowRisky {
			return []string{fmt.Sprintf("%s reaches %d users and roles, more than the %d the guardrail judges; it was made unchecked because of --allow-risky-policies. Review what they may do now with explain_access", w.doing, len(list), maxJudgedPrincipals)}, nil
		}
		return nil, api.Errorf(api.RiskyPolicy, "refused %s: it takes away a Deny from %d users and roles, more than the %d the guardrail judges one change for, so it could not be checked and nothing was changed. Make the change in smaller steps (e.g. a copy of the policy attached to fewer principals), or have the operator start the server with --allow-risky-policies to make it without this check",
			w.doing, len(list), maxJudgedPrincipals)
	}
	gs := make([]*gatherer, 0, len(list))
	names := make([]string, 0, len(list))
	for _, p := range list {
		g, err := c.gatherPrincipal(ctx, p.kind, p.name)
		if err != nil {
			if isCode(err, "NoSuchEntity") {
				continue
			}
			return c.readFailed(err, "the policies of "+p.String(), w.doing)
		}
		gs = append(gs, g)
		names = append(names, p.String())
	}
	if !named {
		names = nil // one principal: its name is in the message already
	}
	return c.judgeWidening(ctx, w, gs, reach, names...)
}

// judgeWidening is the one comparison: for each gathered principal, the
// risks of its policies after w.change that it did not have before. labels,
// when given, name each principal in the findings.
func (c *Catalogue) judgeWidening(ctx context.Context, w widening, gs []*gatherer, reach string, labels ...string) ([]string, error) {
	acct := c.guardAccount(ctx)
	var held []string
	for i, g := range gs {
		for _, r := range newRisks(g.in, w.change(g), acct) {
			if len(labels) == len(gs) {
				r = "for " + labels[i] + ": " + r
			}
			held = append(held, r)
		}
	}
	if len(held) == 0 {
		return nil, nil
	}
	if !c.allowRisky {
		return nil, api.Errorf(api.RiskyPolicy, "refused %s: %s holding back what the policies of %s would otherwise grant: %s. Nothing was changed. %s; if this is intended, the operator can restart the server with --allow-risky-policies",
			w.doing, w.holding, reach, listRisks(held), w.advice)
	}
	return riskyAllowed(reach, held), nil
}

// newRisks are the risks of after that before did not have, rendered. A
// principal already administrator-equivalent before has nothing more to
// gain (the rule then leaves its escalations unlisted, which must not read
// as new ones once a change makes it less than that).
func newRisks(before, after policy.Input, acct string) []string {
	o := policy.RiskOptions{Account: acct}
	had := map[string]bool{}
	for _, r := range policy.Risks(before, o) {
		if r.Code == policy.CodeAdminEquivalent {
			return nil
		}
		for _, a := range r.Actions {
			had[r.Code+" "+a] = true
		}
	}
	var out []string
	for _, r := range policy.Risks(after, o) {
		for _, a := range r.Actions {
			if !had[r.Code+" "+a] {
				out = append(out, describeRisk(r))
				break
			}
		}
	}
	return out
}

// restricts says whether a document can restrict anything: whether it has
// a statement that is not an Allow (IAM accepts only "Allow" and "Deny";
// anything else is counted as a Deny here, to be safe). See the shortcut
// above.
func restricts(d *policy.Document) bool {
	if d == nil {
		return true
	}
	for _, st := range d.Statements {
		if st.Effect != "Allow" {
			return true
		}
	}
	return false
}

// without is g's identity policies with holder h's matching ones taken
// away: a source held by h and someone else (a managed policy attached to
// the user and to its group) stays.
func without(g *gatherer, h string, match func(i int, s policy.Source) bool) policy.Input {
	out := policy.Input{Boundaries: g.in.Boundaries}
	for i, s := range g.in.Identity {
		if i < len(g.from) && containsFold(g.from[i], h) && match(i, s) {
			rest := 0
			for _, f := range g.from[i] {
				if !strings.EqualFold(f, h) {
					rest++
				}
			}
			if rest == 0 {
				continue
			}
		}
		out.Identity = append(out.Identity, s)
	}
	return out
}

// isManaged says whether a gathered identity source is a managed policy.
func isManaged(s policy.Source) bool { return s.Type == "user-managed" || s.Type == "aws-managed" }

// readDoc parses a stored document; a failure fails the check closed.
func readDoc(p *string) (*policy.Document, error) {
	d, err := policy.Parse(decodeDocument(p).String())
	if err != nil {
		return nil, api.Errorf(api.Internal, "the stored document does not parse: %v", err)
	}
	return d, nil
}

// members lists a group's users (paginated GetGroup).
func (c *Catalogue) members(ctx context.Context, group string) ([]who, error) {
	users, err := allPages(ctx, iam.NewGetGroupPaginator(c.clients.IAM, &iam.GetGroupInput{GroupName: aws.String(group)}),
		func(o *iam.GetGroupOutput) []types.User { return o.Users })
	if err != nil {
		return nil, err
	}
	out := make([]who, 0, len(users))
	for _, u := range users {
		out = append(out, who{"user", str(u.UserName)})
	}
	return out, nil
}

// reachOf is who a principal-level change reaches: the user or role, or a
// group's members.
func (c *Catalogue) reachOf(ctx context.Context, kind, name string) ([]who, error) {
	if kind == "group" {
		return c.members(ctx, name)
	}
	return []who{{kind, name}}, nil
}

// reachWords says whom a change on kind name reaches, for messages.
func reachWords(kind, name string) string {
	if kind == "group" {
		return "the members of group " + name
	}
	return kind + " " + name
}

// guardDetach judges detaching a managed policy from a user, role or
// group (every member).
func (c *Catalogue) guardDetach(ctx context.Context, kind, name, policyARN string) ([]string, error) {
	doing := "detaching " + policyARN + " from " + kind + " " + name
	v, err := c.policyVersion(ctx, policyARN, "")
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the detach would fail the same way
		}
		return c.readFailed(err, "the document of "+policyARN, doing)
	}
	d, err := readDoc(v.Document)
	if err != nil {
		return c.readFailed(err, "the document of "+policyARN, doing)
	}
	if !restricts(d) {
		return nil, nil // see the shortcut above
	}
	list, err := c.reachOf(ctx, kind, name)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err
		}
		return c.readFailed(err, "the members of group "+name, doing)
	}
	h := kind + " " + name
	w := widening{
		doing:   doing,
		holding: "the Deny statements of " + policyARN + " are",
		advice:  "Narrow the policies that grant it first (the statements named), or keep the restriction: put its Deny statements in another policy of the " + kind + " before detaching this one",
		change: func(g *gatherer) policy.Input {
			return without(g, h, func(_ int, s policy.Source) bool { return isManaged(s) && strings.EqualFold(s.ID, policyARN) })
		},
	}
	return c.judgeMany(ctx, w, list, reachWords(kind, name), kind == "group")
}

// guardInline judges deleting (doc nil) or replacing an inline policy of a
// user, role or group (every member). old is its stored document, read by
// the caller (nil when there is none: then nothing is taken away).
func (c *Catalogue) guardInline(ctx context.Context, k principalKind, principal, name string, old *string, doc *api.PolicyDocument) ([]string, error) {
	if old == nil {
		return nil, nil
	}
	doing := "deleting inline policy " + name + " of " + k.kind + " " + principal
	if doc != nil {
		doing = "replacing inline policy " + name + " of " + k.kind + " " + principal
	}
	d, err := readDoc(old)
	if err != nil {
		return c.readFailed(err, "inline policy "+name+" of "+k.kind+" "+principal, doing)
	}
	if !restricts(d) {
		return nil, nil // see the shortcut above
	}
	var next *policy.Source
	if doc != nil {
		nd, err := policy.Parse(doc.String())
		if err != nil {
			// guardDocument has passed it; a document our parser still
			// refuses cannot be judged, so the check fails closed.
			return c.readFailed(api.Errorf(api.InvalidInput, "%v", err), "the new document", doing)
		}
		next = &policy.Source{ID: name, Type: k.kind, Doc: nd}
	}
	list, err := c.reachOf(ctx, k.kind, principal)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err
		}
		return c.readFailed(err, "the members of group "+principal, doing)
	}
	h := k.kind + " " + principal
	w := widening{
		doing:   doing,
		holding: "its Deny statements are",
		advice:  "Narrow the policies that grant it first (the statements named), or keep the Deny statements in the " + k.kind + "'s policies",
		change: func(g *gatherer) policy.Input {
			// The policy IAM found under this name: the exact name, or,
			// if IAM matched it without regard to case, the one that
			// differs only in case.
			exact := false
			for i, s := range g.in.Identity {
				if s.Type == k.kind && s.ID == name && i < len(g.from) && containsFold(g.from[i], h) {
					exact = true
				}
			}
			in := without(g, h, func(_ int, s policy.Source) bool {
				if s.Type != k.kind {
					return false
				}
				if exact {
					return s.ID == name
				}
				return strings.EqualFold(s.ID, name)
			})
			if next != nil {
				in.Identity = append(in.Identity, *next)
			}
			return in
		},
	}
	return c.judgeMany(ctx, w, list, reachWords(k.kind, principal), k.kind == "group")
}

// guardReplaceInline judges putting doc as inline policy name of a user,
// role or group over the document stored under that name, and returns the
// stored one (nil when there is none, or it could not be read and
// --allow-risky-policies let the write go on).
func (c *Catalogue) guardReplaceInline(ctx context.Context, k principalKind, principal, name string, doc api.PolicyDocument) (*string, []string, error) {
	_, old, err := k.get(ctx, c.clients.IAM, aws.String(principal), aws.String(name))
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			// No such policy: nothing is replaced. (Or no such principal:
			// the put then answers so, naming it.)
			return nil, nil, nil
		}
		w, err := c.readFailed(err, "inline policy "+name+" of "+k.kind+" "+principal, "replacing it")
		return nil, w, err
	}
	if old == nil || sameDocument(decodeDocument(old), doc) {
		return old, nil, nil
	}
	w, err := c.guardInline(ctx, k, principal, name, old, &doc)
	return old, w, err
}

// guardDeleteInline judges deleting inline policy name of a user, role or
// group.
func (c *Catalogue) guardDeleteInline(ctx context.Context, k principalKind, principal, name string) ([]string, error) {
	_, old, err := k.get(ctx, c.clients.IAM, aws.String(principal), aws.String(name))
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the delete would fail the same way
		}
		return c.readFailed(err, "inline policy "+name+" of "+k.kind+" "+principal, "deleting it")
	}
	return c.guardInline(ctx, k, principal, name, old, nil)
}

// guardSetDefault judges making a stored version of a managed policy the
// default, for what the current default holds back.
func (c *Catalogue) guardSetDefault(ctx context.Context, policyARN, versionID string) ([]string, error) {
	v, err := c.policyVersion(ctx, policyARN, versionID)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the change would fail the same way
		}
		return c.readFailed(err, "version "+versionID+" of "+policyARN, "making it the default")
	}
	d, err := readDoc(v.Document)
	if err != nil {
		return c.readFailed(err, "version "+versionID+" of "+policyARN, "making it the default")
	}
	return c.guardNewDefault(ctx, policyARN, versionID, d)
}

// guardNewDocDefault judges create_policy_version with set_as_default:
// doc becomes the default at once.
func (c *Catalogue) guardNewDocDefault(ctx context.Context, policyARN string, doc api.PolicyDocument) ([]string, error) {
	d, err := policy.Parse(doc.String())
	if err != nil {
		return c.readFailed(api.Errorf(api.InvalidInput, "%v", err), "the new version", "making it the default")
	}
	return c.guardNewDefault(ctx, policyARN, "the new version", d)
}

// guardGroupLeave judges removing a user from a group: the user without
// the group's policies.
func (c *Catalogue) guardGroupLeave(ctx context.Context, group, user string) ([]string, error) {
	return c.guardGroupDrop(ctx, group, user)
}

// guardGroupDelete judges deleting a group with force (its members are
// removed first): every member loses the group's policies.
func (c *Catalogue) guardGroupDelete(ctx context.Context, group string) ([]string, error) {
	return c.guardGroupDrop(ctx, group, "")
}

// guardGroupDrop judges user (every member when "") losing group's
// policies.
func (c *Catalogue) guardGroupDrop(ctx context.Context, group, user string) ([]string, error) {
	doing := "removing user " + user + " from group " + group
	if user == "" {
		doing = "deleting group " + group + " with its members and policies"
	}
	g, err := c.groupPolicies(ctx, group)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err // the removal would fail the same way
		}
		return c.readFailed(err, "the policies of group "+group, doing)
	}
	deny := false
	for _, s := range g.in.Identity {
		deny = deny || restricts(s.Doc)
	}
	if !deny {
		return nil, nil // see the shortcut above
	}
	h := "group " + group
	w := widening{
		doing:   doing,
		holding: "the Deny statements of the group's policies are",
		advice:  "Narrow the user's other policies first (the statements named), or give the user the same Deny statements another way before removing it",
		change: func(g *gatherer) policy.Input {
			return without(g, h, func(int, policy.Source) bool { return true })
		},
	}
	if user != "" {
		return c.judgeMany(ctx, w, []who{{"user", user}}, "user "+user, false)
	}
	list, err := c.members(ctx, group)
	if err != nil {
		return c.readFailed(err, "the members of group "+group, doing)
	}
	return c.judgeMany(ctx, w, list, "the members of group "+group, true)
}

// guardNewDefault judges a managed policy's default version changing to
// doc (versionID for messages): every user and role it is attached to,
// directly or through a group, or that it bounds.
func (c *Catalogue) guardNewDefault(ctx context.Context, policyARN, versionID string, doc *policy.Document) ([]string, error) {
	doing := "making " + versionID + " the default version of " + policyARN
	v, err := c.policyVersion(ctx, policyARN, "")
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err
		}
		return c.readFailed(err, "the default version of "+policyARN, doing)
	}
	if str(v.VersionId) == versionID {
		return nil, nil // already the default: nothing changes
	}
	old, err := readDoc(v.Document)
	if err != nil {
		return c.readFailed(err, "the default version of "+policyARN, doing)
	}
	if !restricts(old) {
		return nil, nil // see the shortcut above
	}
	list, err := c.attachedTo(ctx, policyARN)
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, err
		}
		return c.readFailed(err, "the users, groups and roles "+policyARN+" is attached to", doing)
	}
	w := widening{
		doing:   doing,
		holding: "the Deny statements of its current default version " + str(v.VersionId) + " are",
		advice:  "Keep those Deny statements in the new version, or narrow the policies that grant it first (the statements named)",
		change: func(g *gatherer) policy.Input {
			swap := func(l []policy.Source) []policy.Source {
				out := make([]policy.Source, len(l))
				for i, s := range l {
					if strings.EqualFold(s.ID, policyARN) && (isManaged(s) || s.Type == sourceBoundary) {
						s.Doc = doc
					}
					out[i] = s
				}
				return out
			}
			return policy.Input{Identity: swap(g.in.Identity), Boundaries: swap(g.in.Boundaries)}
		},
	}
	return c.judgeMany(ctx, w, list, "every user and role "+policyARN+" applies to", true)
}

// attachedTo lists the users and roles a managed policy applies to: those
// it is attached to or bounds, and the members of the groups it is
// attached to, each once (paginated ListEntitiesForPolicy and GetGroup).
// Reading stops early once the list is past maxJudgedPrincipals.
func (c *Catalogue) attachedTo(ctx context.Context, policyARN string) ([]who, error) {
	var out []who
	seen := map[string]bool{}
	add := func(w who) {
		k := strings.ToLower(w.String())
		if !seen[k] {
			seen[k] = true
			out = append(out, w)
		}
	}
	p := iam.NewListEntitiesForPolicyPaginator(c.clients.IAM, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(policyARN)})
	var groups []string
	for p.HasMorePages() && len(out) <= maxJudgedPrincipals {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range o.PolicyUsers {
			add(who{"user", str(u.UserName)})
		}
		for _, r := range o.PolicyRoles {
			add(who{"role", str(r.RoleName)})
		}
		for _, g := range o.PolicyGroups {
			groups = append(groups, str(g.GroupName))
		}
	}
	for _, g := range groups {
		if len(out) > maxJudgedPrincipals {
			break
		}
		ms, err := c.members(ctx, g)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			add(m)
		}
	}
	return out, nil
}

func riskyRefusal(what, reach string, risky []string) error {
	return api.Errorf(api.RiskyPolicy, "refused %s, which would apply to %s: %s. Nothing was written. Grant only what is needed (validate_policy checks a draft); if this grant is intended, the operator can restart the server with --allow-risky-policies",
		what, reach, listRisks(risky))
}

func riskyAllowed(reach string, risky []string) []string {
	out := make([]string, 0, maxListedRisks+1)
	for i, r := range risky {
		if i == maxListedRisks {
			out = append(out, fmt.Sprintf("and %d more risks (validate_policy lists them all)", len(risky)-i))
			break
		}
		out = append(out, "written because of --allow-risky-policies, but risky for "+reach+": "+r)
	}
	return out
}

// describeFinding renders a finding with its place, for messages.
func describeFinding(f policy.Finding) string {
	return describeAt(string(f.Severity), f.Code, f.Statement, f.Sid, "", f.Field, f.Message)
}

// describeAt renders "[SEVERITY CODE at statement N (Sid "x") of SOURCE,
// FIELD] message"; statement < 0 and empty parts are left out.
func describeAt(severity, code string, statement int, sid, source, field, message string) string {
	var where []string
	if statement >= 0 {
		s := fmt.Sprintf("statement %d", statement)
		if sid != "" {
			s += fmt.Sprintf(" (Sid %q)", sid)
		}
		if source != "" {
			s += " of " + source
		}
		where = append(where, s)
	}
	if field != "" {
		where = append(where, field)
	}
	loc := ""
	if len(where) > 0 {
		loc = " at " + strings.Join(where, ", ")
	}
	return fmt.Sprintf("[%s %s%s] %s", severity, code, loc, strings.TrimSuffix(message, "."))
}

// The validation options of the writes. Sizes are left to IAM
// (SizeLimit -1): the inline quotas count all of a principal's inline
// policies together and the trust quota can be raised, which only IAM
// knows, and its LimitExceeded is answered by sizeError with the numbers.
var (
	managedPolicyOptions = policy.ValidateOptions{SizeLimit: -1}
	inlinePolicyOptions  = policy.ValidateOptions{SizeLimit: -1, Inline: true}
)

// trustOptions are those of a role's trust policy in account.
func trustOptions(account string) policy.ValidateOptions {
	return policy.ValidateOptions{SizeLimit: -1, Account: account}
}

const noBoundaryWarning = "the role has no permissions boundary; if your organisation uses boundaries, set one with put_role_permissions_boundary"

// policyVersion reads one version of a managed policy, or its default
// version when versionID is "" (IAM has no call for "the default version":
// GetPolicy names it first).
func (c *Catalogue) policyVersion(ctx context.Context, policyARN, versionID string) (*types.PolicyVersion, error) {
	if versionID == "" {
		p, err := c.clients.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN)})
		if err != nil {
			return nil, err
		}
		versionID = str(p.Policy.DefaultVersionId)
	}
	v, err := c.clients.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(policyARN), VersionId: aws.String(versionID)})
	if err != nil {
		return nil, err
	}
	return v.PolicyVersion, nil
}
