package iam

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/host/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The write guardrails. Every operation that changes what a principal may
// do asks the policy engine first, and all of them get the same answer for
// the same grant, because all of them use the guardrail decision rule of
// host/policy (risk.go: decided by evaluating the requests that matter, with
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
//   - removing or replacing a permissions boundary judges the principal's
//     policies (its own and its groups') with the new boundary, or none,
//     against the old one: what the boundary was holding back.
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
//     the catalogue of actions ages, and IAM accepts them. They are warnings.
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
	var where []string
	if r.Statement >= 0 {
		s := fmt.Sprintf("statement %d", r.Statement)
		if r.Sid != "" {
			s += fmt.Sprintf(" (Sid %q)", r.Sid)
		}
		if r.Source != "" {
			s += " of " + r.Source
		}
		where = append(where, s)
	}
	if r.Field != "" {
		where = append(where, r.Field)
	}
	loc := ""
	if len(where) > 0 {
		loc = " at " + strings.Join(where, ", ")
	}
	return fmt.Sprintf("[%s %s%s] %s", r.Severity, r.Code, loc, strings.TrimSuffix(r.Message, "."))
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

// guardGroupMembership judges what a user gains by joining a group: the
// group's inline and attached policies, as if they were the user's own.
func (c *Catalogue) guardGroupMembership(ctx context.Context, group, user string) ([]string, error) {
	g := c.newGatherer()
	gn := aws.String(group)
	cl := c.clients.IAM
	err := g.principal(ctx, "group", group, groupInline, func() ([]types.AttachedPolicy, error) {
		return allPages(ctx, awsiam.NewListAttachedGroupPoliciesPaginator(cl, &awsiam.ListAttachedGroupPoliciesInput{GroupName: gn}),
			func(o *awsiam.ListAttachedGroupPoliciesOutput) []types.AttachedPolicy { return o.AttachedPolicies })
	})
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
	g := c.newGatherer()
	var err error
	if kind == "user" {
		_, _, err = g.user(ctx, name)
	} else {
		_, _, err = g.role(ctx, name)
	}
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
	doing := "removing the permissions boundary " + old[0].ID + " of " + kind + " " + name
	if newBoundary != "" {
		doing = "replacing the permissions boundary " + old[0].ID + " of " + kind + " " + name + " with " + newBoundary
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
	before, _ := c.guardSources(ctx, policy.Input{Identity: g.in.Identity, Boundaries: old})
	after, _ := c.guardSources(ctx, policy.Input{Identity: g.in.Identity, Boundaries: next})
	had := map[string]bool{}
	for _, r := range before {
		for _, a := range r.Actions {
			had[r.Code+" "+a] = true
		}
	}
	var held []string
	for _, r := range after {
		for _, a := range r.Actions {
			if !had[r.Code+" "+a] {
				held = append(held, describeRisk(r))
				break
			}
		}
	}
	if len(held) == 0 {
		return nil, nil
	}
	reach := kind + " " + name
	if !c.allowRisky {
		return nil, api.Errorf(api.RiskyPolicy, "refused %s: the boundary is holding back what %s's policies would otherwise grant: %s. Nothing was changed. Narrow the %s's policies first, or choose a boundary that still excludes this; if this is intended, the operator can restart the server with --allow-risky-policies",
			doing, reach, listRisks(held), kind)
	}
	return riskyAllowed(reach, held), nil
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
	var where []string
	if f.Statement >= 0 {
		s := fmt.Sprintf("statement %d", f.Statement)
		if f.Sid != "" {
			s += fmt.Sprintf(" (Sid %q)", f.Sid)
		}
		where = append(where, s)
	}
	if f.Field != "" {
		where = append(where, f.Field)
	}
	loc := ""
	if len(where) > 0 {
		loc = " at " + strings.Join(where, ", ")
	}
	return fmt.Sprintf("[%s %s%s] %s", f.Severity, f.Code, loc, strings.TrimSuffix(f.Message, "."))
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
		p, err := c.clients.IAM.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(policyARN)})
		if err != nil {
			return nil, err
		}
		versionID = str(p.Policy.DefaultVersionId)
	}
	v, err := c.clients.IAM.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(policyARN), VersionId: aws.String(versionID)})
	if err != nil {
		return nil, err
	}
	return v.PolicyVersion, nil
}
