package catalogue

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func init() {
	implement("list_users", listUsers)
	implement("get_user", getUser)
	implementChange("create_user", createUser)
	implementChange("delete_user", deleteUser)
	implementChange("update_user", updateUser)
	implement("list_groups_for_user", listGroupsForUser)
	implementChange("put_user_permissions_boundary", putUserBoundary)
	implementChange("delete_user_permissions_boundary", deleteUserBoundary)
}

func listUsers(ctx context.Context, c *Catalogue, in *api.ListUsersInput) (*api.ListUsersOutput, error) {
	out, err := c.clients.IAM.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: optStr(in.PathPrefix), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.ListUsersOutput{Users: convertAll(out.Users, userOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func getUser(ctx context.Context, c *Catalogue, in *api.UserNameInput) (*api.GetUserOutput, error) {
	cl, name := c.clients.IAM, aws.String(in.UserName)
	u, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: name})
	if err != nil {
		return nil, err
	}
	res := &api.GetUserOutput{User: userOf(u.User)}
	if res.AttachedPolicies, res.InlinePolicies, err = userKind.policies(ctx, c, in.UserName); err != nil {
		return nil, err
	}
	if res.Groups, err = allPages(ctx, iam.NewListGroupsForUserPaginator(cl, &iam.ListGroupsForUserInput{UserName: name}), groupsOf); err != nil {
		return nil, err
	}
	if res.AccessKeys, err = allPages(ctx, iam.NewListAccessKeysPaginator(cl, &iam.ListAccessKeysInput{UserName: name}),
		func(o *iam.ListAccessKeysOutput) []api.AccessKey { return convertAll(o.AccessKeyMetadata, accessKeyOf) }); err != nil {
		return nil, err
	}
	return res, nil
}

func groupsOf(o *iam.ListGroupsForUserOutput) []api.Group { return convertAll(o.Groups, groupOf) }

func createUser(ctx context.Context, c *Catalogue, in *api.CreateUserInput) (*Planned[api.UserOutput], error) {
	if err := userKind.notTaken(ctx, c, in.UserName); err != nil {
		return nil, err
	}
	if in.PermissionsBoundary != "" {
		if err := c.boundaryExists(ctx, in.PermissionsBoundary, "created"); err != nil {
			return nil, err
		}
	}
	var created *types.User
	b := newChange("create IAM user "+in.UserName).
		call("CreateUser", userEntity(in.UserName), func(ctx context.Context) error {
			out, err := c.clients.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(in.UserName), Path: optStr(in.Path), PermissionsBoundary: optStr(in.PermissionsBoundary)})
			if err == nil {
				created = out.User
			}
			return err
		}).
		affects(userEntity(in.UserName)).
		undo("delete_user " + in.UserName)
	if in.PermissionsBoundary != "" {
		b.detail("with the permissions boundary " + in.PermissionsBoundary)
	}
	return finish(b, func(context.Context, *deletion) (*api.UserOutput, error) {
		return &api.UserOutput{User: userOf(created), Result: api.Result{Message: "created user " + in.UserName + "; it has no permissions or credentials yet"}}, nil
	})
}

func updateUser(ctx context.Context, c *Catalogue, in *api.UpdateUserInput) (*Planned[api.UserOutput], error) {
	if in.NewUserName == "" && in.NewPath == "" {
		return nil, api.Errorf(api.InvalidInput, "nothing to change: give new_user_name, new_path or both")
	}
	u, err := c.clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(in.UserName)})
	if err != nil {
		return nil, err
	}
	name := in.UserName
	if in.NewUserName != "" {
		name = in.NewUserName
	}
	var warnings []string
	if in.NewUserName != "" && !strings.EqualFold(in.NewUserName, in.UserName) {
		warnings = append(warnings, "policies and trust policies that name the old ARN (user/"+in.UserName+") no longer match this user; update them")
	}
	summary, undo := "change IAM user "+in.UserName, "update_user "+name
	if in.NewUserName != "" {
		summary += ": rename it to " + in.NewUserName
		undo += " with new_user_name " + in.UserName
	}
	if in.NewPath != "" {
		summary += ": move it to the path " + in.NewPath
		undo += " with new_path " + aws.ToString(u.User.Path)
	}
	b := newChange(summary).
		call("UpdateUser", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String(in.UserName), NewUserName: optStr(in.NewUserName), NewPath: optStr(in.NewPath)})
			return err
		}).
		affects(userEntity(in.UserName)).
		findings(warnings).
		undo(undo)
	return finish(b, func(ctx context.Context, _ *deletion) (*api.UserOutput, error) {
		res, err := c.userResult(ctx, name, "updated user "+name)
		if res != nil {
			res.Warnings = append(res.Warnings, warnings...)
		}
		return res, err
	})
}

