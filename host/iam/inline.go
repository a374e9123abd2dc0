package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Inline policies of users, roles and groups. The twelve operations differ
// only in the SDK call and the name of the principal's field, so one
// implementation runs them all over a table of SDK calls per kind
// (inlineKind), and registerInline adapts each kind's input types to it.

func init() {
	registerInline(userInline,
		func(in *api.PutUserPolicyInput) (string, string, api.PolicyDocument) {
			return in.UserName, in.PolicyName, in.PolicyDocument
		},
		func(in *api.UserPolicyNameInput) (string, string) { return in.UserName, in.PolicyName },
		func(in *api.UserPageInput) (string, api.PageInput) { return in.UserName, in.PageInput })
	registerInline(roleInline,
		func(in *api.PutRolePolicyInput) (string, string, api.PolicyDocument) {
			return in.RoleName, in.PolicyName, in.PolicyDocument
		},
		func(in *api.RolePolicyNameInput) (string, string) { return in.RoleName, in.PolicyName },
		func(in *api.RolePageInput) (string, api.PageInput) { return in.RoleName, in.PageInput })
	registerInline(groupInline,
		func(in *api.PutGroupPolicyInput) (string, string, api.PolicyDocument) {
			return in.GroupName, in.PolicyName, in.PolicyDocument
		},
		func(in *api.GroupPolicyNameInput) (string, string) { return in.GroupName, in.PolicyName },
		func(in *api.GroupPageInput) (string, api.PageInput) { return in.GroupName, in.PageInput })
}

// inlineKind is what differs between the inline policies of users, roles
// and groups: the SDK calls, IAM's size quota and who a grant reaches.
type inlineKind struct {
	kind string // "user", "role" or "group", as in the operation names
	// limit is IAM's quota in characters without whitespace (for users and
	// groups AWS counts it across all of the principal's inline policies).
	limit int
	// reach says whom a policy on the named principal grants to.
	reach func(principal string) string

	put  func(ctx context.Context, cl *awsiam.Client, principal, name, doc *string) error
	get  func(ctx context.Context, cl *awsiam.Client, principal, name *string) (canonical, doc *string, err error)
	del  func(ctx context.Context, cl *awsiam.Client, principal, name *string) error
	list func(ctx context.Context, cl *awsiam.Client, principal *string, pg api.PageInput) ([]string, api.Page, error)
}

var userInline = inlineKind{
	kind: "user", limit: 2048,
	reach: func(p string) string { return "user " + p },
	put: func(ctx context.Context, cl *awsiam.Client, p, n, doc *string) error {
		_, err := cl.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: p, PolicyName: n, PolicyDocument: doc})
		return err
	},
	get: func(ctx context.Context, cl *awsiam.Client, p, n *string) (*string, *string, error) {
		out, err := cl.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: p, PolicyName: n})
		if err != nil {
			return nil, nil, err
		}
		return out.UserName, out.PolicyDocument, nil
	},
	del: func(ctx context.Context, cl *awsiam.Client, p, n *string) error {
		_, err := cl.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: p, PolicyName: n})
		return err
	},
	list: func(ctx context.Context, cl *awsiam.Client, p *string, pg api.PageInput) ([]string, api.Page, error) {
		out, err := cl.ListUserPolicies(ctx, &awsiam.ListUserPoliciesInput{UserName: p, MaxItems: optInt32(pg.MaxItems), Marker: optStr(pg.Marker)})
		if err != nil {
			return nil, api.Page{}, err
		}
		return out.PolicyNames, page(out.IsTruncated, out.Marker), nil
	},
}

