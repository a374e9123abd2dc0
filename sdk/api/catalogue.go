package api

// operations is the catalogue: every IAM operation the server offers, once,
// with what both sides of the plugin boundary must agree on. host/catalogue
// implements each entry and describes it as a tool; it refuses to start if
// an entry has no implementation or no description, or either has no entry.
// Read it through All, Lookup and Names: it is not exported, so that no
// importer can change the contract at run time.
var operations = []Operation{
	// ---- users ----
	{Name: "list_users", Idempotent: true, Input: ListUsersInput{}, Output: ListUsersOutput{}},
	{Name: "get_user", Idempotent: true, Input: UserNameInput{}, Output: GetUserOutput{}},
	{Name: "create_user", Mutates: true, Input: CreateUserInput{}, Output: UserOutput{}},
	{Name: "delete_user", Mutates: true, Destructive: true, Input: DeleteUserInput{}, Output: DeleteOutput{}},
	{Name: "update_user", Mutates: true, Idempotent: true, Input: UpdateUserInput{}, Output: UserOutput{}},
	{Name: "list_groups_for_user", Idempotent: true, Input: UserPageInput{}, Output: GroupsOutput{}},
	{Name: "put_user_permissions_boundary", Mutates: true, Destructive: true, Idempotent: true, Input: UserBoundaryInput{}, Output: UserOutput{}},
	{Name: "delete_user_permissions_boundary", Mutates: true, Destructive: true, Idempotent: true, Input: UserNameInput{}, Output: UserOutput{}},

	// ---- groups ----
	{Name: "list_groups", Idempotent: true, Input: ListGroupsInput{}, Output: GroupsOutput{}},
	{Name: "get_group", Idempotent: true, Input: GetGroupInput{}, Output: GetGroupOutput{}},
	{Name: "create_group", Mutates: true, Input: CreateGroupInput{}, Output: GroupOutput{}},
	{Name: "delete_group", Mutates: true, Destructive: true, Input: DeleteGroupInput{}, Output: DeleteOutput{}},
	{Name: "add_user_to_group", Mutates: true, Idempotent: true, Input: GroupMemberInput{}, Output: Result{}},
	{Name: "remove_user_from_group", Mutates: true, Destructive: true, Idempotent: true, Input: GroupMemberInput{}, Output: Result{}},
	{Name: "attach_group_policy", Mutates: true, Idempotent: true, Input: GroupPolicyInput{}, Output: Result{}},
	{Name: "detach_group_policy", Mutates: true, Destructive: true, Idempotent: true, Input: GroupPolicyInput{}, Output: Result{}},
	{Name: "list_attached_group_policies", Idempotent: true, Input: GroupPageInput{}, Output: AttachedPoliciesOutput{}},

	// ---- roles ----
	{Name: "list_roles", Idempotent: true, Input: ListRolesInput{}, Output: ListRolesOutput{}},
	{Name: "get_role", Idempotent: true, Input: RoleNameInput{}, Output: GetRoleOutput{}},
	{Name: "create_role", Mutates: true, Input: CreateRoleInput{}, Output: RoleOutput{}},
	{Name: "delete_role", Mutates: true, Destructive: true, Input: DeleteRoleInput{}, Output: DeleteOutput{}},
	{Name: "update_role", Mutates: true, Idempotent: true, Input: UpdateRoleInput{}, Output: RoleOutput{}},
	{Name: "update_assume_role_policy", Mutates: true, Destructive: true, Idempotent: true, Input: UpdateAssumeRolePolicyInput{}, Output: RoleOutput{}},
	{Name: "attach_role_policy", Mutates: true, Idempotent: true, Input: RolePolicyInput{}, Output: Result{}},
	{Name: "detach_role_policy", Mutates: true, Destructive: true, Idempotent: true, Input: RolePolicyInput{}, Output: Result{}},
	{Name: "list_attached_role_policies", Idempotent: true, Input: RolePageInput{}, Output: AttachedPoliciesOutput{}},
	{Name: "put_role_permissions_boundary", Mutates: true, Destructive: true, Idempotent: true, Input: RoleBoundaryInput{}, Output: RoleOutput{}},
	{Name: "delete_role_permissions_boundary", Mutates: true, Destructive: true, Idempotent: true, Input: RoleNameInput{}, Output: RoleOutput{}},
	{Name: "list_instance_profiles_for_role", Idempotent: true, Input: RolePageInput{}, Output: InstanceProfilesOutput{}},
	{Name: "create_instance_profile", Mutates: true, Input: CreateInstanceProfileInput{}, Output: InstanceProfileOutput{}},
	{Name: "add_role_to_instance_profile", Mutates: true, Input: InstanceProfileRoleInput{}, Output: Result{}},
	{Name: "remove_role_from_instance_profile", Mutates: true, Destructive: true, Idempotent: true, Input: InstanceProfileRoleInput{}, Output: Result{}},
	{Name: "delete_instance_profile", Mutates: true, Destructive: true, Input: InstanceProfileNameInput{}, Output: DeleteOutput{}},

	// ---- managed policies ----
	{Name: "list_policies", Idempotent: true, Input: ListPoliciesInput{}, Output: ListPoliciesOutput{}},
	{Name: "get_policy", Idempotent: true, Input: PolicyArnInput{}, Output: PolicyOutput{}},
	{Name: "get_managed_policy_document", Idempotent: true, Input: GetManagedPolicyDocumentInput{}, Output: PolicyDocumentOutput{}},
	{Name: "create_policy", Mutates: true, Input: CreatePolicyInput{}, Output: PolicyOutput{}},
	{Name: "delete_policy", Mutates: true, Destructive: true, Input: PolicyArnInput{}, Output: DeleteOutput{}},
	{Name: "create_policy_version", Mutates: true, Destructive: true, Input: CreatePolicyVersionInput{}, Output: PolicyVersionOutput{}},
	{Name: "list_policy_versions", Idempotent: true, Input: ListPolicyVersionsInput{}, Output: ListPolicyVersionsOutput{}},
	{Name: "set_default_policy_version", Mutates: true, Destructive: true, Idempotent: true, Input: PolicyVersionInput{}, Output: Result{}},
	{Name: "delete_policy_version", Mutates: true, Destructive: true, Input: PolicyVersionInput{}, Output: Result{}},
	{Name: "attach_user_policy", Mutates: true, Idempotent: true, Input: UserPolicyArnInput{}, Output: Result{}},
	{Name: "detach_user_policy", Mutates: true, Destructive: true, Idempotent: true, Input: UserPolicyArnInput{}, Output: Result{}},
	{Name: "list_attached_user_policies", Idempotent: true, Input: UserPageInput{}, Output: AttachedPoliciesOutput{}},

	// ---- inline policies ----
	{Name: "put_user_policy", Mutates: true, Destructive: true, Idempotent: true, Input: PutUserPolicyInput{}, Output: Result{}},
	{Name: "get_user_policy", Idempotent: true, Input: UserPolicyNameInput{}, Output: InlinePolicyOutput{}},
	{Name: "delete_user_policy", Mutates: true, Destructive: true, Input: UserPolicyNameInput{}, Output: Result{}},
	{Name: "list_user_policies", Idempotent: true, Input: UserPageInput{}, Output: InlinePolicyNamesOutput{}},
	{Name: "put_role_policy", Mutates: true, Destructive: true, Idempotent: true, Input: PutRolePolicyInput{}, Output: Result{}},
	{Name: "get_role_policy", Idempotent: true, Input: RolePolicyNameInput{}, Output: InlinePolicyOutput{}},
	{Name: "delete_role_policy", Mutates: true, Destructive: true, Input: RolePolicyNameInput{}, Output: Result{}},
	{Name: "list_role_policies", Idempotent: true, Input: RolePageInput{}, Output: InlinePolicyNamesOutput{}},
	{Name: "put_group_policy", Mutates: true, Destructive: true, Idempotent: true, Input: PutGroupPolicyInput{}, Output: Result{}},
	{Name: "get_group_policy", Idempotent: true, Input: GroupPolicyNameInput{}, Output: InlinePolicyOutput{}},
	{Name: "delete_group_policy", Mutates: true, Destructive: true, Input: GroupPolicyNameInput{}, Output: Result{}},
	{Name: "list_group_policies", Idempotent: true, Input: GroupPageInput{}, Output: InlinePolicyNamesOutput{}},

	// ---- credentials ----
	{Name: "create_access_key", Mutates: true, Input: UserNameInput{}, Output: CreateAccessKeyOutput{}},
	{Name: "delete_access_key", Mutates: true, Destructive: true, Input: AccessKeyInput{}, Output: Result{}},
	{Name: "list_access_keys", Idempotent: true, Input: UserPageInput{}, Output: ListAccessKeysOutput{}},
	{Name: "update_access_key", Mutates: true, Destructive: true, Idempotent: true, Input: UpdateAccessKeyInput{}, Output: Result{}},
	{Name: "get_access_key_last_used", Idempotent: true, Input: AccessKeyIDInput{}, Output: AccessKeyLastUsedOutput{}},
	{Name: "get_login_profile", Idempotent: true, Input: UserNameInput{}, Output: LoginProfileOutput{}},
	{Name: "create_login_profile", Mutates: true, Input: CreateLoginProfileInput{}, Output: LoginProfileOutput{}},
	{Name: "delete_login_profile", Mutates: true, Destructive: true, Input: UserNameInput{}, Output: Result{}},
	{Name: "list_mfa_devices", Idempotent: true, Input: UserPageInput{}, Output: ListMFADevicesOutput{}},
	{Name: "deactivate_mfa_device", Mutates: true, Destructive: true, Input: MFADeviceInput{}, Output: Result{}},

	{Name: "generate_credential_report", Idempotent: true, Input: Empty{}, Output: GenerateCredentialReportOutput{}},
	{Name: "get_credential_report", Idempotent: true, Input: Empty{}, Output: CredentialReportOutput{}},
	{Name: "list_user_tags", Idempotent: true, Input: UserPageInput{}, Output: UserTagsOutput{}},
	{Name: "tag_user", Mutates: true, Idempotent: true, Input: TagUserInput{}, Output: Result{}},
	{Name: "untag_user", Mutates: true, Destructive: true, Idempotent: true, Input: UntagUserInput{}, Output: Result{}},

	// ---- simulation ----
	{Name: "simulate_principal_policy", Idempotent: true, Input: SimulatePrincipalPolicyInput{}, Output: SimulateOutput{}},

	// ---- policy engine (local: no AWS call, except explain_access's reads) ----
	{Name: "validate_policy", Idempotent: true, Offline: true, Input: ValidatePolicyInput{}, Output: ValidatePolicyOutput{}},
	{Name: "simulate_custom_policy", Idempotent: true, Offline: true, Input: SimulateCustomPolicyInput{}, Output: SimulateOutput{}},
	{Name: "explain_access", Idempotent: true, Input: ExplainAccessInput{}, Output: ExplainAccessOutput{}},

	// ---- account reports: the bulk reads reviews are built on ----
	{Name: "get_account_authorization_details", Idempotent: true, Input: AuthorizationDetailsInput{}, Output: AuthorizationDetailsOutput{}},
	{Name: "get_account_password_policy", Idempotent: true, Input: Empty{}, Output: PasswordPolicyOutput{}},
	{Name: "get_account_summary", Idempotent: true, Input: Empty{}, Output: AccountSummaryOutput{}},
	{Name: "generate_service_last_accessed_details", Idempotent: true, Input: GenerateServiceLastAccessedInput{}, Output: GenerateServiceLastAccessedOutput{}},
	{Name: "get_service_last_accessed_details", Idempotent: true, Input: GetServiceLastAccessedInput{}, Output: ServiceLastAccessedOutput{}},
	{Name: "list_entities_for_policy", Idempotent: true, Input: ListEntitiesForPolicyInput{}, Output: EntitiesForPolicyOutput{}},
	{Name: "get_policy_version", Idempotent: true, Input: PolicyVersionInput{}, Output: PolicyVersionOutput{}},

	// ---- account ----
	{Name: "get_account_info", Idempotent: true, Input: Empty{}, Output: AccountInfoOutput{}},
	{Name: "describe_organization", Idempotent: true, Input: Empty{}, Output: OrganizationOutput{}},
}
