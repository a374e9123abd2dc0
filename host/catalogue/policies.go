package catalogue

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Managed policies: customer policies' lifecycle with their versions, and
// attaching them (or AWS's) to users. Groups and roles attach in their own
// files; the warning about administrator access is shared (attachWarnings).

func init() {
	implement("list_policies", listPolicies)
	implement("get_policy", getPolicy)
	implement("get_managed_policy_document", getManagedPolicyDocument)
	implementChange("create_policy", createPolicy)
	implementChange("delete_policy", deletePolicy)
	implementChange("create_policy_version", createPolicyVersion)
	implement("list_policy_versions", listPolicyVersions)
	implementChange("set_default_policy_version", setDefaultPolicyVersion)
	implementChange("delete_policy_version", deletePolicyVersion)
	implementChange("attach_user_policy", attachUserPolicy)
	implementChange("detach_user_policy", detachUserPolicy)
	implement("list_attached_user_policies", listAttachedUserPolicies)
}

// managedPolicyLimit is IAM's size quota of a managed policy document, in
// characters without whitespace.
const managedPolicyLimit = 6144

func listPolicies(ctx context.Context, c *Catalogue, in *api.ListPoliciesInput) (*api.ListPoliciesOutput, error) {
	// IAM's own default scope is All, which buries the account's policies
	// under a thousand AWS ones; the catalogue's is Local, so always pass it.
	scope := in.Scope
	if scope == "" {
		scope = "Local"
	}
	out, err := c.clients.IAM.ListPolicies(ctx, &iam.ListPoliciesInput{
		Scope: types.PolicyScopeType(scope), OnlyAttached: in.OnlyAttached, PathPrefix: optStr(in.PathPrefix),
		MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker),
	})
	if err != nil {
		return nil, err
	}
	return &api.ListPoliciesOutput{Policies: convertAll(out.Policies, policyOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func getPolicy(ctx context.Context, c *Catalogue, in *api.PolicyArnInput) (*api.PolicyOutput, error) {
	out, err := c.clients.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(in.PolicyArn)})
	if err != nil {
		return nil, err
	}
	return &api.PolicyOutput{Policy: policyOf(out.Policy)}, nil
}

func getManagedPolicyDocument(ctx context.Context, c *Catalogue, in *api.GetManagedPolicyDocumentInput) (*api.PolicyDocumentOutput, error) {
	v, err := c.policyVersion(ctx, in.PolicyArn, in.VersionID)
	if err != nil {
		return nil, err
	}
	return &api.PolicyDocumentOutput{PolicyArn: in.PolicyArn, VersionID: str(v.VersionId), IsDefaultVersion: v.IsDefaultVersion, PolicyDocument: decodeDocument(v.Document)}, nil
}

func createPolicy(ctx context.Context, c *Catalogue, in *api.CreatePolicyInput) (*Planned[api.PolicyOutput], error) {
	warnings, err := c.guardDocument(ctx, in.PolicyDocument, policy.IdentityPolicy, managedPolicyOptions, "policy "+in.PolicyName, "every user, group or role it will be attached to")
	if err != nil {
		return nil, err
	}
	if err := managedTooBig(in.PolicyDocument); err != nil {
		return nil, err
	}
	target := c.newPolicyTarget(in.Path, in.PolicyName)
	var created *types.Policy
	b := newChange("create the managed policy "+in.PolicyName).
		call("CreatePolicy", target, func(ctx context.Context) error {
			out, err := c.clients.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{
				PolicyName: aws.String(in.PolicyName), PolicyDocument: aws.String(in.PolicyDocument.String()),
				Path: optStr(in.Path), Description: optStr(in.Description),
			})
			if err != nil {
				// LimitExceeded is either the account's policy quota or the
				// document's size; only the latter is about this document.
				return managedSizeError(in.PolicyDocument, err)
			}
			created = out.Policy
			return nil
		}).
		detail("its document (version v1, the default; in effect once attached): " + shownDocument(in.PolicyDocument)).
		affects(target).
		findings(warnings).
		undo("delete_policy " + target + " (while it is attached to nothing)")
	return finish(b, func(context.Context, *deletion) (*api.PolicyOutput, error) {
		return &api.PolicyOutput{Policy: policyOf(created), Result: api.Result{
			Message:  "created policy " + str(created.Arn) + " (version v1); attach it with attach_user_policy, attach_group_policy or attach_role_policy",
			Warnings: warnings,
		}}, nil
	})
}

