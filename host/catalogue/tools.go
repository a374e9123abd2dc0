package catalogue

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// This file holds what the server needs to offer each operation as a tool
// and plugins do not: the description written for the assistant, the IAM
// actions the server's credentials need, the toolset and whether the
// default toolset includes it. It lives here, not in sdk/api, because
// everything in sdk/api is compiled into every plugin: rewording a tool
// here changes no plugin's bytes and no sha256 an operator pinned
// (TestToolTextStaysOutOfPlugins proves it).

// Toolset groups tools so that an operator can expose only some of them
// (some MCP clients cap a session's tools).
type Toolset string

// The toolsets, one per resource family.
const (
	ToolsetUsers       Toolset = "users"
	ToolsetGroups      Toolset = "groups"
	ToolsetRoles       Toolset = "roles"
	ToolsetPolicies    Toolset = "policies"
	ToolsetInline      Toolset = "inline"
	ToolsetCredentials Toolset = "credentials"
	ToolsetSimulation  Toolset = "simulation"
	ToolsetPolicy      Toolset = "policy" // the policy engine: validate, simulate and explain locally
	ToolsetAccount     Toolset = "account"
)

// Toolsets returns every toolset in display order, in a new slice.
func Toolsets() []Toolset {
	return []Toolset{ToolsetUsers, ToolsetGroups, ToolsetRoles, ToolsetPolicies, ToolsetInline, ToolsetCredentials, ToolsetSimulation, ToolsetPolicy, ToolsetAccount}
}

// Tool is a catalogue operation as the server offers it, as an MCP tool
// and to the command line: the contract both sides of the plugin boundary
// share (api.Operation), and what only the host needs.
type Tool struct {
	api.Operation
	Toolset Toolset // which --toolsets entry exposes it
	// Default: exposed when --toolsets is not given (the tools the AWS Labs
	// server offers, plus a few lookups every session needs).
	Default     bool
	Description string // written for an assistant: what it does, when to use it, what to watch
	// IAMActions are the IAM permissions the operation uses; `iam-mcp-server
	// policy` builds the server's least-privilege policy from them. Empty
	// exactly when the operation is Offline.
	IAMActions []string
}

// LookupTool returns the tool of the operation named name; false when
// sdk/api has no such operation or this file does not describe it (which
// New refuses, so a running server never sees it).
func LookupTool(name string) (Tool, bool) {
	i := slices.IndexFunc(tools(), func(t Tool) bool { return t.Name == name })
	if i < 0 {
		return Tool{}, false
	}
	return clone(tools()[i]), true
}

// Tools returns every tool in catalogue order (sdk/api's), as copies the
// caller may change.
func Tools() []Tool {
	all := tools()
	out := make([]Tool, len(all))
	for i, t := range all {
		out[i] = clone(t)
	}
	return out
}

func clone(t Tool) Tool {
	t.IAMActions = slices.Clone(t.IAMActions)
	return t
}

// tools joins each operation of sdk/api with its entry in about, once.
var tools = sync.OnceValue(func() []Tool {
	var out []Tool
	for _, op := range api.All() {
		if t, ok := about[op.Name]; ok {
			t.Operation = op
			out = append(out, t)
		}
	}
	return out
})

