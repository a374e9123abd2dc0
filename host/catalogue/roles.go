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

func init() {
	implement("list_roles", listRoles)
	implement("get_role", getRole)
	implementChange("create_role", createRole)
	implementChange("delete_role", deleteRole)
	implementChange("update_role", updateRole)
	implementChange("update_assume_role_policy", updateAssumeRolePolicy)
	implementChange("attach_role_policy", attachRolePolicy)
	implementChange("detach_role_policy", detachRolePolicy)
	implement("list_attached_role_policies", listAttachedRolePolicies)
	implementChange("put_role_permissions_boundary", putRoleBoundary)
	implementChange("delete_role_permissions_boundary", deleteRoleBoundary)
	implement("list_instance_profiles_for_role", listInstanceProfilesForRole)
	implementChange("create_instance_profile", createInstanceProfile)
	implementChange("add_role_to_instance_profile", addRoleToInstanceProfile)
	implementChange("remove_role_from_instance_profile", removeRoleFromInstanceProfile)
	implementChange("delete_instance_profile", deleteInstanceProfile)
}

func listRoles(ctx context.Context, c *Catalogue, in *api.ListRolesInput) (*api.ListRolesOutput, error) {
	out, err := c.clients.IAM.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: optStr(in.PathPrefix), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.ListRolesOutput{Roles: convertAll(out.Roles, roleOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func getRole(ctx context.Context, c *Catalogue, in *api.RoleNameInput) (*api.GetRoleOutput, error) {
	cl, name := c.clients.IAM, aws.String(in.RoleName)
	r, err := cl.GetRole(ctx, &iam.GetRoleInput{RoleName: name})
	if err != nil {
		return nil, err
	}
	res := &api.GetRoleOutput{Role: roleOf(r.Role)}
	if res.AttachedPolicies, res.InlinePolicies, err = roleKind.policies(ctx, c, in.RoleName); err != nil {
		return nil, err
	}
	if res.InstanceProfiles, err = allPages(ctx, iam.NewListInstanceProfilesForRolePaginator(cl, &iam.ListInstanceProfilesForRoleInput{RoleName: name}), profileNames); err != nil {
		return nil, err
	}
	return res, nil
}

func createRole(ctx context.Context, c *Catalogue, in *api.CreateRoleInput) (*Planned[api.RoleOutput], error) {
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	warnings, err := c.guardDocument(ctx, in.AssumeRolePolicyDocument, policy.TrustPolicy, trustOptions(account),
		"the trust policy of new role "+in.RoleName, "who may assume role "+in.RoleName)
	if err != nil {
		return nil, err
	}
	if err := roleKind.notTaken(ctx, c, in.RoleName); err != nil {
		return nil, err
	}
	if in.PermissionsBoundary != "" {
		if err := c.boundaryExists(ctx, in.PermissionsBoundary, "created"); err != nil {
			return nil, err
		}
	} else {
		warnings = append(warnings, noBoundaryWarning)
	}
	var created *types.Role
	b := newChange("create IAM role "+in.RoleName+", which the principals of its trust policy may assume").
		call("CreateRole", roleEntity(in.RoleName), func(ctx context.Context) error {
			out, err := c.clients.IAM.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName: aws.String(in.RoleName), AssumeRolePolicyDocument: aws.String(in.AssumeRolePolicyDocument.String()),
				Path: optStr(in.Path), Description: optStr(in.Description), MaxSessionDuration: optInt32(in.MaxSessionDuration),
				PermissionsBoundary: optStr(in.PermissionsBoundary),
			})
			if err == nil {
				created = out.Role
			}
			return err
		}).
		detail(createRoleDetail(in)).
		affects(roleEntity(in.RoleName)).
		findings(warnings).
		undo("delete_role " + in.RoleName)
	return finish(b, func(context.Context, *deletion) (*api.RoleOutput, error) {
		return &api.RoleOutput{Role: roleOf(created), Result: api.Result{
			Message:  "created role " + in.RoleName + "; it has no permissions until you attach or put policies",
			Warnings: warnings,
		}}, nil
	})
}

// createRoleDetail is what create_role sets besides the name: the trust
// policy in full, which the person approving must see.
func createRoleDetail(in *api.CreateRoleInput) string {
	d := "trust policy " + oneLine(in.AssumeRolePolicyDocument)
	if in.PermissionsBoundary != "" {
		d += "; permissions boundary " + in.PermissionsBoundary
	}
	if in.Path != "" {
		d += "; path " + in.Path
	}
	if in.MaxSessionDuration != 0 {
		d += fmt.Sprintf("; maximum session duration %d s", in.MaxSessionDuration)
	}
	if in.Description != "" {
		d += fmt.Sprintf("; description %q", in.Description)
	}
	return d
}

func deleteRole(ctx context.Context, c *Catalogue, in *api.DeleteRoleInput) (*Planned[api.DeleteOutput], error) {
	cl, name := c.clients.IAM, aws.String(in.RoleName)
	const clears = "its attached and inline policies and take it out of its instance profiles"
	// What IAM refuses to delete a role over is listed either way (which
	// also finds a missing role): with force it is removed first; without,
	// the delete is refused now, as IAM would refuse it.
	b := newChange("delete IAM role " + in.RoleName + "; whatever assumes it stops working")
	if err := c.planClearRole(ctx, b, in.RoleName); err != nil {
		return nil, err
	}
	if what := countSteps(b, [3]string{"DetachRolePolicy", "attached policy", "attached policies"}, [3]string{"DeleteRolePolicy", "inline policy", "inline policies"},
		[3]string{"RemoveRoleFromInstanceProfile", "instance profile", "instance profiles"}); what != "" {
		if !in.Force {
			return nil, refuseAtPlan(api.DeleteConflict, "role %s still has %s, and IAM deletes only a role without policies or instance profiles. Nothing was changed. Remove those first, or call delete_role again with force=true to remove %s", in.RoleName, what, clears)
		}
		b.plan.Summary = "delete IAM role " + in.RoleName + " after removing its " + what + "; whatever assumes it stops working"
	}
	return deleteChange(b, in.Force, "role", in.RoleName, clears, "DeleteRole",
		func(ctx context.Context) error {
			_, err := cl.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
			return err
		})
}

// planClearRole lists, across all pages, what IAM refuses to delete a role
// over, as calls of b in a working order: attached policies, inline
// policies, instance-profile memberships.
func (c *Catalogue) planClearRole(ctx context.Context, b *changeBuilder, role string) error {
	if err := roleKind.planDetachAll(ctx, c, b, role); err != nil {
		return err
	}
	if err := roleKind.planDeleteInlineAll(ctx, c, b, role); err != nil {
		return err
	}
	cl, name := c.clients.IAM, aws.String(role)
	return listAll(ctx, b, "RemoveRoleFromInstanceProfile", iam.NewListInstanceProfilesForRolePaginator(cl, &iam.ListInstanceProfilesForRoleInput{RoleName: name}), profileNames,
		instanceProfileEntity,
		func(ctx context.Context, profile string) error {
			_, err := cl.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{RoleName: name, InstanceProfileName: aws.String(profile)})
			return err
		})
}