func listGroupsForUser(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.GroupsOutput, error) {
	out, err := c.clients.IAM.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	return &api.GroupsOutput{Groups: convertAll(out.Groups, groupOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

func putUserBoundary(ctx context.Context, c *Catalogue, in *api.UserBoundaryInput) (*Planned[api.UserOutput], error) {
	if _, err := userKind.boundary(ctx, c, in.UserName); err != nil {
		return nil, err // the user first, as IAM checks it
	}
	if err := c.boundaryExists(ctx, in.PermissionsBoundary, "changed"); err != nil {
		return nil, err
	}
	// A wider boundary lets out what the old one held back.
	warnings, err := c.guardBoundary(ctx, "user", in.UserName, in.PermissionsBoundary)
	if err != nil {
		return nil, err
	}
	old, err := userKind.boundary(ctx, c, in.UserName)
	if err != nil {
		return nil, err
	}
	b := newChange("set the permissions boundary of IAM user "+in.UserName+" to "+in.PermissionsBoundary).
		call("PutUserPermissionsBoundary", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String(in.UserName), PermissionsBoundary: aws.String(in.PermissionsBoundary)})
			return err
		}).
		affects(userEntity(in.UserName)).
		findings(warnings)
	if old == "" {
		b.undo("delete_user_permissions_boundary " + in.UserName)
	} else {
		b.undo("put_user_permissions_boundary " + in.UserName + " with " + old + " (the boundary it has now)")
	}
	return finish(b, func(ctx context.Context, _ *deletion) (*api.UserOutput, error) {
		return withWarnings(c.userResult(ctx, in.UserName, "set the permissions boundary of "+in.UserName+" to "+in.PermissionsBoundary))(warnings)
	})
}

func deleteUserBoundary(ctx context.Context, c *Catalogue, in *api.UserNameInput) (*Planned[api.UserOutput], error) {
	warnings, err := c.guardBoundary(ctx, "user", in.UserName, "")
	if err != nil {
		return nil, err
	}
	old, err := userKind.boundary(ctx, c, in.UserName)
	if err != nil {
		return nil, err
	}
	b := newChange("remove the permissions boundary of IAM user "+in.UserName).
		call("DeleteUserPermissionsBoundary", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String(in.UserName)})
			return err
		}).
		affects(userEntity(in.UserName)).
		findings(warnings)
	if old == "" {
		b.detail("the user has no permissions boundary: nothing will change")
		b.undo("nothing to undo")
	} else {
		b.undo("put_user_permissions_boundary " + in.UserName + " with " + old)
	}
	return finish(b, func(ctx context.Context, _ *deletion) (*api.UserOutput, error) {
		return withWarnings(c.userResult(ctx, in.UserName, "removed the permissions boundary of "+in.UserName))(warnings)
	})
}

// withWarnings adds a guardrail's warnings to a user result.
func withWarnings(out *api.UserOutput, err error) func([]string) (*api.UserOutput, error) {
	return func(w []string) (*api.UserOutput, error) {
		if out != nil {
			out.Warnings = append(out.Warnings, w...)
		}
		return out, err
	}
}

// userResult reads a user back after a change, so results show its state.
func (c *Catalogue) userResult(ctx context.Context, name, message string) (*api.UserOutput, error) {
	u, err := c.clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return &api.UserOutput{User: userOf(u.User), Result: api.Result{Message: message}}, nil
}

func deleteUser(ctx context.Context, c *Catalogue, in *api.DeleteUserInput) (*Planned[api.DeleteOutput], error) {
	cl, name := c.clients.IAM, aws.String(in.UserName)
	const clears = "everything the user has (keys, certificates, SSH keys, service credentials, MFA devices, login profile, policies, group memberships)"
	if _, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: name}); err != nil {
		return nil, err
	}
	// What IAM refuses to delete a user over is listed either way: with
	// force it is removed first; without, the delete is refused now, as
	// IAM would refuse it.
	b := newChange("delete IAM user " + in.UserName)
	if err := c.planClearUser(ctx, b, in.UserName); err != nil {
		return nil, err
	}
	if what := countSteps(b, [3]string{"DeleteAccessKey", "access key", "access keys"}, [3]string{"DeleteSigningCertificate", "signing certificate", "signing certificates"},
		[3]string{"DeleteSSHPublicKey", "SSH public key", "SSH public keys"}, [3]string{"DeleteServiceSpecificCredential", "service-specific credential", "service-specific credentials"},
		[3]string{"DeactivateMFADevice", "MFA device", "MFA devices"}, [3]string{"DeleteLoginProfile", "console password", "console passwords"},
		[3]string{"DeleteUserPolicy", "inline policy", "inline policies"}, [3]string{"DetachUserPolicy", "attached policy", "attached policies"},
		[3]string{"RemoveUserFromGroup", "group membership", "group memberships"}); what != "" {
		if !in.Force {
			return nil, refuseAtPlan(api.DeleteConflict, "user %s still has %s, and IAM deletes only a user without them. Nothing was changed. Remove those first, or call delete_user again with force=true to remove %s", in.UserName, what, clears)
		}
		b.plan.Summary += " after removing its " + what
	}
	return deleteChange(b, in.Force, "user", in.UserName, clears, "DeleteUser", func(ctx context.Context) error {
		_, err := cl.DeleteUser(ctx, &iam.DeleteUserInput{UserName: name})
		return err
	})
}

