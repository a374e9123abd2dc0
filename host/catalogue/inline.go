package catalogue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Inline policies of users, roles and groups. The twelve operations differ
// only in the SDK call and the name of the principal's field, so one
// implementation runs them all over the table of SDK calls per kind
// (principalKind, principals.go), and registerInline adapts each kind's
// input types to it.

func init() {
	registerInline(userKind,
		func(in *api.PutUserPolicyInput) (string, string, api.PolicyDocument) {
			return in.UserName, in.PolicyName, in.PolicyDocument
		},
		func(in *api.UserPolicyNameInput) (string, string) { return in.UserName, in.PolicyName },
		func(in *api.UserPageInput) (string, api.PageInput) { return in.UserName, in.PageInput })
	registerInline(roleKind,
		func(in *api.PutRolePolicyInput) (string, string, api.PolicyDocument) {
			return in.RoleName, in.PolicyName, in.PolicyDocument
		},
		func(in *api.RolePolicyNameInput) (string, string) { return in.RoleName, in.PolicyName },
		func(in *api.RolePageInput) (string, api.PageInput) { return in.RoleName, in.PageInput })
	registerInline(groupKind,
		func(in *api.PutGroupPolicyInput) (string, string, api.PolicyDocument) {
			return in.GroupName, in.PolicyName, in.PolicyDocument
		},
		func(in *api.GroupPolicyNameInput) (string, string) { return in.GroupName, in.PolicyName },
		func(in *api.GroupPageInput) (string, api.PageInput) { return in.GroupName, in.PageInput })
}

// registerInline registers put_, get_, delete_ and list_<kind>_policies,
// given how to read the principal, policy name, document and page out of
// the kind's own input types.
func registerInline[Put, Named, Paged any](k principalKind,
	putArgs func(*Put) (string, string, api.PolicyDocument),
	namedArgs func(*Named) (string, string),
	pagedArgs func(*Paged) (string, api.PageInput),
) {
	implementChange("put_"+k.kind+"_policy", func(ctx context.Context, c *Catalogue, in *Put) (*Planned[api.Result], error) {
		principal, name, doc := putArgs(in)
		return k.putPolicy(ctx, c, principal, name, doc)
	})
	implement("get_"+k.kind+"_policy", func(ctx context.Context, c *Catalogue, in *Named) (*api.InlinePolicyOutput, error) {
		principal, name := namedArgs(in)
		return k.getPolicy(ctx, c, principal, name)
	})
	implementChange("delete_"+k.kind+"_policy", func(ctx context.Context, c *Catalogue, in *Named) (*Planned[api.Result], error) {
		principal, name := namedArgs(in)
		return k.deletePolicy(ctx, c, principal, name)
	})
	implement("list_"+k.kind+"_policies", func(ctx context.Context, c *Catalogue, in *Paged) (*api.InlinePolicyNamesOutput, error) {
		principal, pg := pagedArgs(in)
		return k.listPolicies(ctx, c, principal, pg)
	})
}

// putPolicy plans writing an inline policy, reading the one stored under
// the name first, so that the plan and the result say whether it is
// created or replaced (an overwrite is destructive: the person and the
// assistant should know one happens) and the undo can give back the
// previous document.
func (k principalKind) putPolicy(ctx context.Context, c *Catalogue, principal, name string, doc api.PolicyDocument) (*Planned[api.Result], error) {
	p, n := aws.String(principal), aws.String(name)
	_, err := k.read(ctx, c.clients.IAM, p)
	note, err := planRead(err, k.kind+" "+principal)
	if err != nil {
		return nil, err
	}
	warnings, err := c.guardDocument(ctx, doc, policy.IdentityPolicy, inlinePolicyOptions, "inline policy "+name+" on "+k.kind+" "+principal, k.reach(principal))
	if err != nil {
		return nil, err
	}
	// A document over the quota on its own is refused by IAM whatever else
	// the principal holds, and AWS does not raise these quotas: say so
	// before anyone is asked, which also bounds the plan that shows it.
	// (After the guardrail, as before plans: a risky document is refused
	// as risky, whatever its size.)
	if policy.Size(doc.String()) > k.limit {
		return nil, k.sizeError(doc, nil)
	}
	// Replacing a document takes the old one away: what its Deny
	// statements held back is judged (guardrails.go, "Removals").
	old, more, err := c.guardReplaceInline(ctx, k, principal, name, doc)
	if err != nil {
		return nil, err
	}
	// No stored document and yet a warning: it could not be read, and
	// --allow-risky-policies let the write go on unchecked
	// (guardReplaceInline's contract). Whether one is replaced is unknown.
	unread := old == nil && len(more) > 0
	warnings = append(warnings, more...)
	target := k.entity(principal, name)
	same := old != nil && sameDocument(decodeDocument(old), doc)
	b := newChange("write the inline policy "+name+" of IAM "+k.kind+" "+principal).
		call(k.action("Put"), target, func(ctx context.Context) error {
			// NoSuchEntity may also mean the principal went missing since
			// the plan; IAM's answer names it.
			err := k.put(ctx, c.clients.IAM, p, n, aws.String(doc.String()))
			if isCode(err, "LimitExceeded") {
				return k.sizeError(doc, err)
			}
			return err
		}).
		detail(withNote("the document, granted to "+k.reach(principal)+": "+shownDocument(doc), note)).
		affects(target).
		findings(warnings)
	switch {
	case unread:
		b.final("whether " + k.kind + " " + principal + " already had an inline policy " + name + " could not be read, so a previous document, if there is one, cannot be given back")
	case old == nil:
		b.plan.Summary = "create the inline policy " + name + " of IAM " + k.kind + " " + principal
		b.undo("delete_" + k.kind + "_policy " + principal + " " + name)
	case same:
		b.plan.Summary = "write the inline policy " + name + " of IAM " + k.kind + " " + principal + " with the document it has already"
		b.detail(b.plan.Steps[0].Detail + "; it has this document already: nothing will change")
		b.undo("nothing to undo")
	default:
		b.plan.Summary = "replace the inline policy " + name + " of IAM " + k.kind + " " + principal
		b.undo("put_" + k.kind + "_policy " + principal + " " + name + " with the previous document: " + shownDocument(decodeDocument(old)))
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		res := &api.Result{Message: "created inline policy " + name + " on " + k.kind + " " + principal, Warnings: warnings}
		switch {
		case same:
			res.Message = "inline policy " + name + " on " + k.kind + " " + principal + " already had this document; it is unchanged"
		case old != nil:
			res.Message = "replaced inline policy " + name + " on " + k.kind + " " + principal + "; the previous document is gone"
		case unread:
			res.Message = "wrote inline policy " + name + " on " + k.kind + " " + principal
		}
		return res, nil
	})
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