// deletePolicy deletes a customer managed policy that nothing holds on to.
// It clears nothing itself (detaching it from others is a change of its
// own, each with its guardrail): what IAM would refuse the delete over is
// found at plan time and named, with how to remove each.
func deletePolicy(ctx context.Context, c *Catalogue, in *api.PolicyArnInput) (*Planned[api.DeleteOutput], error) {
	if err := refuseAWSManaged(in.PolicyArn, "delete"); err != nil {
		return nil, err
	}
	arn := aws.String(in.PolicyArn)
	p, err := c.clients.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	note, err := planRead(err, "the policy")
	if err != nil {
		return nil, err
	}
	detail := "with its default version"
	if note == "" {
		if blocks := c.policyBlockers(ctx, p.Policy); len(blocks) > 0 {
			return nil, api.Errorf(api.DeleteConflict, "IAM would refuse to delete %s, so nothing was changed: %s.", in.PolicyArn, strings.Join(blocks, "; "))
		}
		def := str(p.Policy.DefaultVersionId)
		detail += " " + def + ", whose document is: " + c.storedVersion(ctx, in.PolicyArn, def)
	}
	b := newChange("delete the managed policy "+in.PolicyArn).
		call("DeletePolicy", in.PolicyArn, func(ctx context.Context) error {
			_, err := c.clients.IAM.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
			if isCode(err, "DeleteConflict") {
				// Attached or versioned since the plan was made.
				return c.deletePolicyConflict(ctx, in.PolicyArn, err)
			}
			return err
		}).
		detail(withNote(detail, note)).
		affects(in.PolicyArn).
		final("a deleted policy cannot be restored: create_policy can make one of the same name (and ARN) from the document shown, but with a new id and a version history that starts again at v1")
	return finish(b, func(context.Context, *deletion) (*api.DeleteOutput, error) {
		return &api.DeleteOutput{Deleted: in.PolicyArn, Steps: []api.DeleteStep{}, Result: api.Result{Message: "deleted policy " + in.PolicyArn + " with its default version"}}, nil
	})
}

// policyBlockers lists what IAM refuses to delete a policy over — its
// attachments, the principals it bounds, its versions other than the
// default — each with how to remove it. IAM's own DeleteConflict names
// only the first. Versions that cannot be listed are left to IAM's answer.
func (c *Catalogue) policyBlockers(ctx context.Context, p *types.Policy) []string {
	var blocks []string
	if n := aws.ToInt32(p.AttachmentCount); n > 0 {
		blocks = append(blocks, fmt.Sprintf("it is attached to %d user(s), group(s) or role(s): detach it with detach_user_policy, detach_group_policy or detach_role_policy", n))
	}
	if n := aws.ToInt32(p.PermissionsBoundaryUsageCount); n > 0 {
		blocks = append(blocks, fmt.Sprintf("it is the permissions boundary of %d user(s) or role(s): remove it with delete_user_permissions_boundary or delete_role_permissions_boundary", n))
	}
	if versions, err := c.nonDefaultVersions(ctx, str(p.Arn)); err == nil && len(versions) > 0 {
		blocks = append(blocks, fmt.Sprintf("it has non-default versions %s: delete each with delete_policy_version (the default version %s goes with the policy)",
			strings.Join(versionIDs(versions), ", "), str(p.DefaultVersionId)))
	}
	return blocks
}

