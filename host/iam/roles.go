package iam

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func init() {
	implement("list_roles", listRoles)
	implement("get_role", getRole)
	implementLegacy("create_role", createRole)
	implementLegacy("delete_role", deleteRole)
	implementLegacy("update_role", updateRole)
	implementLegacy("update_assume_role_policy", updateAssumeRolePolicy)
	implementLegacy("attach_role_policy", attachRolePolicy)
	implementLegacy("detach_role_policy", detachRolePolicy)
	implement("list_attached_role_policies", listAttachedRolePolicies)
	implementLegacy("put_role_permissions_boundary", putRoleBoundary)
	implementLegacy("delete_role_permissions_boundary", deleteRoleBoundary)
	implement("list_instance_profiles_for_role", listInstanceProfilesForRole)
	implementLegacy("create_instance_profile", createInstanceProfile)
	implementLegacy("add_role_to_instance_profile", addRoleToInstanceProfile)
	implementLegacy("remove_role_from_instance_profile", removeRoleFromInstanceProfile)
	implementLegacy("delete_instance_profile", deleteInstanceProfile)
}

func listRoles(ctx context.Context, c *Catalogue, in *api.ListRolesInput) (*api.ListRolesOutput, error) {
	out, err := c.clients.IAM.ListRoles(ctx, &awsiam.ListRolesInput{PathPrefix: optStr(in.PathPrefix), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.ListRolesOutput{Roles: make([]api.Role, 0, len(out.Roles)), Page: page(out.IsTruncated, out.Marker)}
	for i := range out.Roles {
		res.Roles = append(res.Roles, roleOf(&out.Roles[i]))
	}
	return res, nil
}

func getRole(ctx context.Context, c *Catalogue, in *api.RoleNameInput) (*api.GetRoleOutput, error) {
	cl, name := c.clients.IAM, aws.String(in.RoleName)
	r, err := cl.GetRole(ctx, &awsiam.GetRoleInput{RoleName: name})
	if err != nil {
		return nil, err
	}
	res := &api.GetRoleOutput{Role: roleOf(r.Role)}
	if res.AttachedPolicies, err = allPages(ctx, awsiam.NewListAttachedRolePoliciesPaginator(cl, &awsiam.ListAttachedRolePoliciesInput{RoleName: name}), roleAttached); err != nil {
		return nil, err
	}
	if res.InlinePolicies, err = allPages(ctx, awsiam.NewListRolePoliciesPaginator(cl, &awsiam.ListRolePoliciesInput{RoleName: name}), roleInlineNames); err != nil {
		return nil, err
	}
	if res.InstanceProfiles, err = allPages(ctx, awsiam.NewListInstanceProfilesForRolePaginator(cl, &awsiam.ListInstanceProfilesForRoleInput{RoleName: name}), profileNames); err != nil {
		return nil, err
	}
	return res, nil
}

func createRole(ctx context.Context, c *Catalogue, in *api.CreateRoleInput) (*api.RoleOutput, error) {
	// Asked first, so that a failure to learn the account changes nothing.
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	warnings, err := c.guardDocument(ctx, in.AssumeRolePolicyDocument, policy.TrustPolicy, trustOptions(account),
		"the trust policy of new role "+in.RoleName, "who may assume role "+in.RoleName)
	if err != nil {
		return nil, err
	}
	out, err := c.clients.IAM.CreateRole(ctx, &awsiam.CreateRoleInput{
		RoleName: aws.String(in.RoleName), AssumeRolePolicyDocument: aws.String(in.AssumeRolePolicyDocument.String()),
		Path: optStr(in.Path), Description: optStr(in.Description), MaxSessionDuration: optInt32(in.MaxSessionDuration),
		PermissionsBoundary: optStr(in.PermissionsBoundary),
	})
	if err != nil {
		return nil, err
	}
	res := &api.RoleOutput{Role: roleOf(out.Role), Result: api.Result{
		Message:  "created role " + in.RoleName + "; it has no permissions until you attach or put policies",
		Warnings: warnings,
	}}
	if in.PermissionsBoundary == "" {
		res.Warnings = append(res.Warnings, noBoundaryWarning)
	}
	return res, nil
}

func deleteRole(ctx context.Context, c *Catalogue, in *api.DeleteRoleInput) (*api.DeleteOutput, error) {
	cl, name := c.clients.IAM, aws.String(in.RoleName)
	return forceDelete(in.Force, "role", in.RoleName, "its attached and inline policies and take it out of its instance profiles",
		func(d *deletion) error { return c.clearRole(ctx, name, d) },
		func() error {
			_, err := cl.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: name})
			return err
		})
}