var roleInline = inlineKind{
	kind: "role", limit: 10240,
	reach: func(p string) string { return "role " + p + " (and whoever assumes it)" },
	put: func(ctx context.Context, cl *awsiam.Client, p, n, doc *string) error {
		_, err := cl.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: p, PolicyName: n, PolicyDocument: doc})
		return err
	},
	get: func(ctx context.Context, cl *awsiam.Client, p, n *string) (*string, *string, error) {
		out, err := cl.GetRolePolicy(ctx, &awsiam.GetRolePolicyInput{RoleName: p, PolicyName: n})
		if err != nil {
			return nil, nil, err
		}
		return out.RoleName, out.PolicyDocument, nil
	},
	del: func(ctx context.Context, cl *awsiam.Client, p, n *string) error {
		_, err := cl.DeleteRolePolicy(ctx, &awsiam.DeleteRolePolicyInput{RoleName: p, PolicyName: n})
		return err
	},
	list: func(ctx context.Context, cl *awsiam.Client, p *string, pg api.PageInput) ([]string, api.Page, error) {
		out, err := cl.ListRolePolicies(ctx, &awsiam.ListRolePoliciesInput{RoleName: p, MaxItems: optInt32(pg.MaxItems), Marker: optStr(pg.Marker)})
		if err != nil {
			return nil, api.Page{}, err
		}
		return out.PolicyNames, page(out.IsTruncated, out.Marker), nil
	},
}

var groupInline = inlineKind{
	kind: "group", limit: 5120,
	reach: func(p string) string { return "every member of group " + p },
	put: func(ctx context.Context, cl *awsiam.Client, p, n, doc *string) error {
		_, err := cl.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: p, PolicyName: n, PolicyDocument: doc})
		return err
	},
	get: func(ctx context.Context, cl *awsiam.Client, p, n *string) (*string, *string, error) {
		out, err := cl.GetGroupPolicy(ctx, &awsiam.GetGroupPolicyInput{GroupName: p, PolicyName: n})
		if err != nil {
			return nil, nil, err
		}
		return out.GroupName, out.PolicyDocument, nil
	},
	del: func(ctx context.Context, cl *awsiam.Client, p, n *string) error {
		_, err := cl.DeleteGroupPolicy(ctx, &awsiam.DeleteGroupPolicyInput{GroupName: p, PolicyName: n})
		return err
	},
	list: func(ctx context.Context, cl *awsiam.Client, p *string, pg api.PageInput) ([]string, api.Page, error) {
		out, err := cl.ListGroupPolicies(ctx, &awsiam.ListGroupPoliciesInput{GroupName: p, MaxItems: optInt32(pg.MaxItems), Marker: optStr(pg.Marker)})
		if err != nil {
			return nil, api.Page{}, err
		}
		return out.PolicyNames, page(out.IsTruncated, out.Marker), nil
	},
}

// registerInline registers put_, get_, delete_ and list_<kind>_policies,
// given how to read the principal, policy name, document and page out of
// the kind's own input types.
func registerInline[Put, Named, Paged any](k inlineKind,
	putArgs func(*Put) (string, string, api.PolicyDocument),
	namedArgs func(*Named) (string, string),
	pagedArgs func(*Paged) (string, api.PageInput),
) {
	implementLegacy("put_"+k.kind+"_policy", func(ctx context.Context, c *Catalogue, in *Put) (*api.Result, error) {
		principal, name, doc := putArgs(in)
		return k.putPolicy(ctx, c, principal, name, doc)
	})
	implement("get_"+k.kind+"_policy", func(ctx context.Context, c *Catalogue, in *Named) (*api.InlinePolicyOutput, error) {
		principal, name := namedArgs(in)
		return k.getPolicy(ctx, c, principal, name)
	})
	implementLegacy("delete_"+k.kind+"_policy", func(ctx context.Context, c *Catalogue, in *Named) (*api.Result, error) {
		principal, name := namedArgs(in)
		return k.deletePolicy(ctx, c, principal, name)
	})
	implement("list_"+k.kind+"_policies", func(ctx context.Context, c *Catalogue, in *Paged) (*api.InlinePolicyNamesOutput, error) {
		principal, pg := pagedArgs(in)
		return k.listPolicies(ctx, c, principal, pg)
	})
}