// deletePolicyConflict explains IAM's refusal to delete a policy when the
// plan found nothing in the way (something changed meanwhile): all the
// obstacles, read again. If looking fails, IAM's own answer stands.
func (c *Catalogue) deletePolicyConflict(ctx context.Context, arn string, conflict error) error {
	p, err := c.clients.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return conflict
	}
	blocks := c.policyBlockers(ctx, p.Policy)
	if len(blocks) == 0 {
		return conflict
	}
	return api.Errorf(api.DeleteConflict, "IAM refused to delete %s, and nothing was changed: %s.", arn, strings.Join(blocks, "; "))
}

func createPolicyVersion(ctx context.Context, c *Catalogue, in *api.CreatePolicyVersionInput) (*Planned[api.PolicyVersionOutput], error) {
	if err := refuseAWSManaged(in.PolicyArn, "add a version to"); err != nil {
		return nil, err
	}
	// A version that is not the default yet is checked all the same: one
	// set_default_policy_version call would put it in effect.
	warnings, err := c.guardDocument(ctx, in.PolicyDocument, policy.IdentityPolicy, managedPolicyOptions, "a new version of "+in.PolicyArn, "every user, group or role the policy is attached to")
	if err != nil {
		return nil, err
	}
	if err := managedTooBig(in.PolicyDocument); err != nil {
		return nil, err
	}
	def, note, err := c.defaultVersion(ctx, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if in.SetAsDefault {
		// In effect at once: what the current default may be holding back
		// that the new one does not is judged as set_default_policy_version
		// judges it.
		more, err := c.guardNewDocDefault(ctx, in.PolicyArn, in.PolicyDocument)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, more...)
	}
	// At IAM's five versions the call would fail: say so now, with the
	// versions that can go. (A read that fails leaves it to IAM.)
	if versions, err := c.nonDefaultVersions(ctx, in.PolicyArn); err == nil {
		if err := versionLimit(in, versions); err != nil {
			return nil, err
		}
	}
	var created *types.PolicyVersion
	b := newChange("add a version to the managed policy "+in.PolicyArn).
		call("CreatePolicyVersion", in.PolicyArn, func(ctx context.Context) error {
			out, err := c.clients.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
				PolicyArn: aws.String(in.PolicyArn), PolicyDocument: aws.String(in.PolicyDocument.String()), SetAsDefault: in.SetAsDefault,
			})
			if err != nil {
				if isCode(err, "LimitExceeded") {
					return c.versionLimitError(ctx, in, err)
				}
				return err
			}
			created = out.PolicyVersion
			return nil
		}).
		affects(in.PolicyArn).
		findings(warnings)
	if in.SetAsDefault {
		b.plan.Summary += " and make it the default"
		b.detail(withNote("the new version, the default at once (in place of "+def+") for everything the policy is attached to: "+shownDocument(in.PolicyDocument), note))
		b.undo("set_default_policy_version " + in.PolicyArn + " " + def + ", then delete_policy_version " + in.PolicyArn + " with the new version's id (in the result)")
	} else {
		b.detail(withNote("the new version, not the default ("+def+" stays in effect until set_default_policy_version): "+shownDocument(in.PolicyDocument), note))
		b.undo("delete_policy_version " + in.PolicyArn + " with the new version's id (in the result)")
	}
	return finish(b, func(context.Context, *deletion) (*api.PolicyVersionOutput, error) {
		v := versionOf(created)
		// IAM does not echo the document back; it stored exactly this one.
		v.Document = in.PolicyDocument
		msg := "created version " + v.VersionID + " of " + in.PolicyArn
		if v.IsDefaultVersion {
			msg += "; it is now the default version, in effect for everything the policy is attached to"
		} else {
			msg += "; it is not in effect until made the default with set_default_policy_version"
		}
		return &api.PolicyVersionOutput{PolicyArn: in.PolicyArn, Version: v, Result: api.Result{Message: msg, Warnings: warnings}}, nil
	})
}

// versionLimitError turns IAM's LimitExceeded on a new version into what to
// do: for a document over the size quota, by how much; at the five-version
// limit, the versions that can be deleted, oldest first.
func (c *Catalogue) versionLimitError(ctx context.Context, in *api.CreatePolicyVersionInput, limit error) error {
	if policy.Size(in.PolicyDocument.String()) > managedPolicyLimit {
		return managedSizeError(in.PolicyDocument, limit)
	}
	versions, err := c.nonDefaultVersions(ctx, in.PolicyArn)
	if err != nil {
		return limit
	}
	if err := versionLimit(in, versions); err != nil {
		return err
	}
	return limit
}