// clearRole removes, across all pages, what IAM refuses to delete a role
// over: attached policies, inline policies, instance-profile memberships.
func (c *Catalogue) clearRole(ctx context.Context, name *string, d *deletion) error {
	cl := c.clients.IAM
	err := removeAll(ctx, d, "DetachRolePolicy", awsiam.NewListAttachedRolePoliciesPaginator(cl, &awsiam.ListAttachedRolePoliciesInput{RoleName: name}),
		func(o *awsiam.ListAttachedRolePoliciesOutput) []string { return policyARNsOf(roleAttached(o)) },
		func(arn string) error {
			_, err := cl.DetachRolePolicy(ctx, &awsiam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(arn)})
			return err
		})
	if err != nil {
		return err
	}
	err = removeAll(ctx, d, "DeleteRolePolicy", awsiam.NewListRolePoliciesPaginator(cl, &awsiam.ListRolePoliciesInput{RoleName: name}), roleInlineNames,
		func(policy string) error {
			_, err := cl.DeleteRolePolicy(ctx, &awsiam.DeleteRolePolicyInput{RoleName: name, PolicyName: aws.String(policy)})
			return err
		})
	if err != nil {
		return err
	}
	return removeAll(ctx, d, "RemoveRoleFromInstanceProfile", awsiam.NewListInstanceProfilesForRolePaginator(cl, &awsiam.ListInstanceProfilesForRoleInput{RoleName: name}), profileNames,
		func(profile string) error {
			_, err := cl.RemoveRoleFromInstanceProfile(ctx, &awsiam.RemoveRoleFromInstanceProfileInput{RoleName: name, InstanceProfileName: aws.String(profile)})
			return err
		})
}

func updateRole(ctx context.Context, c *Catalogue, in *api.UpdateRoleInput) (*api.RoleOutput, error) {
	var changed []string
	if in.Description != nil {
		changed = append(changed, fmt.Sprintf("description %q", *in.Description))
	}
	if in.MaxSessionDuration != 0 {
		changed = append(changed, fmt.Sprintf("maximum session duration %d s", in.MaxSessionDuration))
	}
	if len(changed) == 0 {
		return nil, api.Errorf(api.InvalidInput, "nothing to change: give description (\"\" clears it), max_session_duration or both")
	}
	if _, err := c.clients.IAM.UpdateRole(ctx, &awsiam.UpdateRoleInput{RoleName: aws.String(in.RoleName), Description: in.Description, MaxSessionDuration: optInt32(in.MaxSessionDuration)}); err != nil {
		return nil, err
	}
	return c.roleResult(ctx, in.RoleName, "set the "+strings.Join(changed, " and the ")+" of role "+in.RoleName, nil)
}

func updateAssumeRolePolicy(ctx context.Context, c *Catalogue, in *api.UpdateAssumeRolePolicyInput) (*api.RoleOutput, error) {
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	warnings, err := c.guardDocument(ctx, in.PolicyDocument, policy.TrustPolicy, trustOptions(account),
		"the new trust policy of role "+in.RoleName, "who may assume role "+in.RoleName)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.UpdateAssumeRolePolicy(ctx, &awsiam.UpdateAssumeRolePolicyInput{RoleName: aws.String(in.RoleName), PolicyDocument: aws.String(in.PolicyDocument.String())}); err != nil {
		return nil, err
	}
	return c.roleResult(ctx, in.RoleName, "replaced the trust policy of role "+in.RoleName, warnings)
}