func updateRole(ctx context.Context, c *Catalogue, in *api.UpdateRoleInput) (*Planned[api.RoleOutput], error) {
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
	r, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(in.RoleName)})
	if err != nil {
		return nil, err
	}
	// The undo names the values the role has now, for the fields changed.
	oldDesc, oldMax := str(r.Role.Description), int(aws.ToInt32(r.Role.MaxSessionDuration))
	if oldMax == 0 {
		oldMax = 3600 // IAM's default, should a reply leave it out
	}
	var undo []string
	same := true
	if in.Description != nil {
		undo = append(undo, fmt.Sprintf("description %q", oldDesc))
		same = same && *in.Description == oldDesc
	}
	if in.MaxSessionDuration != 0 {
		undo = append(undo, fmt.Sprintf("max_session_duration %d", oldMax))
		same = same && in.MaxSessionDuration == oldMax
	}
	set := "set the " + strings.Join(changed, " and the ") + " of role " + in.RoleName
	b := newChange(set).
		call("UpdateRole", roleEntity(in.RoleName), func(ctx context.Context) error {
			_, err := c.clients.IAM.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(in.RoleName), Description: in.Description, MaxSessionDuration: optInt32(in.MaxSessionDuration)})
			return err
		}).
		affects(roleEntity(in.RoleName))
	if same {
		b.detail("the role has these values already: nothing will change")
		b.undo("nothing to undo")
	} else {
		b.undo("update_role " + in.RoleName + " with " + strings.Join(undo, " and "))
	}
	return finish(b, func(ctx context.Context, _ *deletion) (*api.RoleOutput, error) {
		return c.roleResult(ctx, in.RoleName, set, nil)
	})
}