// versionLimit refuses a new version when the policy is at IAM's limit of
// versions, naming those that can be deleted (versions: the ones other
// than the default, oldest first); nil below the limit. A document over
// the size quota is refused for its size first: deleting a version would
// not help it.
func versionLimit(in *api.CreatePolicyVersionInput, versions []types.PolicyVersion) error {
	if len(versions) < maxPolicyVersions-1 {
		return nil
	}
	if n := policy.Size(in.PolicyDocument.String()); n > managedPolicyLimit {
		return sizeError(in.PolicyDocument, "a managed policy", managedPolicyLimit, "Shorten it (merge statements, drop repeated actions or resources), or split it into several managed policies.")
	}
	described := make([]string, len(versions))
	for i, v := range versions {
		described[i] = str(v.VersionId) + " (created " + date(v.CreateDate).Format("2006-01-02") + ")"
	}
	return api.Errorf(api.LimitExceeded, "%s already has %d versions, the most IAM keeps, so nothing was created. Delete one with delete_policy_version and try again; the versions that can be deleted, oldest first: %s (the default version cannot be deleted).",
		in.PolicyArn, maxPolicyVersions, strings.Join(described, ", "))
}

// maxPolicyVersions is how many versions IAM keeps of a managed policy.
const maxPolicyVersions = 5