// putPolicy writes an inline policy, reading it first so the result says
// whether it was created or replaced (an overwrite is destructive: the
// assistant should know one happened).
func (k inlineKind) putPolicy(ctx context.Context, c *Catalogue, principal, name string, doc api.PolicyDocument) (*api.Result, error) {
	warnings, err := c.guardDocument(ctx, doc, policy.IdentityPolicy, inlinePolicyOptions, "inline policy "+name+" on "+k.kind+" "+principal, k.reach(principal))
	if err != nil {
		return nil, err
	}
	p, n := aws.String(principal), aws.String(name)
	// Replacing a document takes the old one away: what its Deny
	// statements held back is judged (guardrails.go, "Removals").
	old, more, err := c.guardReplaceInline(ctx, k, principal, name, doc)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, more...)
	// NoSuchEntity may also mean the principal is missing; the put then
	// answers so, naming it.
	if err := k.put(ctx, c.clients.IAM, p, n, aws.String(doc.String())); err != nil {
		if isCode(err, "LimitExceeded") {
			return nil, k.sizeError(doc, err)
		}
		return nil, err
	}
	res := &api.Result{Message: "created inline policy " + name + " on " + k.kind + " " + principal, Warnings: warnings}
	switch {
	case old != nil && sameDocument(decodeDocument(old), doc):
		res.Message = "inline policy " + name + " on " + k.kind + " " + principal + " already had this document; it is unchanged"
	case old != nil:
		res.Message = "replaced inline policy " + name + " on " + k.kind + " " + principal + "; the previous document is gone"
	}
	return res, nil
}

// sameDocument compares two documents as JSON values, so layout and key
// order do not count as a change.
func sameDocument(a, b api.PolicyDocument) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func (k inlineKind) getPolicy(ctx context.Context, c *Catalogue, principal, name string) (*api.InlinePolicyOutput, error) {
	canonical, doc, err := k.get(ctx, c.clients.IAM, aws.String(principal), aws.String(name))
	if err != nil {
		return nil, k.notFound(err, principal)
	}
	if s := str(canonical); s != "" {
		principal = s
	}
	return &api.InlinePolicyOutput{PrincipalName: principal, PolicyName: name, PolicyDocument: decodeDocument(doc)}, nil
}

func (k inlineKind) deletePolicy(ctx context.Context, c *Catalogue, principal, name string) (*api.Result, error) {
	p, n := aws.String(principal), aws.String(name)
	warnings, err := c.guardDeleteInline(ctx, k, principal, name)
	if err != nil {
		return nil, k.notFound(err, principal)
	}
	if err := k.del(ctx, c.clients.IAM, p, n); err != nil {
		return nil, k.notFound(err, principal)
	}
	return &api.Result{Message: "deleted inline policy " + name + " from " + k.kind + " " + principal, Warnings: warnings}, nil
}

func (k inlineKind) listPolicies(ctx context.Context, c *Catalogue, principal string, pg api.PageInput) (*api.InlinePolicyNamesOutput, error) {
	names, p, err := k.list(ctx, c.clients.IAM, aws.String(principal), pg)
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = []string{}
	}
	return &api.InlinePolicyNamesOutput{PolicyNames: names, Page: p}, nil
}

// notFound points a missing policy at the list that shows what exists.
// IAM's message says which is missing ("The user policy with name x cannot
// be found." or "The user with name bob cannot be found."); a missing
// principal keeps the general hint.
func (k inlineKind) notFound(err error, principal string) error {
	var ae interface{ ErrorMessage() string }
	if !isCode(err, "NoSuchEntity") || !errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), " policy with name ") {
		return err
	}
	return api.Errorf(api.NoSuchEntity, "IAM answered NoSuchEntity: %s. list_%s_policies with %s_name %q shows its inline policies; a managed policy is read with get_managed_policy_document instead.",
		strings.TrimSuffix(ae.ErrorMessage(), "."), k.kind, k.kind, principal)
}

// sizeError explains IAM's size quota. AWS counts it over all of a
// principal's inline policies together, so a document under the quota can
// still be refused when its siblings take the rest.
func (k inlineKind) sizeError(doc api.PolicyDocument, err error) error {
	const advice = "Shorten it (merge statements, drop repeated actions or resources), or make it a managed policy with create_policy (up to 6,144 characters, 10 attached per principal)."
	n := policy.Size(doc.String())
	if n > k.limit {
		return sizeError(doc, "the inline policies of a "+k.kind, k.limit, advice)
	}
	return api.Errorf(api.LimitExceeded, "IAM refused the policy (%s): a %s's inline policies together may have at most %d characters without whitespace, and this one has %d on top of the others, so nothing was written. Delete or shorten another inline policy of the %s, or: %s",
		asAPIError(err).Message, k.kind, k.limit, n, k.kind, advice)
}