func updateAssumeRolePolicy(ctx context.Context, c *Catalogue, in *api.UpdateAssumeRolePolicyInput) (*Planned[api.RoleOutput], error) {
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	warnings, err := c.guardDocument(ctx, in.PolicyDocument, policy.TrustPolicy, trustOptions(account),
		"the new trust policy of role "+in.RoleName, "who may assume role "+in.RoleName)
	if err != nil {
		return nil, err
	}
	r, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(in.RoleName)})
	if err != nil {
		return nil, err
	}
	old, next := oneLine(decodeDocument(r.Role.AssumeRolePolicyDocument)), oneLine(in.PolicyDocument)
	b := newChange("replace the trust policy of IAM role "+in.RoleName+": who may assume it").
		call("UpdateAssumeRolePolicy", roleEntity(in.RoleName), func(ctx context.Context) error {
			_, err := c.clients.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(in.RoleName), PolicyDocument: aws.String(in.PolicyDocument.String())})
			return err
		}).
		detail("new trust policy " + next).
		affects(roleEntity(in.RoleName)).
		findings(warnings)
	if old == next {
		b.detail("the role has this trust policy already: nothing will change; it is " + next)
		b.undo("nothing to undo")
	} else {
		b.undo("update_assume_role_policy " + in.RoleName + " with the trust policy it has now: " + old)
	}
	return finish(b, func(ctx context.Context, _ *deletion) (*api.RoleOutput, error) {
		return c.roleResult(ctx, in.RoleName, "replaced the trust policy of role "+in.RoleName, warnings)
	})
}

func attachRolePolicy(ctx context.Context, c *Catalogue, in *api.RolePolicyInput) (*Planned[api.Result], error) {
	warnings, err := c.guardAttach(ctx, in.PolicyArn, "role "+in.RoleName+" and whoever can assume it")
	if err != nil {
		return nil, err
	}
	b, err := c.planAttach(ctx, "role", in.RoleName, in.PolicyArn, "attach "+in.PolicyArn+" to IAM role "+in.RoleName+": whoever assumes it gets its permissions", warnings,
		func(ctx context.Context) error {
			_, err := c.clients.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(in.RoleName), PolicyArn: aws.String(in.PolicyArn)})
			return err
		})
	if err != nil {
		return nil, err
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "attached " + in.PolicyArn + " to role " + in.RoleName, Warnings: warnings}, nil
	})
}

func detachRolePolicy(ctx context.Context, c *Catalogue, in *api.RolePolicyInput) (*Planned[api.Result], error) {
	b, warnings, err := c.planDetach(ctx, "role", in.RoleName, in.PolicyArn, "detach "+in.PolicyArn+" from IAM role "+in.RoleName+": whatever uses the role loses what it granted",
		func(ctx context.Context) error {
			_, err := c.clients.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(in.RoleName), PolicyArn: aws.String(in.PolicyArn)})
			return err
		})
	if err != nil {
		return nil, err
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "detached " + in.PolicyArn + " from role " + in.RoleName, Warnings: warnings}, nil
	})
}

func listAttachedRolePolicies(ctx context.Context, c *Catalogue, in *api.RolePageInput) (*api.AttachedPoliciesOutput, error) {
	out, err := c.clients.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(in.RoleName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.AttachedPoliciesOutput{AttachedPolicies: attachedOf(out.AttachedPolicies), Page: page(out.IsTruncated, out.Marker)}, nil
}

func putRoleBoundary(ctx context.Context, c *Catalogue, in *api.RoleBoundaryInput) (*Planned[api.RoleOutput], error) {
	old, err := roleKind.boundary(ctx, c, in.RoleName)
	if err != nil {
		return nil, err
	}
	if err := c.boundaryExists(ctx, in.PermissionsBoundary, "changed"); err != nil {
		return nil, err
	}
	// A wider boundary lets out what the old one held back.
	warnings, err := c.guardBoundary(ctx, "role", in.RoleName, in.PermissionsBoundary)
	if err != nil {
		return nil, err
	}
	b := newChange("set the permissions boundary of IAM role "+in.RoleName+" to "+in.PermissionsBoundary+": it can then do only what both its policies and the boundary allow").
		call("PutRolePermissionsBoundary", roleEntity(in.RoleName), func(ctx context.Context) error {
			_, err := c.clients.IAM.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(in.RoleName), PermissionsBoundary: aws.String(in.PermissionsBoundary)})
			return err
		}).
		affects(roleEntity(in.RoleName)).
		findings(warnings)
	switch old {
	case "":
		b.undo("delete_role_permissions_boundary " + in.RoleName)
	case in.PermissionsBoundary:
		b.detail("the role has this permissions boundary already: nothing will change")
		b.undo("nothing to undo")
	default:
		b.detail("replaces the permissions boundary " + old)
		b.undo("put_role_permissions_boundary " + in.RoleName + " with " + old + " (the boundary it has now)")
	}
	return finish(b, func(ctx context.Context, _ *deletion) (*api.RoleOutput, error) {
		return c.roleResult(ctx, in.RoleName, "set the permissions boundary of role "+in.RoleName+" to "+in.PermissionsBoundary, warnings)
	})
}