// nonDefaultVersions lists, across all pages, a policy's versions other
// than the default, oldest first (version ids count up and are never
// reused, so their numbers order them by creation).
func (c *Catalogue) nonDefaultVersions(ctx context.Context, arn string) ([]types.PolicyVersion, error) {
	var out []types.PolicyVersion
	pages := iam.NewListPolicyVersionsPaginator(c.clients.IAM, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range p.Versions {
			if !v.IsDefaultVersion {
				out = append(out, v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return versionNumber(out[i].VersionId) < versionNumber(out[j].VersionId) })
	return out, nil
}

func versionNumber(id *string) int {
	digits, _, _ := strings.Cut(strings.TrimPrefix(str(id), "v"), ".")
	n, _ := strconv.Atoi(digits)
	return n
}

func versionIDs(versions []types.PolicyVersion) []string {
	ids := make([]string, len(versions))
	for i, v := range versions {
		ids[i] = str(v.VersionId)
	}
	return ids
}

// managedTooBig refuses, before anyone is asked to approve it, a document
// over the managed policy quota, which IAM refuses and AWS does not raise.
// It also keeps a plan, which shows the document, within that size. It
// comes after the guardrail, as IAM's answer did before plans: a risky
// document is refused as risky, whatever its size.
func managedTooBig(doc api.PolicyDocument) error {
	if policy.Size(doc.String()) > managedPolicyLimit {
		return sizeError(doc, "a managed policy", managedPolicyLimit, "Shorten it (merge statements, drop repeated actions or resources), or split it into several managed policies.")
	}
	return nil
}

// managedSizeError replaces err by sizeError when err is LimitExceeded and
// the document is over the managed policy quota.
func managedSizeError(doc api.PolicyDocument, err error) error {
	if isCode(err, "LimitExceeded") && policy.Size(doc.String()) > managedPolicyLimit {
		return sizeError(doc, "a managed policy", managedPolicyLimit, "Shorten it (merge statements, drop repeated actions or resources), or split it into several managed policies.")
	}
	return err
}

// sizeError says how far over IAM's size quota a document is, counted as
// IAM counts it (characters other than whitespace).
func sizeError(doc api.PolicyDocument, what string, limit int, advice string) error {
	return api.Errorf(api.LimitExceeded, "the policy document has %d characters without whitespace, more than the %d IAM allows for %s, so nothing was written. %s",
		policy.Size(doc.String()), limit, what, advice)
}

func listPolicyVersions(ctx context.Context, c *Catalogue, in *api.ListPolicyVersionsInput) (*api.ListPolicyVersionsOutput, error) {
	out, err := c.clients.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(in.PolicyArn), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.ListPolicyVersionsOutput{Versions: convertAll(out.Versions, versionOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func setDefaultPolicyVersion(ctx context.Context, c *Catalogue, in *api.PolicyVersionInput) (*Planned[api.Result], error) {
	if err := refuseAWSManaged(in.PolicyArn, "change the default version of"); err != nil {
		return nil, err
	}
	// A stored version is judged like an attached policy: making it the
	// default gives its grant to everything the policy is attached to.
	warnings, err := c.guardManaged(ctx, in.PolicyArn, in.VersionID, "making the default", "made the default", "every user, group or role the policy is attached to")
	if err != nil {
		return nil, err
	}
	// What the current default may be holding back that the new one does
	// not (a Deny dropped) is judged for everyone the policy applies to.
	more, err := c.guardSetDefault(ctx, in.PolicyArn, in.VersionID)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, more...)
	def, note, err := c.defaultVersion(ctx, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	b := newChange("make "+in.VersionID+" the default version of "+in.PolicyArn).
		call("SetDefaultPolicyVersion", in.PolicyArn, func(ctx context.Context) error {
			_, err := c.clients.IAM.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(in.PolicyArn), VersionId: aws.String(in.VersionID)})
			return err
		}).
		affects(in.PolicyArn).
		findings(warnings)
	switch {
	case def == in.VersionID:
		b.detail(in.VersionID + " is the default already: nothing will change")
		b.undo("nothing to undo")
	case note != "":
		b.detail(withNote(in.VersionID+", in effect for everything the policy is attached to; its document: "+c.storedVersion(ctx, in.PolicyArn, in.VersionID), note))
		b.undo("set_default_policy_version " + in.PolicyArn + " with the version that is the default now (it could not be read)")
	default:
		b.detail(in.VersionID + " in place of " + def + ", in effect for everything the policy is attached to; its document: " + c.storedVersion(ctx, in.PolicyArn, in.VersionID))
		b.undo("set_default_policy_version " + in.PolicyArn + " " + def + " (the default now)")
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: in.VersionID + " is now the default version of " + in.PolicyArn + ", in effect for everything the policy is attached to", Warnings: warnings}, nil
	})
}

func deletePolicyVersion(ctx context.Context, c *Catalogue, in *api.PolicyVersionInput) (*Planned[api.Result], error) {
	if err := refuseAWSManaged(in.PolicyArn, "delete a version of"); err != nil {
		return nil, err
	}
	def, note, err := c.defaultVersion(ctx, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if def == in.VersionID {
		return nil, defaultVersionConflict(in)
	}
	detail := "not the default version, so nothing it grants is in effect"
	v, err := c.clients.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(in.PolicyArn), VersionId: aws.String(in.VersionID)})
	more, err := planRead(err, "the version's document")
	if err != nil {
		return nil, err
	}
	if more == "" {
		detail += "; its document: " + shownDocument(decodeDocument(v.PolicyVersion.Document))
	}
	target := versionEntity(in.PolicyArn, in.VersionID)
	b := newChange("delete version "+in.VersionID+" of the managed policy "+in.PolicyArn).
		call("DeletePolicyVersion", target, func(ctx context.Context) error {
			_, err := c.clients.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(in.PolicyArn), VersionId: aws.String(in.VersionID)})
			if isCode(err, "DeleteConflict") {
				return defaultVersionConflict(in) // made the default since the plan
			}
			return err
		}).
		detail(withNote(withNote(detail, note), more)).
		affects(target).
		final("a deleted version cannot be restored: create_policy_version with the document shown makes a new version, with a new id")
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "deleted version " + in.VersionID + " of " + in.PolicyArn}, nil
	})
}

