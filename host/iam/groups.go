package iam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func init() {
	implement("list_groups", listGroups)
	implement("get_group", getGroup)
	implementLegacy("create_group", createGroup)
	implementLegacy("delete_group", deleteGroup)
	implementLegacy("add_user_to_group", addUserToGroup)
	implementLegacy("remove_user_from_group", removeUserFromGroup)
	implementLegacy("attach_group_policy", attachGroupPolicy)
	implementLegacy("detach_group_policy", detachGroupPolicy)
	implement("list_attached_group_policies", listAttachedGroupPolicies)
}

func listGroups(ctx context.Context, c *Catalogue, in *api.ListGroupsInput) (*api.GroupsOutput, error) {
	out, err := c.clients.IAM.ListGroups(ctx, &awsiam.ListGroupsInput{PathPrefix: optStr(in.PathPrefix), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.GroupsOutput{Groups: make([]api.Group, 0, len(out.Groups)), Page: page(out.IsTruncated, out.Marker)}
	for i := range out.Groups {
		res.Groups = append(res.Groups, groupOf(&out.Groups[i]))
	}
	return res, nil
}

// getGroup pages through members (a group can hold thousands) but returns
// every attached and inline policy: there are few, and a partial list of
// what a group grants would mislead.
func getGroup(ctx context.Context, c *Catalogue, in *api.GetGroupInput) (*api.GetGroupOutput, error) {
	cl, name := c.clients.IAM, aws.String(in.GroupName)
	g, err := cl.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: name, MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	res := &api.GetGroupOutput{Group: groupOf(g.Group), Users: make([]api.User, 0, len(g.Users)), Page: page(g.IsTruncated, g.Marker)}
	for i := range g.Users {
		res.Users = append(res.Users, userOf(&g.Users[i]))
	}
	if res.AttachedPolicies, err = allPages(ctx, awsiam.NewListAttachedGroupPoliciesPaginator(cl, &awsiam.ListAttachedGroupPoliciesInput{GroupName: name}), groupAttached); err != nil {
		return nil, err
	}
	if res.InlinePolicies, err = allPages(ctx, awsiam.NewListGroupPoliciesPaginator(cl, &awsiam.ListGroupPoliciesInput{GroupName: name}), groupInlineNames); err != nil {
		return nil, err
	}
	return res, nil
}

func createGroup(ctx context.Context, c *Catalogue, in *api.CreateGroupInput) (*api.GroupOutput, error) {
	out, err := c.clients.IAM.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String(in.GroupName), Path: optStr(in.Path)})
	if err != nil {
		return nil, err
	}
	return &api.GroupOutput{Group: groupOf(out.Group), Result: api.Result{Message: "created group " + in.GroupName + "; it grants nothing until you attach policies (attach_group_policy) and has no members (add_user_to_group)"}}, nil
}

func deleteGroup(ctx context.Context, c *Catalogue, in *api.DeleteGroupInput) (*api.DeleteOutput, error) {
	cl, name := c.clients.IAM, aws.String(in.GroupName)
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
	out, err := forceDelete(in.Force, "group", in.GroupName, "its members and its attached and inline policies",
		func(d *deletion) error { return c.clearGroup(ctx, name, d) },
		func() error {
			_, err := cl.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: name})
			return err
		})
	if out != nil {
		out.Warnings = append(out.Warnings, warnings...)
	}
	return out, err
}

