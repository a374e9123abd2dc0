package catalogue

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Users, groups and roles as holders of policies. IAM treats the three
// alike — inline policies put, read, deleted and listed; managed policies
// attached and detached — and only the SDK call and the name of the
// principal's field differ. So each is one table of SDK calls
// (principalKind), and what reads, lists or clears a principal's policies
// is written once over it: the inline operations (inline.go), get_user,
// get_group and get_role, the force deletes, explain_access and the
// guardrails.

// principalKind is what differs between users, groups and roles as holders
// of policies: the SDK calls, IAM's inline size quota and who a grant
// reaches.
type principalKind struct {
	kind string // "user", "role" or "group", as in the operation names
	// limit is IAM's inline quota in characters without whitespace (for
	// users and groups AWS counts it across all of the principal's inline
	// policies).
	limit int
	// reach says whom a policy on the named principal grants to.
	reach func(principal string) string

	// read reads the principal itself, which checks that it exists: a plan
	// refuses a missing one as IAM would (the policy reads answer
	// NoSuchEntity for a missing policy and a missing principal alike).
	read func(ctx context.Context, cl *iam.Client, principal *string) (principalInfo, error)

	// The inline policies: one, and one page of their names.
	put  func(ctx context.Context, cl *iam.Client, principal, name, doc *string) error
	get  func(ctx context.Context, cl *iam.Client, principal, name *string) (canonical, doc *string, err error)
	del  func(ctx context.Context, cl *iam.Client, principal, name *string) error
	list func(ctx context.Context, cl *iam.Client, principal *string, pg api.PageInput) ([]string, api.Page, error)
	// names are the names of all its inline policies, across all pages.
	names func(ctx context.Context, cl *iam.Client, principal *string) ([]string, error)

	// attached are all the managed policies attached to it, across all
	// pages; detach takes one off.
	attached func(ctx context.Context, cl *iam.Client, principal *string) ([]types.AttachedPolicy, error)
	detach   func(ctx context.Context, cl *iam.Client, principal, policyARN *string) error
}

var userKind = principalKind{
	kind: "user", limit: 2048,
	reach: func(p string) string { return "user " + p },
	read: func(ctx context.Context, cl *iam.Client, p *string) (principalInfo, error) {
		out, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: p})
		if err != nil {
			return principalInfo{}, err
		}
		return principalInfo{out.User.UserName, out.User.Arn, out.User.Tags, out.User.PermissionsBoundary}, nil
	},
	put: func(ctx context.Context, cl *iam.Client, p, n, doc *string) error {
		_, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: p, PolicyName: n, PolicyDocument: doc})
		return err
	},
	get: func(ctx context.Context, cl *iam.Client, p, n *string) (*string, *string, error) {
		out, err := cl.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: p, PolicyName: n})
		if err != nil {
			return nil, nil, err
		}
		return out.UserName, out.PolicyDocument, nil
	},
	del: func(ctx context.Context, cl *iam.Client, p, n *string) error {
		_, err := cl.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: p, PolicyName: n})
		return err
	},
	list: func(ctx context.Context, cl *iam.Client, p *string, pg api.PageInput) ([]string, api.Page, error) {
		out, err := cl.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: p, MaxItems: optInt32(pg.MaxItems), Marker: optStr(pg.Marker)})
		if err != nil {
			return nil, api.Page{}, err
		}
		return out.PolicyNames, page(out.IsTruncated, out.Marker), nil
	},
	names: func(ctx context.Context, cl *iam.Client, p *string) ([]string, error) {
		return allPages(ctx, iam.NewListUserPoliciesPaginator(cl, &iam.ListUserPoliciesInput{UserName: p}),
			func(o *iam.ListUserPoliciesOutput) []string { return o.PolicyNames })
	},
	attached: func(ctx context.Context, cl *iam.Client, p *string) ([]types.AttachedPolicy, error) {
		return allPages(ctx, iam.NewListAttachedUserPoliciesPaginator(cl, &iam.ListAttachedUserPoliciesInput{UserName: p}),
			func(o *iam.ListAttachedUserPoliciesOutput) []types.AttachedPolicy { return o.AttachedPolicies })
	},
	detach: func(ctx context.Context, cl *iam.Client, p, arn *string) error {
		_, err := cl.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: p, PolicyArn: arn})
		return err
	},
}

