package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// explain_access: read a principal's policies as IAM stores them, decide
// locally, and say which statement decided and what would change it.

func explainAccess(ctx context.Context, c *Catalogue, in *api.ExplainAccessInput) (*api.ExplainAccessOutput, error) {
	p, err := parsePrincipalARN("principal_arn", in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	resource := in.Resource
	if resource == "" {
		resource = "*"
	}
	if err := checkSimulationTargets([]string{in.Action}, []string{resource}); err != nil {
		return nil, err
	}
	// IAM reads only the caller's own account: a principal of another
	// account would be looked up by name here and explained wrongly.
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	if p.account != account {
		return nil, api.Errorf(api.InvalidInput, "principal_arn %s is in account %s, but the server's credentials are for account %s; explain_access reads the principal's policies, so it can only explain principals of that account", in.PrincipalArn, p.account, account)
	}
	g := c.newGatherer()
	tags, arn, err := g.identity(ctx, p.kind, p.name)
	if err != nil {
		return nil, err
	}
	// The name was looked up; the ARN's path must be that entity's too
	// (a role session's ARN carries no path).
	if !p.session && arn != in.PrincipalArn {
		return nil, api.Errorf(api.NoSuchEntity, "there is no %s with the ARN %s; the %s named %s has the ARN %s", p.kind, in.PrincipalArn, p.kind, p.name, arn)
	}
	if len(in.ResourcePolicy) > 0 {
		src, err := parseSource(in.ResourcePolicy, "resource_policy", sourceResource)
		if err != nil {
			return nil, err
		}
		g.in.Resource = []policy.Source{src}
		g.note(src, "the resource's own policy", "", in.ResourcePolicy.String())
	}
	reqCtx := contextOf(in.ContextEntries)
	p.addVars(reqCtx, tags)
	r := policy.Evaluate(g.in, policy.Request{Action: in.Action, Resource: resource, Context: reqCtx, Principal: in.PrincipalArn, PrincipalAccount: p.account})

	out := &api.ExplainAccessOutput{
		PrincipalArn: in.PrincipalArn, Action: in.Action, Resource: resource, Decision: string(r.Decision),
		DecidingStatements: []api.ExplainedStatement{}, PoliciesConsidered: g.considered,
		MissingContextValues: append([]string{}, r.MissingContextKeys...), AllowedByBoundary: r.BoundaryAllowed,
	}
	who := p.kind + " " + p.name
	verdict := map[policy.Decision]string{policy.Allowed: " can ", policy.ExplicitDeny: " cannot ", policy.ImplicitDeny: " cannot "}[r.Decision]
	out.Explanation = who + verdict + in.Action + " on " + resource + ": " + r.Reason + "."
	matched := append([]policy.Match{}, r.Matched...)
	sort.SliceStable(matched, func(i, j int) bool { return matched[i].Effect == "Deny" && matched[j].Effect != "Deny" })
	for _, m := range matched {
		key := sourceKey(m.SourceType, m.SourceID)
		out.DecidingStatements = append(out.DecidingStatements, api.ExplainedStatement{
			Policy: m.SourceID, PolicyKind: g.kinds[key], StatementIndex: m.Index, Sid: m.Sid, Effect: m.Effect,
			Statement: statementText(g.docs[key], m.Index),
		})
	}
	out.NextSteps = nextSteps(p, in.Action, resource, r, out.DecidingStatements)
	return out, nil
}

// gatherer collects the policies that apply to one principal.
type gatherer struct {
	c          *Catalogue
	in         policy.Input
	considered []api.ConsideredPolicy
	kinds      map[string]string // sourceKey → how the policy applies, for statements
	docs       map[string]string // sourceKey → document text, to quote statements
	managed    map[string]int    // managed policy ARN → index in considered (each is evaluated once)
	// from says, for each source of in.Identity (same index), whom it is
	// on ("user U", "group G", "role R"): a managed policy attached both to
	// a user and to its group is one source with two holders. The
	// guardrails need it to take away one holder's policies (a detach, a
	// group left) and keep the rest.
	from [][]string
	at   map[string]int // managed policy ARN → index in in.Identity
}

func sourceKey(typ, id string) string { return typ + "\x00" + id }

func (g *gatherer) note(src policy.Source, kind, version, doc string) {
	key := sourceKey(src.Type, src.ID)
	g.kinds[key], g.docs[key] = kind, doc
	g.considered = append(g.considered, api.ConsideredPolicy{Policy: src.ID, PolicyKind: kind, Version: version})
}

// add parses a stored document into a layer. IAM only stores valid
// documents, so a failure here is reported rather than skipped: an
// explanation that silently ignored a policy would mislead.
func (g *gatherer) add(layer *[]policy.Source, id, typ, kind, version, doc string) error {
	d, err := policy.Parse(doc)
	if err != nil {
		return api.Errorf(api.Internal, "could not read %s (%s): %v", id, kind, err)
	}
	src := policy.Source{ID: id, Type: typ, Doc: d}
	*layer = append(*layer, src)
	g.note(src, kind, version, doc)
	return nil
}

// addManaged adds a managed policy's default version, once per policy
// however many ways it is attached.
func (g *gatherer) addManaged(ctx context.Context, layer *[]policy.Source, arn, kind string) error {
	if i, seen := g.managed[arn]; seen && layer == &g.in.Identity {
		g.considered[i].PolicyKind += "; also " + kind
		return nil
	}
	v, err := g.c.policyVersion(ctx, arn, "")
	if err != nil {
		return err
	}
	typ := "user-managed"
	if strings.Contains(arn, ":iam::aws:policy/") {
		typ = "aws-managed"
	}
	if layer == &g.in.Boundaries {
		typ = sourceBoundary
	} else {
		g.managed[arn] = len(g.considered)
	}
	return g.add(layer, arn, typ, kind, str(v.VersionId), decodeDocument(v.Document).String())
}

// identity gathers a user's or role's inline and attached policies, a
// user's groups', and its boundary, and returns its tags and ARN.
func (g *gatherer) identity(ctx context.Context, kind, name string) (map[string]string, string, error) {
	k, cl, n := kindOf(kind), g.c.clients.IAM, aws.String(name)
	h, err := k.read(ctx, cl, n)
	if err != nil {
		return nil, "", err
	}
	if err := g.principal(ctx, k, name); err != nil {
		return nil, "", err
	}
	if kind == "user" {
		groups, err := allPages(ctx, iam.NewListGroupsForUserPaginator(cl, &iam.ListGroupsForUserInput{UserName: n}),
			func(o *iam.ListGroupsForUserOutput) []types.Group { return o.Groups })
		if err != nil {
			return nil, "", err
		}
		for _, grp := range groups {
			if err := g.principal(ctx, groupKind, str(grp.GroupName)); err != nil {
				return nil, "", err
			}
		}
	}
	return tagMap(h.tags), str(h.arn), g.boundary(ctx, h.boundary, kind+" "+name)
}

// principal gathers one user's, group's or role's inline policies and
// attached policies.
func (g *gatherer) principal(ctx context.Context, k principalKind, name string) error {
	cl, n, kind := g.c.clients.IAM, aws.String(name), k.kind
	names, err := k.names(ctx, cl, n)
	if err != nil {
		return err
	}
	for _, pn := range names {
		_, doc, err := k.get(ctx, cl, n, aws.String(pn))
		if err != nil {
			return err
		}
		if err := g.add(&g.in.Identity, pn, kind, "inline policy of "+kind+" "+name, "", decodeDocument(doc).String()); err != nil {
			return err
		}
		g.from = append(g.from, []string{kind + " " + name})
	}
	list, err := k.attached(ctx, cl, n)
	if err != nil {
		return err
	}
	for _, a := range list {
		n := len(g.in.Identity)
		if err := g.addManaged(ctx, &g.in.Identity, str(a.PolicyArn), "managed policy attached to "+kind+" "+name); err != nil {
			return err
		}
		g.attribute(n, str(a.PolicyArn), kind+" "+name)
	}
	return nil
}

// attribute records that who holds the managed policy arn just added at index
// n of in.Identity, or added before (then nothing was added).
func (g *gatherer) attribute(n int, arn, who string) {
	if g.at == nil {
		g.at = map[string]int{}
	}
	if len(g.in.Identity) > n {
		g.at[arn] = n
		g.from = append(g.from, []string{who})
		return
	}
	if i, ok := g.at[arn]; ok {
		g.from[i] = append(g.from[i], who)
	}
}

func (g *gatherer) boundary(ctx context.Context, b *types.AttachedPermissionsBoundary, who string) error {
	if b == nil || str(b.PermissionsBoundaryArn) == "" {
		return nil
	}
	return g.addManaged(ctx, &g.in.Boundaries, str(b.PermissionsBoundaryArn), "permissions boundary of "+who)
}

// nextSteps says what would change the decision, naming the statements and
// the catalogue's tools, so that the answer can be acted on.
func nextSteps(p principalRef, action, resource string, r policy.Result, stmts []api.ExplainedStatement) []string {
	var steps []string
	name := func(s api.ExplainedStatement) string {
		n := fmt.Sprintf("statement %d", s.StatementIndex)
		if s.Sid != "" {
			n += fmt.Sprintf(" (Sid %q)", s.Sid)
		}
		return n + " of " + s.Policy + " (" + s.PolicyKind + ")"
	}
	identityAllow := false
	for _, s := range stmts {
		if s.Effect == "Allow" && !strings.HasPrefix(s.PolicyKind, "permissions boundary") && s.PolicyKind != "the resource's own policy" {
			identityAllow = true
		}
	}
	switch r.Decision {
	case policy.ExplicitDeny:
		for _, s := range stmts {
			if s.Effect == "Deny" {
				steps = append(steps, name(s)+" denies it. An explicit deny overrides every allow: to permit the request, narrow that statement (its Action, Resource or Condition) or remove it; if the deny is meant, the answer stands.")
			}
		}
	case policy.ImplicitDeny:
		if identityAllow && r.BoundaryAllowed != nil && !*r.BoundaryAllowed {
			steps = append(steps, fmt.Sprintf("The %s's own policies allow it, but its permissions boundary does not, and a boundary caps what the policies grant. Add %s on %s to the boundary policy (create_policy_version on it), or give the %s another boundary (put_%s_permissions_boundary).", p.kind, action, resource, p.kind, p.kind))
		} else if !identityAllow {
			stmt, _ := json.Marshal(map[string]any{"Effect": "Allow", "Action": action, "Resource": resource})
			steps = append(steps, fmt.Sprintf("No policy of the %s allows it. To allow it, add the statement %s with put_%s_policy, or attach a managed policy that grants it (attach_%s_policy); check the draft first with simulate_custom_policy.", p.kind, stmt, p.kind, p.kind))
		}
		if len(r.MissingContextKeys) > 0 {
			steps = append(steps, "Conditions read "+strings.Join(r.MissingContextKeys, ", ")+", which this request did not supply, so statements with them did not match. Pass the values the real request carries as context_entries to see the answer with them.")
		}
	case policy.Allowed:
		for _, s := range stmts {
			if s.Effect == "Allow" {
				steps = append(steps, "Allowed through "+name(s)+". To take this access away, narrow or remove that statement (or detach its policy), or add a Deny statement for "+action+" on "+resource+": an explicit deny wins over every allow.")
				break
			}
		}
	}
	if len(steps) == 0 {
		steps = append(steps, r.Reason)
	}
	return steps
}
