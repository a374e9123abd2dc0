package catalogue

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	shortq "github.com/iammcp/iam-mcp-server/internal/quote"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The plan-time checks of groups, roles, instance profiles and tags. A
// planner refuses what IAM would refuse, with the code IAM would give, so
// that a dry run is refused as the real call is and the person is never
// asked to approve a change that cannot happen. IAM still decides at apply
// time: the state may change between plan and apply.

// refuseAtPlan is a planner's refusal of what IAM would refuse.
func refuseAtPlan(code api.ErrorCode, format string, args ...any) error {
	return api.Errorf(code, "IAM would refuse this: "+format, args...)
}

// notTaken checks that no kind (group, role, instance profile) is named
// name yet; find reads the one that is, returning its stored name, or
// IAM's NoSuchEntity. IAM names ignore case, so the one found may be
// spelled differently, and the message says so.
func notTaken(kind, name string, find func() (string, error)) error {
	existing, err := find()
	switch {
	case err == nil:
		as := ""
		if existing != name {
			as = " as " + existing + " (IAM names ignore case)"
		}
		article := "a"
		if strings.IndexByte("aeiou", kind[0]) >= 0 {
			article = "an"
		}
		return refuseAtPlan(api.EntityAlreadyExists, "%s %s named %s exists already%s. Nothing was created. Choose another name, or use the existing %s", article, kind, name, as, kind)
	case isCode(err, "NoSuchEntity"):
		return nil
	default:
		return err
	}
}

// oneLine is a JSON document as one line, for plan details: the person
// approving a trust policy sees all of it, however it was indented, with
// hidden characters escaped (shownDocument).
func oneLine(doc []byte) string { return shownDocument(api.PolicyDocument(doc)) }

// withResultWarnings makes p's result carry warnings too (the guardrails'
// findings, which the plan lists as well).
func withResultWarnings[O any](p *Planned[O], warnings []string, result func(*O) *api.Result) *Planned[O] {
	if len(warnings) == 0 {
		return p
	}
	apply := p.Apply
	p.Apply = func(ctx context.Context) (*O, error) {
		out, err := apply(ctx)
		if out != nil {
			r := result(out)
			r.Warnings = append(r.Warnings, warnings...)
		}
		return out, err
	}
	return p
}

// containsFold says whether names holds name, ignoring case as IAM does.
func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// userGroupsChecked is the check of the membership operations, in IAM's
// order: the group exists, then the user; it returns the user's groups
// (a user is in at most ten, so this is one page).
func (c *Catalogue) userGroupsChecked(ctx context.Context, group, user string) ([]string, error) {
	cl := c.clients.IAM
	if _, err := cl.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(group), MaxItems: aws.Int32(1)}); err != nil {
		return nil, err
	}
	return allPages(ctx, iam.NewListGroupsForUserPaginator(cl, &iam.ListGroupsForUserInput{UserName: aws.String(user)}),
		func(o *iam.ListGroupsForUserOutput) []string {
			return collect(o.Groups, func(g types.Group) *string { return g.GroupName })
		})
}

// maxGroupsPerUser is IAM's limit on the groups one user is in; AWS does
// not raise it.
const maxGroupsPerUser = 10

// planAttach plans attaching a managed policy to a group or role (kind),
// after guardAttach (whose warnings are given): the attachment, a note
// when it is there already (IAM then changes nothing), and its undo.
func (c *Catalogue) planAttach(ctx context.Context, kind, name, policyARN, summary string, warnings []string, attach func(ctx context.Context) error) (*changeBuilder, error) {
	arns, err := kindOf(kind).attachedARNs(ctx, c, name)
	if err != nil {
		return nil, err
	}
	entity := kind + "/" + name
	b := newChange(summary).
		call("Attach"+titleKind(kind)+"Policy", entity, attach).
		detail("attaches "+policyARN).
		affects(entity, policyARN).
		findings(warnings)
	if containsExact(arns, policyARN) {
		b.detail(policyARN + " is attached to " + kind + " " + name + " already: nothing will change")
		b.undo("nothing to undo")
	} else {
		b.undo("detach_" + kind + "_policy " + name + " " + policyARN)
	}
	return b, nil
}

// planDetach plans detaching a managed policy from a group or role (kind).
// A policy that is not attached is refused as IAM refuses it; the
// guardrail runs after that check (guard), on a detach that will happen.
func (c *Catalogue) planDetach(ctx context.Context, kind, name, policyARN, summary string, detach func(ctx context.Context) error) (*changeBuilder, []string, error) {
	arns, err := kindOf(kind).attachedARNs(ctx, c, name)
	if err != nil {
		return nil, nil, err
	}
	if !containsExact(arns, policyARN) {
		return nil, nil, refuseAtPlan(api.NoSuchEntity, "the policy %s is not attached to %s %s. Nothing was changed; list_attached_%s_policies shows what is", quoteARN(policyARN), kind, name, kind)
	}
	warnings, err := c.guardDetach(ctx, kind, name, policyARN)
	if err != nil {
		return nil, nil, err
	}
	entity := kind + "/" + name
	b := newChange(summary).
		call("Detach"+titleKind(kind)+"Policy", entity, detach).
		detail("detaches "+policyARN).
		affects(entity, policyARN).
		findings(warnings).
		undo("attach_" + kind + "_policy " + name + " " + policyARN)
	return b, warnings, nil
}

// titleKind is "Group" for "group", as IAM's action names spell it.
func titleKind(kind string) string {
	if kind == "" {
		return ""
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}

// containsExact says whether list holds s exactly: policy ARNs are
// compared as IAM compares them, case and all.
func containsExact(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// boundaryExists checks at plan time that the managed policy to set as a
// permissions boundary exists: IAM refuses an unknown one with
// InvalidInput ("does not exist or is not attachable"), the same code as
// here. Other read failures are returned: the plan cannot be made.
func (c *Catalogue) boundaryExists(ctx context.Context, arn, nothing string) error {
	_, err := c.clients.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if isCode(err, "NoSuchEntity") {
		return refuseAtPlan(api.InvalidInput, "the permissions boundary %s does not exist or is not attachable. Nothing was %s. Give the ARN of an existing managed policy (list_policies shows them)", quoteARN(arn), nothing)
	}
	return err
}

// quoteARN quotes an ARN the caller gave that IAM does not know, for a
// refusal: whole when it is as long as real ARNs are, cut beyond that
// (the argument's pattern does not bound its length).
func quoteARN(arn string) string { return shortq.Short(arn, 256) }

// countSteps says how many steps of b have each action, for summaries:
// "2 members, 1 attached policy".
func countSteps(b *changeBuilder, parts ...[3]string) string {
	n := map[string]int{}
	for _, s := range b.plan.Steps {
		n[strings.TrimPrefix(s.Action, "iam:")]++
	}
	var out []string
	for _, p := range parts {
		switch k := n[p[0]]; k {
		case 0:
		case 1:
			out = append(out, "1 "+p[1])
		default:
			out = append(out, fmt.Sprintf("%d %s", k, p[2]))
		}
	}
	return strings.Join(out, ", ")
}