// checkTools is the completeness check New runs on about before anything
// starts: every operation of sdk/api has an entry and there is none for
// anything else, every description says something, every toolset is one
// of Toolsets, and the IAM actions are iam:* or sts:* and absent exactly
// when the operation is answered offline.
func checkTools(entries map[string]Tool) error {
	var problems []string
	for _, op := range api.All() {
		t, ok := entries[op.Name]
		switch {
		case !ok:
			problems = append(problems, op.Name+" has no entry")
			continue
		case strings.TrimSpace(t.Description) == "":
			problems = append(problems, op.Name+" has no description")
		case !slices.Contains(Toolsets(), t.Toolset):
			problems = append(problems, fmt.Sprintf("%s is in the unknown toolset %q", op.Name, t.Toolset))
		case (len(t.IAMActions) == 0) != op.Offline:
			problems = append(problems, fmt.Sprintf("%s: offline %v, yet %d IAM actions (an offline operation calls no AWS, any other needs its actions listed)", op.Name, op.Offline, len(t.IAMActions)))
		}
		for _, a := range t.IAMActions {
			if !strings.HasPrefix(a, "iam:") && !strings.HasPrefix(a, "sts:") && !strings.HasPrefix(a, "organizations:") {
				problems = append(problems, fmt.Sprintf("%s: the IAM action %q is not iam:* or sts:* (or organizations:*)", op.Name, a))
			}
		}
	}
	for name := range entries {
		if _, ok := api.Lookup(name); !ok {
			problems = append(problems, name+" is described but is no operation of sdk/api")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("catalogue: the built-in tools disagree with sdk/api's operations: %s; give every operation of sdk/api one complete entry in host/catalogue/tools.go, and nothing else one", strings.Join(problems, "; "))
	}
	return nil
}

// about describes every operation of sdk/api, keyed by its name; the
// Operation of each entry is filled from sdk/api by tools.
var about = map[string]Tool{
	// ---- users ----
	"list_users": {Toolset: ToolsetUsers, Default: true,
		Description: "List IAM users, one page at a time (up to max_items, default 100). Filter by path_prefix; pass marker from a truncated result to continue.",
		IAMActions:  []string{"iam:ListUsers"}},
	"get_user": {Toolset: ToolsetUsers, Default: true,
		Description: "Get one IAM user with its attached and inline policies, groups and access keys (metadata only, never secrets).",
		IAMActions:  []string{"iam:GetUser", "iam:ListAttachedUserPolicies", "iam:ListUserPolicies", "iam:ListGroupsForUser", "iam:ListAccessKeys"}},
	"create_user": {Toolset: ToolsetUsers, Default: true,
		Description: "Create an IAM user, optionally under a path and with a permissions boundary. The user has no permissions and no credentials until you grant them.",
		IAMActions:  []string{"iam:CreateUser", "iam:PutUserPermissionsBoundary", "iam:GetUser", "iam:GetPolicy"}},
	"delete_user": {Toolset: ToolsetUsers, Default: true,
		Description: "Delete an IAM user. Without force, IAM refuses while the user has keys, a password, MFA, policies or groups (DeleteConflict names what). With force=true, everything blocking is removed first and each step is reported. Irreversible.",
		IAMActions:  []string{"iam:DeleteUser", "iam:ListAccessKeys", "iam:DeleteAccessKey", "iam:ListSigningCertificates", "iam:DeleteSigningCertificate", "iam:ListSSHPublicKeys", "iam:DeleteSSHPublicKey", "iam:ListServiceSpecificCredentials", "iam:DeleteServiceSpecificCredential", "iam:ListMFADevices", "iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice", "iam:GetLoginProfile", "iam:DeleteLoginProfile", "iam:ListUserPolicies", "iam:DeleteUserPolicy", "iam:ListAttachedUserPolicies", "iam:DetachUserPolicy", "iam:ListGroupsForUser", "iam:RemoveUserFromGroup", "iam:GetUser"}},
	"update_user": {Toolset: ToolsetUsers,
		Description: "Rename an IAM user or move it to another path. Policies that name the old user ARN stop applying to it.",
		IAMActions:  []string{"iam:UpdateUser", "iam:GetUser"}},
	"list_groups_for_user": {Toolset: ToolsetUsers,
		Description: "List the groups an IAM user belongs to.",
		IAMActions:  []string{"iam:ListGroupsForUser"}},
	"put_user_permissions_boundary": {Toolset: ToolsetUsers,
		Description: "Set (or replace) a user's permissions boundary: the user can then do only what both its policies and the boundary allow, which can cut off access it has today.",
		IAMActions:  []string{"iam:PutUserPermissionsBoundary", "iam:GetUser"}},
	"delete_user_permissions_boundary": {Toolset: ToolsetUsers,
		Description: "Remove a user's permissions boundary, so its policies alone decide what it can do (this can widen its access).",
		IAMActions:  []string{"iam:DeleteUserPermissionsBoundary", "iam:GetUser"}},

	// ---- groups ----
	"list_groups": {Toolset: ToolsetGroups, Default: true,
		Description: "List IAM groups, one page at a time. Filter by path_prefix; pass marker to continue.",
		IAMActions:  []string{"iam:ListGroups"}},
	"get_group": {Toolset: ToolsetGroups, Default: true,
		Description: "Get an IAM group with its members (paged), attached managed policies and inline policy names.",
		IAMActions:  []string{"iam:GetGroup", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies"}},
	"create_group": {Toolset: ToolsetGroups, Default: true,
		Description: "Create an IAM group. Grant it permissions with attach_group_policy and add members with add_user_to_group.",
		IAMActions:  []string{"iam:CreateGroup", "iam:GetGroup"}},
	"delete_group": {Toolset: ToolsetGroups, Default: true,
		Description: "Delete an IAM group. Without force, IAM refuses while it has members or policies; with force=true they are removed first and each step reported. Irreversible.",
		IAMActions:  []string{"iam:DeleteGroup", "iam:GetGroup", "iam:RemoveUserFromGroup", "iam:ListAttachedGroupPolicies", "iam:DetachGroupPolicy", "iam:ListGroupPolicies", "iam:DeleteGroupPolicy"}},
	"add_user_to_group": {Toolset: ToolsetGroups, Default: true,
		Description: "Add an IAM user to a group; the user gains the group's permissions at once.",
		IAMActions:  []string{"iam:AddUserToGroup", "iam:GetGroup", "iam:ListGroupsForUser"}},
	"remove_user_from_group": {Toolset: ToolsetGroups, Default: true,
		Description: "Remove an IAM user from a group; the user loses the group's permissions at once.",
		IAMActions:  []string{"iam:RemoveUserFromGroup", "iam:GetGroup", "iam:ListGroupsForUser"}},
	"attach_group_policy": {Toolset: ToolsetGroups, Default: true,
		Description: "Attach a managed policy to a group (at most 10 per group); every member gains its permissions.",
		IAMActions:  []string{"iam:AttachGroupPolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListAttachedGroupPolicies"}},
	"detach_group_policy": {Toolset: ToolsetGroups, Default: true,
		Description: "Detach a managed policy from a group; every member loses what it granted.",
		IAMActions:  []string{"iam:DetachGroupPolicy", "iam:ListAttachedGroupPolicies"}},
	"list_attached_group_policies": {Toolset: ToolsetGroups,
		Description: "List the managed policies attached to a group.",
		IAMActions:  []string{"iam:ListAttachedGroupPolicies"}},

	// ---- roles ----
	"list_roles": {Toolset: ToolsetRoles, Default: true,
		Description: "List IAM roles with their trust policies, one page at a time. Filter by path_prefix (e.g. /service-role/); pass marker to continue.",
		IAMActions:  []string{"iam:ListRoles"}},
	"get_role": {Toolset: ToolsetRoles, Default: true,
		Description: "Get an IAM role: trust policy, permissions boundary, last use, attached and inline policies, instance profiles.",
		IAMActions:  []string{"iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListInstanceProfilesForRole"}},
	"create_role": {Toolset: ToolsetRoles, Default: true,
		Description: "Create an IAM role with a trust policy saying who may assume it. Prefer a specific principal and, for other accounts, an sts:ExternalId condition; set a permissions boundary where your organisation uses them.",
		IAMActions:  []string{"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:GetRole", "iam:GetPolicy", "sts:GetCallerIdentity"}},
	"delete_role": {Toolset: ToolsetRoles,
		Description: "Delete an IAM role. Without force, IAM refuses while it has policies or instance profiles; with force=true they are removed first and each step reported. Whatever assumes the role stops working. Irreversible.",
		IAMActions:  []string{"iam:DeleteRole", "iam:ListAttachedRolePolicies", "iam:DetachRolePolicy", "iam:ListRolePolicies", "iam:DeleteRolePolicy", "iam:ListInstanceProfilesForRole", "iam:RemoveRoleFromInstanceProfile"}},
	"update_role": {Toolset: ToolsetRoles,
		Description: "Change a role's description or maximum session duration.",
		IAMActions:  []string{"iam:UpdateRole", "iam:GetRole"}},
	"update_assume_role_policy": {Toolset: ToolsetRoles,
		Description: "Replace a role's trust policy (who may assume it). The old one is gone: read it with get_role first if you may need it back.",
		IAMActions:  []string{"iam:UpdateAssumeRolePolicy", "iam:GetRole"}},
	"attach_role_policy": {Toolset: ToolsetRoles,
		Description: "Attach a managed policy to a role (at most 10 per role).",
		IAMActions:  []string{"iam:AttachRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListAttachedRolePolicies"}},
	"detach_role_policy": {Toolset: ToolsetRoles,
		Description: "Detach a managed policy from a role; whatever uses the role loses what it granted.",
		IAMActions:  []string{"iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"}},
	"list_attached_role_policies": {Toolset: ToolsetRoles,
		Description: "List the managed policies attached to a role.",
		IAMActions:  []string{"iam:ListAttachedRolePolicies"}},
	"put_role_permissions_boundary": {Toolset: ToolsetRoles,
		Description: "Set (or replace) a role's permissions boundary; the role can then do only what both its policies and the boundary allow.",
		IAMActions:  []string{"iam:PutRolePermissionsBoundary", "iam:GetRole", "iam:GetPolicy"}},
	"delete_role_permissions_boundary": {Toolset: ToolsetRoles,
		Description: "Remove a role's permissions boundary (this can widen its access).",
		IAMActions:  []string{"iam:DeleteRolePermissionsBoundary", "iam:GetRole"}},
	"list_instance_profiles_for_role": {Toolset: ToolsetRoles,
		Description: "List the EC2 instance profiles that contain a role.",
		IAMActions:  []string{"iam:ListInstanceProfilesForRole"}},
	"create_instance_profile": {Toolset: ToolsetRoles,
		Description: "Create an EC2 instance profile; add a role to it with add_role_to_instance_profile.",
		IAMActions:  []string{"iam:CreateInstanceProfile", "iam:GetInstanceProfile"}},
	"add_role_to_instance_profile": {Toolset: ToolsetRoles,
		Description: "Put a role into an instance profile (a profile holds one role).",
		IAMActions:  []string{"iam:AddRoleToInstanceProfile", "iam:GetInstanceProfile", "iam:GetRole"}},
	"remove_role_from_instance_profile": {Toolset: ToolsetRoles,
		Description: "Take a role out of an instance profile; instances using the profile lose the role's permissions.",
		IAMActions:  []string{"iam:RemoveRoleFromInstanceProfile", "iam:GetInstanceProfile", "iam:GetRole"}},
	"delete_instance_profile": {Toolset: ToolsetRoles,
		Description: "Delete an instance profile (remove its role first). Irreversible.",
		IAMActions:  []string{"iam:DeleteInstanceProfile", "iam:GetInstanceProfile"}},

	// ---- managed policies ----
	"list_policies": {Toolset: ToolsetPolicies, Default: true,
		Description: "List managed policies: scope Local (customer managed, default), AWS, or All; only_attached for those in use; one page at a time.",
		IAMActions:  []string{"iam:ListPolicies"}},
	"get_policy": {Toolset: ToolsetPolicies, Default: true,
		Description: "Get a managed policy's metadata: default version, attachment and boundary counts, description.",
		IAMActions:  []string{"iam:GetPolicy"}},
	"get_managed_policy_document": {Toolset: ToolsetPolicies, Default: true,
		Description: "Get the JSON document of a managed policy version (the default version unless version_id is given).",
		IAMActions:  []string{"iam:GetPolicy", "iam:GetPolicyVersion"}},
	"create_policy": {Toolset: ToolsetPolicies,
		Description: "Create a customer managed policy from a JSON document. Attach it with attach_user_policy, attach_group_policy or attach_role_policy.",
		IAMActions:  []string{"iam:CreatePolicy"}},
	"delete_policy": {Toolset: ToolsetPolicies,
		Description: "Delete a customer managed policy. IAM refuses while it is attached or has non-default versions (DeleteConflict). Irreversible.",
		IAMActions:  []string{"iam:DeletePolicy", "iam:GetPolicy", "iam:ListPolicyVersions", "iam:GetPolicyVersion"}},
	"create_policy_version": {Toolset: ToolsetPolicies,
		Description: "Add a version to a customer managed policy, optionally making it the default (in effect at once). A policy keeps at most 5 versions: at the limit, the error names the versions you can delete.",
		IAMActions:  []string{"iam:CreatePolicyVersion", "iam:ListPolicyVersions", "iam:GetPolicy"}},
	"list_policy_versions": {Toolset: ToolsetPolicies,
		Description: "List a managed policy's versions, newest first, marking the default.",
		IAMActions:  []string{"iam:ListPolicyVersions"}},
	"set_default_policy_version": {Toolset: ToolsetPolicies,
		Description: "Make a version the policy's default; its permissions take effect for every principal the policy is attached to.",
		IAMActions:  []string{"iam:SetDefaultPolicyVersion", "iam:GetPolicy", "iam:GetPolicyVersion"}},
	"delete_policy_version": {Toolset: ToolsetPolicies,
		Description: "Delete a non-default version of a managed policy. Irreversible.",
		IAMActions:  []string{"iam:DeletePolicyVersion", "iam:GetPolicy", "iam:GetPolicyVersion"}},
	"attach_user_policy": {Toolset: ToolsetPolicies, Default: true,
		Description: "Attach a managed policy to a user (at most 10 per user). Prefer attaching to a group the user belongs to.",
		IAMActions:  []string{"iam:AttachUserPolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListAttachedUserPolicies"}},
	"detach_user_policy": {Toolset: ToolsetPolicies, Default: true,
		Description: "Detach a managed policy from a user; the user loses what it granted.",
		IAMActions:  []string{"iam:DetachUserPolicy", "iam:ListAttachedUserPolicies", "iam:GetPolicy", "iam:GetPolicyVersion"}},
	"list_attached_user_policies": {Toolset: ToolsetPolicies,
		Description: "List the managed policies attached directly to a user (not through groups).",
		IAMActions:  []string{"iam:ListAttachedUserPolicies"}},

	// ---- inline policies ----
	"put_user_policy": {Toolset: ToolsetInline, Default: true,
		Description: "Create or replace an inline policy on a user (at most 2,048 characters without whitespace). Replacing overwrites the old document.",
		IAMActions:  []string{"iam:PutUserPolicy", "iam:GetUserPolicy", "iam:GetUser"}},
	"get_user_policy": {Toolset: ToolsetInline, Default: true,
		Description: "Get a user's inline policy document.",
		IAMActions:  []string{"iam:GetUserPolicy"}},
	"delete_user_policy": {Toolset: ToolsetInline, Default: true,
		Description: "Delete a user's inline policy. Irreversible: read it first if you may need it back.",
		IAMActions:  []string{"iam:DeleteUserPolicy", "iam:GetUserPolicy"}},
	"list_user_policies": {Toolset: ToolsetInline, Default: true,
		Description: "List the names of a user's inline policies.",
		IAMActions:  []string{"iam:ListUserPolicies"}},
	"put_role_policy": {Toolset: ToolsetInline, Default: true,
		Description: "Create or replace an inline policy on a role (at most 10,240 characters without whitespace). Replacing overwrites the old document.",
		IAMActions:  []string{"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:GetRole"}},
	"get_role_policy": {Toolset: ToolsetInline, Default: true,
		Description: "Get a role's inline policy document.",
		IAMActions:  []string{"iam:GetRolePolicy"}},
	"delete_role_policy": {Toolset: ToolsetInline, Default: true,
		Description: "Delete a role's inline policy. Irreversible: read it first if you may need it back.",
		IAMActions:  []string{"iam:DeleteRolePolicy", "iam:GetRolePolicy"}},
	"list_role_policies": {Toolset: ToolsetInline, Default: true,
		Description: "List the names of a role's inline policies.",
		IAMActions:  []string{"iam:ListRolePolicies"}},
	"put_group_policy": {Toolset: ToolsetInline,
		Description: "Create or replace an inline policy on a group (at most 5,120 characters without whitespace). Replacing overwrites the old document.",
		IAMActions:  []string{"iam:PutGroupPolicy", "iam:GetGroupPolicy", "iam:GetGroup"}},
	"get_group_policy": {Toolset: ToolsetInline,
		Description: "Get a group's inline policy document.",
		IAMActions:  []string{"iam:GetGroupPolicy"}},
	"delete_group_policy": {Toolset: ToolsetInline,
		Description: "Delete a group's inline policy. Irreversible: read it first if you may need it back.",
		IAMActions:  []string{"iam:DeleteGroupPolicy", "iam:GetGroupPolicy"}},
	"list_group_policies": {Toolset: ToolsetInline,
		Description: "List the names of a group's inline policies.",
		IAMActions:  []string{"iam:ListGroupPolicies"}},

	// ---- credentials ----
	"create_access_key": {Toolset: ToolsetCredentials, Default: true,
		Description: "Create an access key for a user (at most 2 per user). The secret is written to a file readable only by the server's user, and the result gives its path; it is never shown to the assistant unless the server runs with --return-secrets.",
		IAMActions:  []string{"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys"}},
	"delete_access_key": {Toolset: ToolsetCredentials, Default: true,
		Description: "Delete a user's access key; anything still using it fails at once. Check get_access_key_last_used first, and prefer update_access_key to Inactive when unsure. Irreversible.",
		IAMActions:  []string{"iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"}},
	"list_access_keys": {Toolset: ToolsetCredentials, Default: true,
		Description: "List a user's access keys: ids, status and creation dates (never secrets).",
		IAMActions:  []string{"iam:ListAccessKeys"}},
	"update_access_key": {Toolset: ToolsetCredentials,
		Description: "Set an access key Active or Inactive. Inactive stops everything using the key, reversibly: the safe first step before deleting a key.",
		IAMActions:  []string{"iam:UpdateAccessKey", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"}},
	"get_access_key_last_used": {Toolset: ToolsetCredentials,
		Description: "When, where (region) and with which service an access key was last used.",
		IAMActions:  []string{"iam:GetAccessKeyLastUsed"}},
	"get_login_profile": {Toolset: ToolsetCredentials,
		Description: "Whether a user has a console password, since when, and whether it must be reset (NoSuchEntity when it has none).",
		IAMActions:  []string{"iam:GetLoginProfile"}},
	"create_login_profile": {Toolset: ToolsetCredentials,
		Description: "Give a user a console password. The password must satisfy the account password policy; require a reset at first sign-in.",
		IAMActions:  []string{"iam:CreateLoginProfile", "iam:GetUser", "iam:GetLoginProfile"}},
	"delete_login_profile": {Toolset: ToolsetCredentials,
		Description: "Remove a user's console password; the user can no longer sign in to the console.",
		IAMActions:  []string{"iam:DeleteLoginProfile", "iam:GetLoginProfile"}},
	"list_mfa_devices": {Toolset: ToolsetCredentials,
		Description: "List the MFA devices enabled for a user.",
		IAMActions:  []string{"iam:ListMFADevices"}},
	"deactivate_mfa_device": {Toolset: ToolsetCredentials,
		Description: "Deactivate a user's MFA device (for a lost device). The user then signs in without MFA until a new device is enabled.",
		IAMActions:  []string{"iam:DeactivateMFADevice", "iam:ListMFADevices"}},

	"generate_credential_report": {Toolset: ToolsetCredentials,
		Description: "Ask IAM to (re)build the credential report (read-only, as IAM rates it; IAM rebuilds at most every 4 hours). state COMPLETE means get_credential_report can read it.",
		IAMActions:  []string{"iam:GenerateCredentialReport"}},
	"get_credential_report": {Toolset: ToolsetCredentials,
		Description: "Read the credential report, parsed: for every user and the root user, password and MFA state, and each access key's age, status and last use. Generate it first with generate_credential_report.",
		IAMActions:  []string{"iam:GetCredentialReport"}},
	"list_user_tags": {Toolset: ToolsetCredentials,
		Description: "List a user's tags (key to value), one page at a time.",
		IAMActions:  []string{"iam:ListUserTags"}},
	"tag_user": {Toolset: ToolsetCredentials,
		Description: "Add or overwrite tags on a user (at most 50 per user). Tags can grant access where policies test aws:PrincipalTag.",
		IAMActions:  []string{"iam:TagUser", "iam:ListUserTags"}},
	"untag_user": {Toolset: ToolsetCredentials,
		Description: "Remove tags from a user; access that policies grant through those tags (aws:PrincipalTag) goes with them.",
		IAMActions:  []string{"iam:UntagUser", "iam:ListUserTags"}},

	// ---- simulation ----
	"simulate_principal_policy": {Toolset: ToolsetSimulation, Default: true,
		Description: "Test whether a user, group or role may perform actions on resources, using its real policies (and boundary), without doing anything. Each result says allowed, explicitDeny or implicitDeny and which statements matched.",
		IAMActions:  []string{"iam:SimulatePrincipalPolicy"}},

	// ---- policy engine (local: no AWS call, except explain_access's reads) ----
	"validate_policy": {Toolset: ToolsetPolicy, Default: true,
		Description: "Check a policy document before it is written, without calling AWS: IAM's grammar and size quotas (ERROR), risky grants such as admin-equivalent access, privilege escalation or iam:PassRole on *, and trust open to anyone or to another account without a condition (SECURITY_WARNING), unknown actions and action/resource mismatches (WARNING), redundant statements (SUGGESTION). Each finding says where it is. Writes of policies run the same check: ERROR findings refuse the write, and so do SECURITY_WARNING findings unless the server runs with --allow-risky-policies."},
	"simulate_custom_policy": {Toolset: ToolsetPolicy, Default: true,
		Description: "Evaluate policies that are not attached to anything yet (drafts, or a change you are about to make) against actions and resources, locally with AWS's evaluation logic and no AWS call: explicit deny wins, a permissions boundary intersects, a resource policy can allow on its own. Each result says allowed, explicitDeny or implicitDeny, which statements matched, the context keys the conditions needed, and why."},
	"explain_access": {Toolset: ToolsetPolicy,
		Description: "Explain whether a user or role can perform one action on one resource, and why: reads the principal's policies (inline, attached, its groups', its permissions boundary) with IAM read calls, evaluates them locally, and names the statement that decides, with what to change to get the other answer. Pass the resource's own policy (a bucket policy, say) as resource_policy if it has one.",
		IAMActions:  []string{"iam:GetUser", "iam:GetRole", "iam:ListAttachedUserPolicies", "iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListGroupsForUser", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:GetGroupPolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion"}},

	// ---- account reports: the bulk reads reviews are built on ----
	"get_account_authorization_details": {Toolset: ToolsetAccount,
		Description: "Read the whole account's IAM in bulk, one page at a time: every user (groups, attached and inline policies), group, role (trust policy, policies, instance profiles) and managed policy (every version's document), documents decoded. Narrow with filter. Reviews start here: the calls grow with pages, not with principals.",
		IAMActions:  []string{"iam:GetAccountAuthorizationDetails"}},
	"get_account_password_policy": {Toolset: ToolsetAccount,
		Description: "Read the account's password policy for IAM users; present is false when the account has none (IAM's weak defaults apply).",
		IAMActions:  []string{"iam:GetAccountPasswordPolicy"}},
	"get_account_summary": {Toolset: ToolsetAccount,
		Description: "Read IAM's account summary: counts and quotas of users, groups, roles and policies, and whether the root user has MFA (AccountMFAEnabled) and access keys (AccountAccessKeysPresent).",
		IAMActions:  []string{"iam:GetAccountSummary"}},
	"generate_service_last_accessed_details": {Toolset: ToolsetAccount,
		Description: "Start IAM's report of when a user, group, role or policy last used each service it is allowed (read-only, as IAM rates it). Pass the job_id to get_service_last_accessed_details; unused services are candidates to remove.",
		IAMActions:  []string{"iam:GenerateServiceLastAccessedDetails"}},
	"get_service_last_accessed_details": {Toolset: ToolsetAccount,
		Description: "Read a service-last-accessed report started with generate_service_last_accessed_details: per service, when it was last used, by whom and where. job_status IN_PROGRESS means ask again shortly.",
		IAMActions:  []string{"iam:GetServiceLastAccessedDetails"}},
	"list_entities_for_policy": {Toolset: ToolsetAccount,
		Description: "List the users, groups and roles a managed policy is attached to (or is the permissions boundary of, with policy_usage_filter).",
		IAMActions:  []string{"iam:ListEntitiesForPolicy"}},
	"get_policy_version": {Toolset: ToolsetAccount,
		Description: "Read one version of a managed policy, with its document decoded, whether or not it is the default.",
		IAMActions:  []string{"iam:GetPolicyVersion"}},

	// ---- account ----
	"get_account_info": {Toolset: ToolsetAccount, Default: true,
		Description: "Which AWS account the server manages: account id, alias and the caller's ARN. Check it before changing anything.",
		IAMActions:  []string{"sts:GetCallerIdentity", "iam:ListAccountAliases"}},
	"describe_organization": {Toolset: ToolsetAccount, Default: false,
		Description: "The AWS Organization this account belongs to, as its management account sees it: the roots, the tree of organizational units, every account with its status and parent, and every service control policy (SCP) with its document and what it is attached to. SCPs cap what member accounts may do whatever their IAM policies say (never the management account). Run it in the management account or a delegated administrator (the account argument); a member account is refused.",
		IAMActions: []string{"organizations:DescribeOrganization", "organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent",
			"organizations:ListAccountsForParent", "organizations:ListPolicies", "organizations:DescribePolicy", "organizations:ListTargetsForPolicy"}},
}
