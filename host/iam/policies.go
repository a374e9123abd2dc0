package iam

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/host/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Managed policies: customer policies' lifecycle with their versions, and
// attaching them (or AWS's) to users. Groups and roles attach in their own
// files; the warning about administrator access is shared (attachWarnings).

func init() {
	implement("list_policies", listPolicies)
	implement("get_policy", getPolicy)
	implement("get_managed_policy_document", getManagedPolicyDocument)
	implementLegacy("create_policy", createPolicy)
	implementLegacy("delete_policy", deletePolicy)
	implementLegacy("create_policy_version", createPolicyVersion)
	implement("list_policy_versions", listPolicyVersions)
	implementLegacy("set_default_policy_version", setDefaultPolicyVersion)
	implementLegacy("delete_policy_version", deletePolicyVersion)
	implementLegacy("attach_user_policy", attachUserPolicy)
	implementLegacy("detach_user_policy", detachUserPolicy)
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
	out, err := c.clients.IAM.ListPolicies(ctx, &awsiam.ListPoliciesInput{
		Scope: types.PolicyScopeType(scope), OnlyAttached: in.OnlyAttached, PathPrefix: optStr(in.PathPrefix),
		MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker),
	})
	if err != nil {
		return nil, err
	}
	res := &api.ListPoliciesOutput{Policies: make([]api.ManagedPolicy, 0, len(out.Policies)), Page: page(out.IsTruncated, out.Marker)}
	for i := range out.Policies {
		res.Policies = append(res.Policies, policyOf(&out.Policies[i]))
	}
	return res, nil
}

func getPolicy(ctx context.Context, c *Catalogue, in *api.PolicyArnInput) (*api.PolicyOutput, error) {
	out, err := c.clients.IAM.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(in.PolicyArn)})
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

func createPolicy(ctx context.Context, c *Catalogue, in *api.CreatePolicyInput) (*api.PolicyOutput, error) {
	warnings, err := c.guardDocument(ctx, in.PolicyDocument, policy.IdentityPolicy, managedPolicyOptions, "policy "+in.PolicyName, "every user, group or role it will be attached to")
	if err != nil {
		return nil, err
	}
	out, err := c.clients.IAM.CreatePolicy(ctx, &awsiam.CreatePolicyInput{
		PolicyName: aws.String(in.PolicyName), PolicyDocument: aws.String(in.PolicyDocument.String()),
		Path: optStr(in.Path), Description: optStr(in.Description),
	})
	if err != nil {
		// LimitExceeded is either the account's policy quota or the
		// document's size; only the latter is about this document.
		return nil, managedSizeError(in.PolicyDocument, err)
	}
	res := &api.PolicyOutput{Policy: policyOf(out.Policy), Result: api.Result{
		Message:  "created policy " + str(out.Policy.Arn) + " (version v1); attach it with attach_user_policy, attach_group_policy or attach_role_policy",
		Warnings: warnings,
	}}
	return res, nil
}

func deletePolicy(ctx context.Context, c *Catalogue, in *api.PolicyArnInput) (*api.DeleteOutput, error) {
	arn := aws.String(in.PolicyArn)
	if _, err := c.clients.IAM.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: arn}); err != nil {
		if isCode(err, "DeleteConflict") {
			return nil, c.deletePolicyConflict(ctx, in.PolicyArn, err)
		}
		return nil, err
	}
	return &api.DeleteOutput{Deleted: in.PolicyArn, Steps: []api.DeleteStep{}, Result: api.Result{Message: "deleted policy " + in.PolicyArn + " with its default version"}}, nil
}

// deletePolicyConflict explains IAM's refusal to delete a policy: IAM's
// message names only the first obstacle, so look up all of them and say
// how to remove each. If looking fails, IAM's own answer stands.
func (c *Catalogue) deletePolicyConflict(ctx context.Context, arn string, conflict error) error {
	p, err := c.clients.IAM.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return conflict
	}
	versions, err := c.nonDefaultVersions(ctx, arn)
	if err != nil {
		return conflict
	}
	var blocks []string
	if n := aws.ToInt32(p.Policy.AttachmentCount); n > 0 {
		blocks = append(blocks, fmt.Sprintf("it is attached to %d user(s), group(s) or role(s): detach it with detach_user_policy, detach_group_policy or detach_role_policy", n))
	}
	if n := aws.ToInt32(p.Policy.PermissionsBoundaryUsageCount); n > 0 {
		blocks = append(blocks, fmt.Sprintf("it is the permissions boundary of %d user(s) or role(s): remove it with delete_user_permissions_boundary or delete_role_permissions_boundary", n))
	}
	if len(versions) > 0 {
		blocks = append(blocks, fmt.Sprintf("it has non-default versions %s: delete each with delete_policy_version (the default version %s goes with the policy)",
			strings.Join(versionIDs(versions), ", "), str(p.Policy.DefaultVersionId)))
	}
	if len(blocks) == 0 {
		return conflict
	}
	return api.Errorf(api.DeleteConflict, "IAM refused to delete %s, and nothing was changed: %s.", arn, strings.Join(blocks, "; "))
}