var roleKind = principalKind{
	kind: "role", limit: 10240,
	reach: func(p string) string { return "role " + p + " (and whoever assumes it)" },
	read: func(ctx context.Context, cl *iam.Client, p *string) (principalInfo, error) {
		out, err := cl.GetRole(ctx, &iam.GetRoleInput{RoleName: p})
		if err != nil {
			return principalInfo{}, err
		}
		return principalInfo{out.Role.RoleName, out.Role.Arn, out.Role.Tags, out.Role.PermissionsBoundary}, nil
	},
	put: func(ctx context.Context, cl *iam.Client, p, n, doc *string) error {
		_, err := cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: p, PolicyName: n, PolicyDocument: doc})
		return err
	},
	get: func(ctx context.Context, cl *iam.Client, p, n *string) (*string, *string, error) {
		out, err := cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: p, PolicyName: n})
		if err != nil {
			return nil, nil, err
		}
		return out.RoleName, out.PolicyDocument, nil
	},
	del: func(ctx context.Context, cl *iam.Client, p, n *string) error {
		_, err := cl.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: p, PolicyName: n})
		return err
	},
	list: func(ctx context.Context, cl *iam.Client, p *string, pg api.PageInput) ([]string, api.Page, error) {
		out, err := cl.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: p, MaxItems: optInt32(pg.MaxItems), Marker: optStr(pg.Marker)})
		if err != nil {
			return nil, api.Page{}, err
		}
		return out.PolicyNames, page(out.IsTruncated, out.Marker), nil
	},
	names: func(ctx context.Context, cl *iam.Client, p *string) ([]string, error) {
		return allPages(ctx, iam.NewListRolePoliciesPaginator(cl, &iam.ListRolePoliciesInput{RoleName: p}),
			func(o *iam.ListRolePoliciesOutput) []string { return o.PolicyNames })
	},
	attached: func(ctx context.Context, cl *iam.Client, p *string) ([]types.AttachedPolicy, error) {
		return allPages(ctx, iam.NewListAttachedRolePoliciesPaginator(cl, &iam.ListAttachedRolePoliciesInput{RoleName: p}),
			func(o *iam.ListAttachedRolePoliciesOutput) []types.AttachedPolicy { return o.AttachedPolicies })
	},
	detach: func(ctx context.Context, cl *iam.Client, p, arn *string) error {
		_, err := cl.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: p, PolicyArn: arn})
		return err
	},
}

var groupKind = principalKind{
	kind: "group", limit: 5120,
	reach: func(p string) string { return "every member of group " + p },
	read: func(ctx context.Context, cl *iam.Client, p *string) (principalInfo, error) {
		out, err := cl.GetGroup(ctx, &iam.GetGroupInput{GroupName: p, MaxItems: aws.Int32(1)})
		if err != nil {
			return principalInfo{}, err
		}
		return principalInfo{name: out.Group.GroupName, arn: out.Group.Arn}, nil
	},
	put: func(ctx context.Context, cl *iam.Client, p, n, doc *string) error {
		_, err := cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: p, PolicyName: n, PolicyDocument: doc})
		return err
	},
	get: func(ctx context.Context, cl *iam.Client, p, n *string) (*string, *string, error) {
		out, err := cl.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: p, PolicyName: n})
		if err != nil {
			return nil, nil, err
		}
		return out.GroupName, out.PolicyDocument, nil
	},
	del: func(ctx context.Context, cl *iam.Client, p, n *string) error {
		_, err := cl.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: p, PolicyName: n})
		return err
	},
	list: func(ctx context.Context, cl *iam.Client, p *string, pg api.PageInput) ([]string, api.Page, error) {
		out, err := cl.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: p, MaxItems: optInt32(pg.MaxItems), Marker: optStr(pg.Marker)})
		if err != nil {
			return nil, api.Page{}, err
		}
		return out.PolicyNames, page(out.IsTruncated, out.Marker), nil
	},
	names: func(ctx context.Context, cl *iam.Client, p *string) ([]string, error) {
		return allPages(ctx, iam.NewListGroupPoliciesPaginator(cl, &iam.ListGroupPoliciesInput{GroupName: p}),
			func(o *iam.ListGroupPoliciesOutput) []string { return o.PolicyNames })
	},
	attached: func(ctx context.Context, cl *iam.Client, p *string) ([]types.AttachedPolicy, error) {
		return allPages(ctx, iam.NewListAttachedGroupPoliciesPaginator(cl, &iam.ListAttachedGroupPoliciesInput{GroupName: p}),
			func(o *iam.ListAttachedGroupPoliciesOutput) []types.AttachedPolicy { return o.AttachedPolicies })
	},
	detach: func(ctx context.Context, cl *iam.Client, p, arn *string) error {
		_, err := cl.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: p, PolicyArn: arn})
		return err
	},
}