// planClearUser lists, across all pages and in a working order, everything
// IAM refuses to delete a user over — credentials first, then MFA and the
// console password, then policies and group memberships — as calls of b.
func (c *Catalogue) planClearUser(ctx context.Context, b *changeBuilder, user string) error {
	cl, name := c.clients.IAM, aws.String(user)
	under := func(kind string) func(string) string {
		return func(id string) string { return userEntity(user) + "/" + kind + "/" + id }
	}
	steps := []func() error{
		func() error {
			return listAll(ctx, b, "DeleteAccessKey", iam.NewListAccessKeysPaginator(cl, &iam.ListAccessKeysInput{UserName: name}),
				func(o *iam.ListAccessKeysOutput) []string {
					return collect(o.AccessKeyMetadata, func(k types.AccessKeyMetadata) *string { return k.AccessKeyId })
				}, under("access-key"),
				func(ctx context.Context, id string) error {
					_, err := cl.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: name, AccessKeyId: aws.String(id)})
					return err
				})
		},
		func() error {
			return listAll(ctx, b, "DeleteSigningCertificate", iam.NewListSigningCertificatesPaginator(cl, &iam.ListSigningCertificatesInput{UserName: name}),
				func(o *iam.ListSigningCertificatesOutput) []string {
					return collect(o.Certificates, func(c types.SigningCertificate) *string { return c.CertificateId })
				}, under("signing-certificate"),
				func(ctx context.Context, id string) error {
					_, err := cl.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: name, CertificateId: aws.String(id)})
					return err
				})
		},
		func() error {
			return listAll(ctx, b, "DeleteSSHPublicKey", iam.NewListSSHPublicKeysPaginator(cl, &iam.ListSSHPublicKeysInput{UserName: name}),
				func(o *iam.ListSSHPublicKeysOutput) []string {
					return collect(o.SSHPublicKeys, func(k types.SSHPublicKeyMetadata) *string { return k.SSHPublicKeyId })
				}, under("ssh-public-key"),
				func(ctx context.Context, id string) error {
					_, err := cl.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: name, SSHPublicKeyId: aws.String(id)})
					return err
				})
		},
		func() error {
			// ListServiceSpecificCredentials is not paginated: one call
			// returns them all.
			out, err := cl.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: name})
			if err != nil {
				return err
			}
			ids := collect(out.ServiceSpecificCredentials, func(s types.ServiceSpecificCredentialMetadata) *string { return s.ServiceSpecificCredentialId })
			removeEach(b, "DeleteServiceSpecificCredential", ids, under("service-specific-credential"), func(ctx context.Context, id string) error {
				_, err := cl.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: name, ServiceSpecificCredentialId: aws.String(id)})
				return err
			})
			return nil
		},
		func() error {
			devices, err := allPages(ctx, iam.NewListMFADevicesPaginator(cl, &iam.ListMFADevicesInput{UserName: name}),
				func(o *iam.ListMFADevicesOutput) []string {
					return collect(o.MFADevices, func(m types.MFADevice) *string { return m.SerialNumber })
				})
			if err != nil {
				return err
			}
			for _, serial := range devices {
				b.call("DeactivateMFADevice", serial, func(ctx context.Context) error {
					_, err := cl.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: name, SerialNumber: aws.String(serial)})
					return err
				}).affects(serial)
				// A virtual device exists only for this user; a hardware
				// one is a physical object and stays.
				if strings.Contains(serial, ":mfa/") {
					b.call("DeleteVirtualMFADevice", serial, func(ctx context.Context) error {
						_, err := cl.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
						return err
					})
				}
			}
			return nil
		},
		func() error {
			_, err := cl.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: name})
			switch {
			case err == nil:
				target := userEntity(user) + "/login-profile"
				b.call("DeleteLoginProfile", target, func(ctx context.Context) error {
					_, err := cl.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: name})
					return err
				}).affects(target)
			case !isCode(err, "NoSuchEntity"):
				return err
			}
			return nil
		},
		func() error { return userKind.planDeleteInlineAll(ctx, c, b, user) },
		func() error { return userKind.planDetachAll(ctx, c, b, user) },
		func() error {
			return listAll(ctx, b, "RemoveUserFromGroup", iam.NewListGroupsForUserPaginator(cl, &iam.ListGroupsForUserInput{UserName: name}),
				func(o *iam.ListGroupsForUserOutput) []string {
					return collect(o.Groups, func(g types.Group) *string { return g.GroupName })
				}, groupEntity,
				func(ctx context.Context, g string) error {
					_, err := cl.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: name, GroupName: aws.String(g)})
					return err
				})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// collect maps SDK list items to the strings a removal needs.
func collect[T any](items []T, field func(T) *string) []string {
	return convertAll(items, func(it *T) string { return str(field(*it)) })
}