func createPolicyVersion(ctx context.Context, c *Catalogue, in *api.CreatePolicyVersionInput) (*api.PolicyVersionOutput, error) {
	// A version that is not the default yet is checked all the same: one
	// set_default_policy_version call would put it in effect.
	warnings, err := c.guardDocument(ctx, in.PolicyDocument, policy.IdentityPolicy, managedPolicyOptions, "a new version of "+in.PolicyArn, "every user, group or role the policy is attached to")
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
	out, err := c.clients.IAM.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{
		PolicyArn: aws.String(in.PolicyArn), PolicyDocument: aws.String(in.PolicyDocument.String()), SetAsDefault: in.SetAsDefault,
	})
	if err != nil {
		if isCode(err, "LimitExceeded") {
			return nil, c.versionLimitError(ctx, in, err)
		}
		return nil, err
	}
	v := versionOf(out.PolicyVersion)
	// IAM does not echo the document back; it stored exactly this one.
	v.Document = in.PolicyDocument
	msg := "created version " + v.VersionID + " of " + in.PolicyArn
	if v.IsDefaultVersion {
		msg += "; it is now the default version, in effect for everything the policy is attached to"
	} else {
		msg += "; it is not in effect until made the default with set_default_policy_version"
	}
	return &api.PolicyVersionOutput{PolicyArn: in.PolicyArn, Version: v, Result: api.Result{Message: msg, Warnings: warnings}}, nil
}

// versionLimitError turns IAM's LimitExceeded on a new version into what to
// do: for a document over the size quota, by how much; at the five-version
// limit, the versions that can be deleted, oldest first.
func (c *Catalogue) versionLimitError(ctx context.Context, in *api.CreatePolicyVersionInput, limit error) error {
	if policy.Size(in.PolicyDocument.String()) > managedPolicyLimit {
		return managedSizeError(in.PolicyDocument, limit)
	}
	versions, err := c.nonDefaultVersions(ctx, in.PolicyArn)
	if err != nil || len(versions) < maxPolicyVersions-1 {
		return limit
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
	pages := awsiam.NewListPolicyVersionsPaginator(c.clients.IAM, &awsiam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
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
	out, err := c.clients.IAM.ListPolicyVersions(ctx, &awsiam.ListPolicyVersionsInput{PolicyArn: aws.String(in.PolicyArn), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.ListPolicyVersionsOutput{Versions: make([]api.PolicyVersion, 0, len(out.Versions)), Page: page(out.IsTruncated, out.Marker)}
	for i := range out.Versions {
		res.Versions = append(res.Versions, versionOf(&out.Versions[i]))
	}
	return res, nil
}

func setDefaultPolicyVersion(ctx context.Context, c *Catalogue, in *api.PolicyVersionInput) (*api.Result, error) {
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
	if _, err := c.clients.IAM.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(in.PolicyArn), VersionId: aws.String(in.VersionID)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: in.VersionID + " is now the default version of " + in.PolicyArn + ", in effect for everything the policy is attached to", Warnings: warnings}, nil
}

func deletePolicyVersion(ctx context.Context, c *Catalogue, in *api.PolicyVersionInput) (*api.Result, error) {
	if _, err := c.clients.IAM.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(in.PolicyArn), VersionId: aws.String(in.VersionID)}); err != nil {
		if isCode(err, "DeleteConflict") {
			return nil, api.Errorf(api.DeleteConflict, "%s is the default version of %s, and IAM never deletes the default version; nothing was changed. Make another version the default with set_default_policy_version first, or delete the whole policy with delete_policy.", in.VersionID, in.PolicyArn)
		}
		return nil, err
	}
	return &api.Result{Message: "deleted version " + in.VersionID + " of " + in.PolicyArn}, nil
}

func attachUserPolicy(ctx context.Context, c *Catalogue, in *api.UserPolicyArnInput) (*api.Result, error) {
	warnings, err := c.guardAttach(ctx, in.PolicyArn, "user "+in.UserName)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String(in.UserName), PolicyArn: aws.String(in.PolicyArn)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "attached " + in.PolicyArn + " to user " + in.UserName, Warnings: warnings}, nil
}

func detachUserPolicy(ctx context.Context, c *Catalogue, in *api.UserPolicyArnInput) (*api.Result, error) {
	warnings, err := c.guardDetach(ctx, "user", in.UserName, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String(in.UserName), PolicyArn: aws.String(in.PolicyArn)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "detached " + in.PolicyArn + " from user " + in.UserName + " (the user keeps whatever its groups grant)", Warnings: warnings}, nil
}

func listAttachedUserPolicies(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.AttachedPoliciesOutput, error) {
	out, err := c.clients.IAM.ListAttachedUserPolicies(ctx, &awsiam.ListAttachedUserPoliciesInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.AttachedPoliciesOutput{AttachedPolicies: attachedOf(out.AttachedPolicies), Page: page(out.IsTruncated, out.Marker)}, nil
}