// principalInfo is what the catalogue reads of a principal itself (a group has
// neither tags nor a permissions boundary).
type principalInfo struct {
	name     *string // as IAM stores it, which may differ in case
	arn      *string
	tags     []types.Tag
	boundary *types.AttachedPermissionsBoundary
}

// kindOf is the principal kind named kind ("user", "group" or "role").
func kindOf(kind string) principalKind {
	switch kind {
	case "user":
		return userKind
	case "group":
		return groupKind
	case "role":
		return roleKind
	}
	panic("catalogue: no principal kind " + kind) // the callers name one of the three
}

// boundary is the ARN of a user's or role's permissions boundary, "" for
// none; reading it checks that the principal exists.
func (k principalKind) boundary(ctx context.Context, c *Catalogue, principal string) (string, error) {
	h, err := k.read(ctx, c.clients.IAM, aws.String(principal))
	if err != nil {
		return "", err
	}
	return boundaryARN(h.boundary), nil
}

// notTaken checks that no principal of this kind is named name yet, as
// IAM would refuse to create one (see notTaken).
func (k principalKind) notTaken(ctx context.Context, c *Catalogue, name string) error {
	return notTaken(k.kind, name, func() (string, error) {
		h, err := k.read(ctx, c.clients.IAM, aws.String(name))
		return str(h.name), err
	})
}

// entity names an inline policy in a plan: role/R/policy/NAME.
func (k principalKind) entity(principal, name string) string {
	return k.kind + "/" + principal + "/policy/" + name
}

// action is the IAM action of verb on this kind's policies ("Put" →
// "PutRolePolicy", "Detach" → "DetachRolePolicy").
func (k principalKind) action(verb string) string {
	return verb + strings.ToUpper(k.kind[:1]) + k.kind[1:] + "Policy"
}

// policies reads all of a principal's attached and then inline policies,
// which also checks it exists.
func (k principalKind) policies(ctx context.Context, c *Catalogue, principal string) ([]api.AttachedPolicy, []string, error) {
	attached, err := k.attachedPolicies(ctx, c, principal)
	if err != nil {
		return nil, nil, err
	}
	inline, err := k.names(ctx, c.clients.IAM, aws.String(principal))
	if err != nil {
		return nil, nil, err
	}
	return attached, inline, nil
}

// attachedPolicies are all the managed policies attached to a principal;
// a missing principal is IAM's NoSuchEntity.
func (k principalKind) attachedPolicies(ctx context.Context, c *Catalogue, principal string) ([]api.AttachedPolicy, error) {
	attached, err := k.attached(ctx, c.clients.IAM, aws.String(principal))
	if err != nil {
		return nil, err
	}
	return attachedOf(attached), nil
}

// attachedARNs are the ARNs of all the managed policies attached to a
// principal, which also checks it exists.
func (k principalKind) attachedARNs(ctx context.Context, c *Catalogue, principal string) ([]string, error) {
	attached, err := k.attached(ctx, c.clients.IAM, aws.String(principal))
	if err != nil {
		return nil, err
	}
	return collect(attached, func(a types.AttachedPolicy) *string { return a.PolicyArn }), nil
}

// planDetachAll adds to b a detach of every managed policy attached to a
// principal (a force delete's clean-up).
func (k principalKind) planDetachAll(ctx context.Context, c *Catalogue, b *changeBuilder, principal string) error {
	arns, err := k.attachedARNs(ctx, c, principal)
	if err != nil {
		return err
	}
	cl, p := c.clients.IAM, aws.String(principal)
	removeEach(b, k.action("Detach"), arns, func(arn string) string { return arn },
		func(ctx context.Context, arn string) error { return k.detach(ctx, cl, p, aws.String(arn)) })
	return nil
}

// planDeleteInlineAll adds to b a delete of every inline policy of a
// principal (a force delete's clean-up).
func (k principalKind) planDeleteInlineAll(ctx context.Context, c *Catalogue, b *changeBuilder, principal string) error {
	cl, p := c.clients.IAM, aws.String(principal)
	names, err := k.names(ctx, cl, p)
	if err != nil {
		return err
	}
	removeEach(b, k.action("Delete"), names, func(name string) string { return k.entity(principal, name) },
		func(ctx context.Context, name string) error { return k.del(ctx, cl, p, aws.String(name)) })
	return nil
}
