package catalogue

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func init() {
	implement("list_groups", listGroups)
	implement("get_group", getGroup)
	implementChange("create_group", createGroup)
	implementChange("delete_group", deleteGroup)
	implementChange("add_user_to_group", addUserToGroup)
	implementChange("remove_user_from_group", removeUserFromGroup)
	implementChange("attach_group_policy", attachGroupPolicy)
	implementChange("detach_group_policy", detachGroupPolicy)
	implement("list_attached_group_policies", listAttachedGroupPolicies)
}

func listGroups(ctx context.Context, c *Catalogue, in *api.ListGroupsInput) (*api.GroupsOutput, error) {
	out, err := c.clients.IAM.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: optStr(in.PathPrefix), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.GroupsOutput{Groups: convertAll(out.Groups, groupOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

// getGroup pages through members (a group can hold thousands) but returns
// every attached and inline policy: there are few, and a partial list of
// what a group grants would mislead.
func getGroup(ctx context.Context, c *Catalogue, in *api.GetGroupInput) (*api.GetGroupOutput, error) {
	cl, name := c.clients.IAM, aws.String(in.GroupName)
	g, err := cl.GetGroup(ctx, &iam.GetGroupInput{GroupName: name, MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.GetGroupOutput{Group: groupOf(g.Group), Users: convertAll(g.Users, userOf), Page: page(g.IsTruncated, g.Marker)}
	if res.AttachedPolicies, res.InlinePolicies, err = groupKind.policies(ctx, c, in.GroupName); err != nil {
		return nil, err
	}
	return res, nil
}

func createGroup(ctx context.Context, c *Catalogue, in *api.CreateGroupInput) (*Planned[api.GroupOutput], error) {
	if err := groupKind.notTaken(ctx, c, in.GroupName); err != nil {
		return nil, err
	}
	var created *types.Group
	b := newChange("create IAM group "+in.GroupName).
		call("CreateGroup", groupEntity(in.GroupName), func(ctx context.Context) error {
			out, err := c.clients.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(in.GroupName), Path: optStr(in.Path)})
			if err == nil {
				created = out.Group
			}
			return err
		}).
		affects(groupEntity(in.GroupName)).
		undo("delete_group " + in.GroupName)
	if in.Path != "" {
		b.detail("under the path " + in.Path)
	}
	return finish(b, func(context.Context, *deletion) (*api.GroupOutput, error) {
		return &api.GroupOutput{Group: groupOf(created), Result: api.Result{Message: "created group " + in.GroupName + "; it grants nothing until you attach policies (attach_group_policy) and has no members (add_user_to_group)"}}, nil
	})
}

func deleteGroup(ctx context.Context, c *Catalogue, in *api.DeleteGroupInput) (*Planned[api.DeleteOutput], error) {
	cl, name := c.clients.IAM, aws.String(in.GroupName)
	const clears = "its members and its attached and inline policies"
	var warnings []string
	if in.Force {
		// Forcing removes every member first: what the group's Deny
		// statements held back is judged, as for remove_user_from_group.
		w, err := c.guardGroupDelete(ctx, in.GroupName)
		if err != nil {
			return nil, err
		}
		warnings = w
	}
	// What IAM refuses to delete a group over is listed either way (which
	// also finds a missing group): with force it is removed first; without,
	// the delete is refused now, as IAM would refuse it.
	b := newChange("delete IAM group " + in.GroupName)
	if err := c.planClearGroup(ctx, b, in.GroupName); err != nil {
		return nil, err
	}
	if what := countSteps(b, [3]string{"RemoveUserFromGroup", "member", "members"}, [3]string{"DetachGroupPolicy", "attached policy", "attached policies"},
		[3]string{"DeleteGroupPolicy", "inline policy", "inline policies"}); what != "" {
		if !in.Force {
			return nil, refuseAtPlan(api.DeleteConflict, "group %s still has %s, and IAM deletes only an empty group. Nothing was changed. Remove those first, or call delete_group again with force=true to remove %s", in.GroupName, what, clears)
		}
		b.plan.Summary += " after removing its " + what
	}
	b.findings(warnings)
	p, err := deleteChange(b, in.Force, "group", in.GroupName, clears, "DeleteGroup",
		func(ctx context.Context) error {
			_, err := cl.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: name})
			return err
		})
	if err != nil {
		return nil, err
	}
	return withResultWarnings(p, warnings, func(o *api.DeleteOutput) *api.Result { return &o.Result }), nil
}

// planClearGroup lists, across all pages, what IAM refuses to delete a
// group over, as calls of b in a working order: members, then attached
// policies, then inline policies.
func (c *Catalogue) planClearGroup(ctx context.Context, b *changeBuilder, group string) error {
	cl, name := c.clients.IAM, aws.String(group)
	err := listAll(ctx, b, "RemoveUserFromGroup", iam.NewGetGroupPaginator(cl, &iam.GetGroupInput{GroupName: name}),
		func(o *iam.GetGroupOutput) []string {
			return collect(o.Users, func(u types.User) *string { return u.UserName })
		}, userEntity,
		func(ctx context.Context, user string) error {
			_, err := cl.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: name, UserName: aws.String(user)})
			return err
		})
	if err != nil {
		return err
	}
	if err := groupKind.planDetachAll(ctx, c, b, group); err != nil {
		return err
	}
	return groupKind.planDeleteInlineAll(ctx, c, b, group)
}