func (k principalKind) getPolicy(ctx context.Context, c *Catalogue, principal, name string) (*api.InlinePolicyOutput, error) {
	canonical, doc, err := k.get(ctx, c.clients.IAM, aws.String(principal), aws.String(name))
	if err != nil {
		return nil, k.notFound(err, principal)
	}
	if s := str(canonical); s != "" {
		principal = s
	}
	return &api.InlinePolicyOutput{PrincipalName: principal, PolicyName: name, PolicyDocument: decodeDocument(doc)}, nil
}

func (k principalKind) deletePolicy(ctx context.Context, c *Catalogue, principal, name string) (*Planned[api.Result], error) {
	p, n := aws.String(principal), aws.String(name)
	warnings, err := c.guardDeleteInline(ctx, k, principal, name)
	if err != nil {
		return nil, k.notFound(err, principal)
	}
	target := k.entity(principal, name)
	b := newChange("delete the inline policy "+name+" of IAM "+k.kind+" "+principal).
		call(k.action("Delete"), target, func(ctx context.Context) error {
			return k.notFound(k.del(ctx, c.clients.IAM, p, n), principal)
		}).
		affects(target).
		findings(warnings)
	// The document, for the person and for the undo. The guardrail has
	// read it once already; it does not hand it over.
	_, old, err := k.get(ctx, c.clients.IAM, p, n)
	switch {
	case err == nil:
		b.detail(k.reach(principal) + " loses what it grants (and what its Deny statements held back); the document removed: " + shownDocument(decodeDocument(old)))
		b.undo("put_" + k.kind + "_policy " + principal + " " + name + " with the document removed (shown in the step)")
	case isCode(err, "NoSuchEntity"):
		return nil, k.notFound(err, principal)
	default:
		// Unreadable, and --allow-risky-policies let the guardrail pass.
		b.final("its document could not be read (" + asAPIError(err).Message + "), so it cannot be given back")
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "deleted inline policy " + name + " from " + k.kind + " " + principal, Warnings: warnings}, nil
	})
}

func (k principalKind) listPolicies(ctx context.Context, c *Catalogue, principal string, pg api.PageInput) (*api.InlinePolicyNamesOutput, error) {
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
func (k principalKind) notFound(err error, principal string) error {
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
func (k principalKind) sizeError(doc api.PolicyDocument, err error) error {
	const advice = "Shorten it (merge statements, drop repeated actions or resources), or make it a managed policy with create_policy (up to 6,144 characters, 10 attached per principal)."
	n := policy.Size(doc.String())
	if n > k.limit {
		return sizeError(doc, "the inline policies of a "+k.kind, k.limit, advice)
	}
	return api.Errorf(api.LimitExceeded, "IAM refused the policy (%s): a %s's inline policies together may have at most %d characters without whitespace, and this one has %d on top of the others, so nothing was written. Delete or shorten another inline policy of the %s, or: %s",
		asAPIError(err).Message, k.kind, k.limit, n, k.kind, advice)
}