func attachRolePolicy(ctx context.Context, c *Catalogue, in *api.RolePolicyInput) (*api.Result, error) {
	warnings, err := c.guardAttach(ctx, in.PolicyArn, "role "+in.RoleName+" and whoever can assume it")
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String(in.RoleName), PolicyArn: aws.String(in.PolicyArn)}); err != nil {
		return nil, err
	}
	return &api.Result{
		Message:  "attached " + in.PolicyArn + " to role " + in.RoleName,
		Warnings: warnings,
	}, nil
}

func detachRolePolicy(ctx context.Context, c *Catalogue, in *api.RolePolicyInput) (*api.Result, error) {
	warnings, err := c.guardDetach(ctx, "role", in.RoleName, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.DetachRolePolicy(ctx, &awsiam.DetachRolePolicyInput{RoleName: aws.String(in.RoleName), PolicyArn: aws.String(in.PolicyArn)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "detached " + in.PolicyArn + " from role " + in.RoleName, Warnings: warnings}, nil
}

func listAttachedRolePolicies(ctx context.Context, c *Catalogue, in *api.RolePageInput) (*api.AttachedPoliciesOutput, error) {
	out, err := c.clients.IAM.ListAttachedRolePolicies(ctx, &awsiam.ListAttachedRolePoliciesInput{RoleName: aws.String(in.RoleName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.AttachedPoliciesOutput{AttachedPolicies: attachedOf(out.AttachedPolicies), Page: page(out.IsTruncated, out.Marker)}, nil
}

func putRoleBoundary(ctx context.Context, c *Catalogue, in *api.RoleBoundaryInput) (*api.RoleOutput, error) {
	// A wider boundary lets out what the old one held back.
	warnings, err := c.guardBoundary(ctx, "role", in.RoleName, in.PermissionsBoundary)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.PutRolePermissionsBoundary(ctx, &awsiam.PutRolePermissionsBoundaryInput{RoleName: aws.String(in.RoleName), PermissionsBoundary: aws.String(in.PermissionsBoundary)}); err != nil {
		return nil, err
	}
	return c.roleResult(ctx, in.RoleName, "set the permissions boundary of role "+in.RoleName+" to "+in.PermissionsBoundary, warnings)
}

func deleteRoleBoundary(ctx context.Context, c *Catalogue, in *api.RoleNameInput) (*api.RoleOutput, error) {
	warnings, err := c.guardBoundary(ctx, "role", in.RoleName, "")
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.DeleteRolePermissionsBoundary(ctx, &awsiam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(in.RoleName)}); err != nil {
		return nil, err
	}
	return c.roleResult(ctx, in.RoleName, "removed the permissions boundary of role "+in.RoleName+"; its policies alone now decide what it can do", warnings)
}

// roleResult reads a role back after a change, so results show its state.
func (c *Catalogue) roleResult(ctx context.Context, name, message string, warnings []string) (*api.RoleOutput, error) {
	r, err := c.clients.IAM.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return &api.RoleOutput{Role: roleOf(r.Role), Result: api.Result{Message: message, Warnings: warnings}}, nil
}

func roleAttached(o *awsiam.ListAttachedRolePoliciesOutput) []api.AttachedPolicy {
	return attachedOf(o.AttachedPolicies)
}

func roleInlineNames(o *awsiam.ListRolePoliciesOutput) []string { return o.PolicyNames }

func profileNames(o *awsiam.ListInstanceProfilesForRoleOutput) []string {
	names := make([]string, 0, len(o.InstanceProfiles))
	for _, p := range o.InstanceProfiles {
		names = append(names, str(p.InstanceProfileName))
	}
	return names
}

// ---- instance profiles ----

func listInstanceProfilesForRole(ctx context.Context, c *Catalogue, in *api.RolePageInput) (*api.InstanceProfilesOutput, error) {
	out, err := c.clients.IAM.ListInstanceProfilesForRole(ctx, &awsiam.ListInstanceProfilesForRoleInput{RoleName: aws.String(in.RoleName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.InstanceProfilesOutput{InstanceProfiles: make([]api.InstanceProfile, 0, len(out.InstanceProfiles)), Page: page(out.IsTruncated, out.Marker)}
	for i := range out.InstanceProfiles {
		res.InstanceProfiles = append(res.InstanceProfiles, instanceProfileOf(&out.InstanceProfiles[i]))
	}
	return res, nil
}

func createInstanceProfile(ctx context.Context, c *Catalogue, in *api.CreateInstanceProfileInput) (*api.InstanceProfileOutput, error) {
	out, err := c.clients.IAM.CreateInstanceProfile(ctx, &awsiam.CreateInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName), Path: optStr(in.Path)})
	if err != nil {
		return nil, err
	}
	return &api.InstanceProfileOutput{InstanceProfile: instanceProfileOf(out.InstanceProfile), Result: api.Result{Message: "created instance profile " + in.InstanceProfileName + "; put a role in it with add_role_to_instance_profile"}}, nil
}

func addRoleToInstanceProfile(ctx context.Context, c *Catalogue, in *api.InstanceProfileRoleInput) (*api.Result, error) {
	_, err := c.clients.IAM.AddRoleToInstanceProfile(ctx, &awsiam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName), RoleName: aws.String(in.RoleName)})
	// IAM's "quota for InstanceSessionsPerInstanceProfile" means the one
	// slot is taken; say by whom, and how to free it.
	if isCode(err, "LimitExceeded") {
		return nil, api.Errorf(api.LimitExceeded, "instance profile %s already holds %s, and a profile holds only one role; take it out first with remove_role_from_instance_profile", in.InstanceProfileName, c.profileHolder(ctx, in.InstanceProfileName))
	}
	if err != nil {
		return nil, err
	}
	return &api.Result{Message: "put role " + in.RoleName + " into instance profile " + in.InstanceProfileName + "; instances launched with the profile get the role's permissions"}, nil
}

func removeRoleFromInstanceProfile(ctx context.Context, c *Catalogue, in *api.InstanceProfileRoleInput) (*api.Result, error) {
	if _, err := c.clients.IAM.RemoveRoleFromInstanceProfile(ctx, &awsiam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName), RoleName: aws.String(in.RoleName)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "took role " + in.RoleName + " out of instance profile " + in.InstanceProfileName + "; instances using the profile lose the role's permissions"}, nil
}

func deleteInstanceProfile(ctx context.Context, c *Catalogue, in *api.InstanceProfileNameInput) (*api.DeleteOutput, error) {
	_, err := c.clients.IAM.DeleteInstanceProfile(ctx, &awsiam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName)})
	if isCode(err, "DeleteConflict") {
		return nil, api.Errorf(api.DeleteConflict, "instance profile %s still holds %s; take it out first with remove_role_from_instance_profile, then delete the profile. Nothing was changed.", in.InstanceProfileName, c.profileHolder(ctx, in.InstanceProfileName))
	}
	if err != nil {
		return nil, err
	}
	return (&deletion{}).output(in.InstanceProfileName, "instance profile"), nil
}

// profileHolder names the role an instance profile holds, for messages;
// "a role" when it cannot be read.
func (c *Catalogue) profileHolder(ctx context.Context, profile string) string {
	out, err := c.clients.IAM.GetInstanceProfile(ctx, &awsiam.GetInstanceProfileInput{InstanceProfileName: aws.String(profile)})
	if err != nil || len(out.InstanceProfile.Roles) == 0 {
		return "a role"
	}
	return "role " + strings.Join(instanceProfileOf(out.InstanceProfile).Roles, ", ")
}