func addUserToGroup(ctx context.Context, c *Catalogue, in *api.GroupMemberInput) (*Planned[api.Result], error) {
	// The guardrail reads the group first, so a missing group is refused
	// before a missing user, as IAM refuses them.
	warnings, err := c.guardGroupMembership(ctx, in.GroupName, in.UserName)
	if err != nil {
		return nil, err
	}
	groups, err := c.userGroupsChecked(ctx, in.GroupName, in.UserName)
	if err != nil {
		return nil, err
	}
	member := containsFold(groups, in.GroupName)
	if !member && len(groups) >= maxGroupsPerUser {
		return nil, refuseAtPlan(api.LimitExceeded, "user %s is in %d groups, the most IAM allows. Nothing was changed; remove the user from a group first (remove_user_from_group)", in.UserName, len(groups))
	}
	b := newChange("add IAM user "+in.UserName+" to group "+in.GroupName+": the user gets the group's permissions").
		call("AddUserToGroup", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(in.GroupName), UserName: aws.String(in.UserName)})
			return err
		}).
		detail("into group "+in.GroupName).
		affects(userEntity(in.UserName), groupEntity(in.GroupName)).
		findings(warnings)
	if member {
		b.detail("user " + in.UserName + " is in group " + in.GroupName + " already: nothing will change")
		b.undo("nothing to undo")
	} else {
		b.undo("remove_user_from_group " + in.GroupName + " " + in.UserName)
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "added user " + in.UserName + " to group " + in.GroupName + "; the user now has the group's permissions", Warnings: warnings}, nil
	})
}

func removeUserFromGroup(ctx context.Context, c *Catalogue, in *api.GroupMemberInput) (*Planned[api.Result], error) {
	groups, err := c.userGroupsChecked(ctx, in.GroupName, in.UserName)
	if err != nil {
		return nil, err
	}
	if !containsFold(groups, in.GroupName) {
		return nil, refuseAtPlan(api.NoSuchEntity, "user %s is not in group %s. Nothing was changed; list_groups_for_user shows the user's groups", in.UserName, in.GroupName)
	}
	warnings, err := c.guardGroupLeave(ctx, in.GroupName, in.UserName)
	if err != nil {
		return nil, err
	}
	b := newChange("remove IAM user "+in.UserName+" from group "+in.GroupName+": the user loses what only this group granted").
		call("RemoveUserFromGroup", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String(in.GroupName), UserName: aws.String(in.UserName)})
			return err
		}).
		detail("from group "+in.GroupName).
		affects(userEntity(in.UserName), groupEntity(in.GroupName)).
		findings(warnings).
		undo("add_user_to_group " + in.GroupName + " " + in.UserName)
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "removed user " + in.UserName + " from group " + in.GroupName + "; the user no longer has what only this group granted", Warnings: warnings}, nil
	})
}

func attachGroupPolicy(ctx context.Context, c *Catalogue, in *api.GroupPolicyInput) (*Planned[api.Result], error) {
	warnings, err := c.guardAttach(ctx, in.PolicyArn, "group "+in.GroupName+" and every member of it")
	if err != nil {
		return nil, err
	}
	b, err := c.planAttach(ctx, "group", in.GroupName, in.PolicyArn, "attach "+in.PolicyArn+" to IAM group "+in.GroupName+": every member gets its permissions", warnings,
		func(ctx context.Context) error {
			_, err := c.clients.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(in.GroupName), PolicyArn: aws.String(in.PolicyArn)})
			return err
		})
	if err != nil {
		return nil, err
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "attached " + in.PolicyArn + " to group " + in.GroupName + "; every member now has its permissions", Warnings: warnings}, nil
	})
}

func detachGroupPolicy(ctx context.Context, c *Catalogue, in *api.GroupPolicyInput) (*Planned[api.Result], error) {
	b, warnings, err := c.planDetach(ctx, "group", in.GroupName, in.PolicyArn, "detach "+in.PolicyArn+" from IAM group "+in.GroupName+": its members lose what it granted through this group",
		func(ctx context.Context) error {
			_, err := c.clients.IAM.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String(in.GroupName), PolicyArn: aws.String(in.PolicyArn)})
			return err
		})
	if err != nil {
		return nil, err
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "detached " + in.PolicyArn + " from group " + in.GroupName + "; its members no longer have what it granted through this group", Warnings: warnings}, nil
	})
}

func listAttachedGroupPolicies(ctx context.Context, c *Catalogue, in *api.GroupPageInput) (*api.AttachedPoliciesOutput, error) {
	out, err := c.clients.IAM.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(in.GroupName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.AttachedPoliciesOutput{AttachedPolicies: attachedOf(out.AttachedPolicies), Page: page(out.IsTruncated, out.Marker)}, nil
}