// clearGroup removes, across all pages, what IAM refuses to delete a group
// over: members, then attached policies, then inline policies.
func (c *Catalogue) clearGroup(ctx context.Context, name *string, d *deletion) error {
	cl := c.clients.IAM
	err := removeAll(ctx, d, "RemoveUserFromGroup", awsiam.NewGetGroupPaginator(cl, &awsiam.GetGroupInput{GroupName: name}),
		func(o *awsiam.GetGroupOutput) []string {
			names := make([]string, 0, len(o.Users))
			for _, u := range o.Users {
				names = append(names, str(u.UserName))
			}
			return names
		},
		func(user string) error {
			_, err := cl.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: name, UserName: aws.String(user)})
			return err
		})
	if err != nil {
		return err
	}
	err = removeAll(ctx, d, "DetachGroupPolicy", awsiam.NewListAttachedGroupPoliciesPaginator(cl, &awsiam.ListAttachedGroupPoliciesInput{GroupName: name}),
		func(o *awsiam.ListAttachedGroupPoliciesOutput) []string { return policyARNsOf(groupAttached(o)) },
		func(arn string) error {
			_, err := cl.DetachGroupPolicy(ctx, &awsiam.DetachGroupPolicyInput{GroupName: name, PolicyArn: aws.String(arn)})
			return err
		})
	if err != nil {
		return err
	}
	return removeAll(ctx, d, "DeleteGroupPolicy", awsiam.NewListGroupPoliciesPaginator(cl, &awsiam.ListGroupPoliciesInput{GroupName: name}), groupInlineNames,
		func(policy string) error {
			_, err := cl.DeleteGroupPolicy(ctx, &awsiam.DeleteGroupPolicyInput{GroupName: name, PolicyName: aws.String(policy)})
			return err
		})
}

func addUserToGroup(ctx context.Context, c *Catalogue, in *api.GroupMemberInput) (*api.Result, error) {
	warnings, err := c.guardGroupMembership(ctx, in.GroupName, in.UserName)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String(in.GroupName), UserName: aws.String(in.UserName)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "added user " + in.UserName + " to group " + in.GroupName + "; the user now has the group's permissions", Warnings: warnings}, nil
}

func removeUserFromGroup(ctx context.Context, c *Catalogue, in *api.GroupMemberInput) (*api.Result, error) {
	warnings, err := c.guardGroupLeave(ctx, in.GroupName, in.UserName)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String(in.GroupName), UserName: aws.String(in.UserName)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "removed user " + in.UserName + " from group " + in.GroupName + "; the user no longer has what only this group granted", Warnings: warnings}, nil
}

func attachGroupPolicy(ctx context.Context, c *Catalogue, in *api.GroupPolicyInput) (*api.Result, error) {
	warnings, err := c.guardAttach(ctx, in.PolicyArn, "group "+in.GroupName+" and every member of it")
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String(in.GroupName), PolicyArn: aws.String(in.PolicyArn)}); err != nil {
		return nil, err
	}
	return &api.Result{
		Message:  "attached " + in.PolicyArn + " to group " + in.GroupName + "; every member now has its permissions",
		Warnings: warnings,
	}, nil
}

func detachGroupPolicy(ctx context.Context, c *Catalogue, in *api.GroupPolicyInput) (*api.Result, error) {
	warnings, err := c.guardDetach(ctx, "group", in.GroupName, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if _, err := c.clients.IAM.DetachGroupPolicy(ctx, &awsiam.DetachGroupPolicyInput{GroupName: aws.String(in.GroupName), PolicyArn: aws.String(in.PolicyArn)}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "detached " + in.PolicyArn + " from group " + in.GroupName + "; its members no longer have what it granted through this group", Warnings: warnings}, nil
}

func listAttachedGroupPolicies(ctx context.Context, c *Catalogue, in *api.GroupPageInput) (*api.AttachedPoliciesOutput, error) {
	out, err := c.clients.IAM.ListAttachedGroupPolicies(ctx, &awsiam.ListAttachedGroupPoliciesInput{GroupName: aws.String(in.GroupName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.AttachedPoliciesOutput{AttachedPolicies: attachedOf(out.AttachedPolicies), Page: page(out.IsTruncated, out.Marker)}, nil
}

func groupAttached(o *awsiam.ListAttachedGroupPoliciesOutput) []api.AttachedPolicy {
	return attachedOf(o.AttachedPolicies)
}

func groupInlineNames(o *awsiam.ListGroupPoliciesOutput) []string { return o.PolicyNames }

func policyARNsOf(list []api.AttachedPolicy) []string {
	arns := make([]string, 0, len(list))
	for _, p := range list {
		arns = append(arns, p.PolicyArn)
	}
	return arns
}