// defaultVersion reads which version of a policy is the default, for a
// plan; when it cannot be read, words standing in for the id, and
// planRead's note.
func (c *Catalogue) defaultVersion(ctx context.Context, arn string) (id, note string, err error) {
	p, err := c.clients.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if note, err := planRead(err, "the policy's default version"); err != nil || note != "" {
		return "the version that is the default now", note, err
	}
	return str(p.Policy.DefaultVersionId), "", nil
}

func defaultVersionConflict(in *api.PolicyVersionInput) error {
	return api.Errorf(api.DeleteConflict, "%s is the default version of %s, and IAM never deletes the default version; nothing was changed. Make another version the default with set_default_policy_version first, or delete the whole policy with delete_policy.", in.VersionID, in.PolicyArn)
}

// isAttached reports whether arn is among attached. ARNs are compared
// without regard to case, so that a plan never refuses what IAM would
// take; a call IAM then refuses is answered by IAM.
func isAttached(attached []api.AttachedPolicy, arn string) bool {
	for _, a := range attached {
		if strings.EqualFold(a.PolicyArn, arn) {
			return true
		}
	}
	return false
}

func attachUserPolicy(ctx context.Context, c *Catalogue, in *api.UserPolicyArnInput) (*Planned[api.Result], error) {
	attached, err := userKind.attachedPolicies(ctx, c, in.UserName)
	note, err := planRead(err, "the policies attached to the user")
	if err != nil {
		return nil, err
	}
	warnings, err := c.guardAttach(ctx, in.PolicyArn, "user "+in.UserName)
	if err != nil {
		return nil, err
	}
	b := newChange("attach "+in.PolicyArn+" to IAM user "+in.UserName).
		call("AttachUserPolicy", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(in.UserName), PolicyArn: aws.String(in.PolicyArn)})
			return err
		}).
		affects(userEntity(in.UserName), in.PolicyArn).
		findings(warnings)
	switch {
	case note != "":
		b.detail(withNote("the user gets what the policy's default version grants", note))
		b.undo("detach_user_policy " + in.UserName + " " + in.PolicyArn + " (unless it was attached before)")
	case isAttached(attached, in.PolicyArn):
		b.detail("attached already: nothing will change")
		b.undo("nothing to undo")
	default:
		b.detail("the user gets what the policy's default version grants")
		b.undo("detach_user_policy " + in.UserName + " " + in.PolicyArn)
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "attached " + in.PolicyArn + " to user " + in.UserName, Warnings: warnings}, nil
	})
}

func detachUserPolicy(ctx context.Context, c *Catalogue, in *api.UserPolicyArnInput) (*Planned[api.Result], error) {
	attached, err := userKind.attachedPolicies(ctx, c, in.UserName)
	note, err := planRead(err, "the policies attached to the user")
	if err != nil {
		return nil, err
	}
	if note == "" && !isAttached(attached, in.PolicyArn) {
		return nil, api.Errorf(api.NoSuchEntity, "%s is not attached to user %s, so nothing was changed; list_attached_user_policies shows what is (a policy the user has through a group is detached from the group with detach_group_policy)", in.PolicyArn, in.UserName)
	}
	warnings, err := c.guardDetach(ctx, "user", in.UserName, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	b := newChange("detach "+in.PolicyArn+" from IAM user "+in.UserName).
		call("DetachUserPolicy", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(in.UserName), PolicyArn: aws.String(in.PolicyArn)})
			return err
		}).
		detail(withNote("the user loses what the policy grants (and what its Deny statements held back), and keeps whatever its groups grant", note)).
		affects(userEntity(in.UserName), in.PolicyArn).
		findings(warnings).
		undo("attach_user_policy " + in.UserName + " " + in.PolicyArn)
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "detached " + in.PolicyArn + " from user " + in.UserName + " (the user keeps whatever its groups grant)", Warnings: warnings}, nil
	})
}

func listAttachedUserPolicies(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.AttachedPoliciesOutput, error) {
	out, err := c.clients.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.AttachedPoliciesOutput{AttachedPolicies: attachedOf(out.AttachedPolicies), Page: page(out.IsTruncated, out.Marker)}, nil
}