func deleteRoleBoundary(ctx context.Context, c *Catalogue, in *api.RoleNameInput) (*Planned[api.RoleOutput], error) {
	old, err := roleKind.boundary(ctx, c, in.RoleName)
	if err != nil {
		return nil, err
	}
	warnings, err := c.guardBoundary(ctx, "role", in.RoleName, "")
	if err != nil {
		return nil, err
	}
	b := newChange("remove the permissions boundary of IAM role "+in.RoleName+": its policies alone then decide what it can do").
		call("DeleteRolePermissionsBoundary", roleEntity(in.RoleName), func(ctx context.Context) error {
			_, err := c.clients.IAM.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(in.RoleName)})
			return err
		}).
		affects(roleEntity(in.RoleName)).
		findings(warnings)
	if old == "" {
		b.detail("the role has no permissions boundary: nothing will change")
		b.undo("nothing to undo")
	} else {
		b.detail("removes the permissions boundary " + old)
		b.undo("put_role_permissions_boundary " + in.RoleName + " with " + old)
	}
	return finish(b, func(ctx context.Context, _ *deletion) (*api.RoleOutput, error) {
		return c.roleResult(ctx, in.RoleName, "removed the permissions boundary of role "+in.RoleName+"; its policies alone now decide what it can do", warnings)
	})
}

// roleResult reads a role back after a change, so results show its state.
func (c *Catalogue) roleResult(ctx context.Context, name, message string, warnings []string) (*api.RoleOutput, error) {
	r, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return &api.RoleOutput{Role: roleOf(r.Role), Result: api.Result{Message: message, Warnings: warnings}}, nil
}

func profileNames(o *iam.ListInstanceProfilesForRoleOutput) []string {
	return convertAll(o.InstanceProfiles, func(p *types.InstanceProfile) string { return str(p.InstanceProfileName) })
}

// ---- instance profiles ----

func listInstanceProfilesForRole(ctx context.Context, c *Catalogue, in *api.RolePageInput) (*api.InstanceProfilesOutput, error) {
	out, err := c.clients.IAM.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(in.RoleName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.InstanceProfilesOutput{InstanceProfiles: convertAll(out.InstanceProfiles, instanceProfileOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func createInstanceProfile(ctx context.Context, c *Catalogue, in *api.CreateInstanceProfileInput) (*Planned[api.InstanceProfileOutput], error) {
	if err := notTaken("instance profile", in.InstanceProfileName, func() (string, error) {
		p, err := c.clients.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName)})
		if err != nil {
			return "", err
		}
		return str(p.InstanceProfile.InstanceProfileName), nil
	}); err != nil {
		return nil, err
	}
	var created *types.InstanceProfile
	b := newChange("create the EC2 instance profile "+in.InstanceProfileName).
		call("CreateInstanceProfile", instanceProfileEntity(in.InstanceProfileName), func(ctx context.Context) error {
			out, err := c.clients.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName), Path: optStr(in.Path)})
			if err == nil {
				created = out.InstanceProfile
			}
			return err
		}).
		affects(instanceProfileEntity(in.InstanceProfileName)).
		undo("delete_instance_profile " + in.InstanceProfileName)
	if in.Path != "" {
		b.detail("under the path " + in.Path)
	}
	return finish(b, func(context.Context, *deletion) (*api.InstanceProfileOutput, error) {
		return &api.InstanceProfileOutput{InstanceProfile: instanceProfileOf(created), Result: api.Result{Message: "created instance profile " + in.InstanceProfileName + "; put a role in it with add_role_to_instance_profile"}}, nil
	})
}

// profileRoles reads the roles an instance profile holds (one at most),
// which checks that it exists.
func (c *Catalogue) profileRoles(ctx context.Context, profile string) ([]string, error) {
	out, err := c.clients.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(profile)})
	if err != nil {
		return nil, err
	}
	return instanceProfileOf(out.InstanceProfile).Roles, nil
}

func addRoleToInstanceProfile(ctx context.Context, c *Catalogue, in *api.InstanceProfileRoleInput) (*Planned[api.Result], error) {
	// IAM's order: the profile exists, the role exists, then the slot.
	held, err := c.profileRoles(ctx, in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(in.RoleName)}); err != nil {
		return nil, err
	}
	// IAM counts the slot, not the role: adding the role already there is
	// refused too.
	if len(held) > 0 {
		return nil, api.Errorf(api.LimitExceeded, "instance profile %s already holds role %s, and a profile holds only one role; take it out first with remove_role_from_instance_profile", in.InstanceProfileName, strings.Join(held, ", "))
	}
	b := newChange("put IAM role "+in.RoleName+" into instance profile "+in.InstanceProfileName+": instances launched with the profile get the role's permissions").
		call("AddRoleToInstanceProfile", instanceProfileEntity(in.InstanceProfileName), func(ctx context.Context) error {
			_, err := c.clients.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName), RoleName: aws.String(in.RoleName)})
			// IAM's "quota for InstanceSessionsPerInstanceProfile" means the
			// one slot was taken since the plan; say by whom, and how to
			// free it.
			if isCode(err, "LimitExceeded") {
				return api.Errorf(api.LimitExceeded, "instance profile %s already holds %s, and a profile holds only one role; take it out first with remove_role_from_instance_profile", in.InstanceProfileName, c.profileHolder(ctx, in.InstanceProfileName))
			}
			return err
		}).
		detail("adds role "+in.RoleName).
		affects(instanceProfileEntity(in.InstanceProfileName), roleEntity(in.RoleName)).
		undo("remove_role_from_instance_profile " + in.InstanceProfileName + " " + in.RoleName)
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "put role " + in.RoleName + " into instance profile " + in.InstanceProfileName + "; instances launched with the profile get the role's permissions"}, nil
	})
}

func removeRoleFromInstanceProfile(ctx context.Context, c *Catalogue, in *api.InstanceProfileRoleInput) (*Planned[api.Result], error) {
	held, err := c.profileRoles(ctx, in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(in.RoleName)}); err != nil {
		return nil, err
	}
	if !containsFold(held, in.RoleName) {
		holds := "no role"
		if len(held) > 0 {
			holds = "role " + strings.Join(held, ", ")
		}
		return nil, refuseAtPlan(api.NoSuchEntity, "instance profile %s does not hold role %s (it holds %s). Nothing was changed", in.InstanceProfileName, in.RoleName, holds)
	}
	b := newChange("take IAM role "+in.RoleName+" out of instance profile "+in.InstanceProfileName+": instances using the profile lose the role's permissions").
		call("RemoveRoleFromInstanceProfile", instanceProfileEntity(in.InstanceProfileName), func(ctx context.Context) error {
			_, err := c.clients.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName), RoleName: aws.String(in.RoleName)})
			return err
		}).
		detail("removes role "+in.RoleName).
		affects(instanceProfileEntity(in.InstanceProfileName), roleEntity(in.RoleName)).
		undo("add_role_to_instance_profile " + in.InstanceProfileName + " " + in.RoleName)
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "took role " + in.RoleName + " out of instance profile " + in.InstanceProfileName + "; instances using the profile lose the role's permissions"}, nil
	})
}

func deleteInstanceProfile(ctx context.Context, c *Catalogue, in *api.InstanceProfileNameInput) (*Planned[api.DeleteOutput], error) {
	held, err := c.profileRoles(ctx, in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	conflict := func(holder string) error {
		return api.Errorf(api.DeleteConflict, "instance profile %s still holds %s; take it out first with remove_role_from_instance_profile, then delete the profile. Nothing was changed.", in.InstanceProfileName, holder)
	}
	if len(held) > 0 {
		return nil, conflict("role " + strings.Join(held, ", "))
	}
	b := newChange("delete the EC2 instance profile "+in.InstanceProfileName).
		call("DeleteInstanceProfile", instanceProfileEntity(in.InstanceProfileName), func(ctx context.Context) error {
			_, err := c.clients.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(in.InstanceProfileName)})
			if isCode(err, "DeleteConflict") { // a role was put in since the plan
				return conflict(c.profileHolder(ctx, in.InstanceProfileName))
			}
			return err
		}).
		affects(instanceProfileEntity(in.InstanceProfileName)).
		final("a deleted instance profile cannot be restored: one created with the same name has a new id, and instances launched with the old one must be given the new one")
	return finish(b, func(context.Context, *deletion) (*api.DeleteOutput, error) {
		return (&deletion{}).output(in.InstanceProfileName, "instance profile"), nil
	})
}

// profileHolder names the role an instance profile holds, for messages;
// "a role" when it cannot be read.
func (c *Catalogue) profileHolder(ctx context.Context, profile string) string {
	out, err := c.clients.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(profile)})
	if err != nil || len(out.InstanceProfile.Roles) == 0 {
		return "a role"
	}
	return "role " + strings.Join(instanceProfileOf(out.InstanceProfile).Roles, ", ")
}
