package api

import "time"

// Inputs and outputs of every catalogue operation, named <Op>Input and
// <Op>Output. Field tags drive the JSON Schemas the MCP tools publish: a
// field without ",omitempty" is required; `desc` describes it; `enum`,
// `minimum`, `maximum` and `pattern` constrain it.

// ---- users ----

type ListUsersInput struct {
	PathPrefix string `json:"path_prefix,omitempty" desc:"only users whose path starts with this, e.g. /engineering/"`
	PageInput
}
type ListUsersOutput struct {
	Users []User `json:"users"`
	Page
}

type UserNameInput struct {
	UserName string `json:"user_name" desc:"the IAM user's name"`
}
type GetUserOutput struct {
	User             User             `json:"user"`
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []string         `json:"inline_policies"`
	Groups           []Group          `json:"groups"`
	AccessKeys       []AccessKey      `json:"access_keys"`
}

type CreateUserInput struct {
	UserName            string `json:"user_name" desc:"1-64 characters: letters, digits and +=,.@_-"`
	Path                string `json:"path,omitempty" desc:"e.g. /engineering/ (default /)"`
	PermissionsBoundary string `json:"permissions_boundary,omitempty" desc:"ARN of a managed policy to set as the user's permissions boundary"`
}
type UserOutput struct {
	User User `json:"user"`
	Result
}

type DeleteUserInput struct {
	UserName string `json:"user_name" desc:"the IAM user's name"`
	Force    bool   `json:"force,omitempty" desc:"first remove everything that blocks the delete: keys, certificates, SSH keys, service credentials, MFA devices, login profile, policies, group memberships"`
}
type DeleteOutput struct {
	Deleted string       `json:"deleted" desc:"the name of what was deleted"`
	Steps   []DeleteStep `json:"steps" desc:"what was removed first, in order (force only)"`
	Result
}

type UpdateUserInput struct {
	UserName    string `json:"user_name" desc:"the user's current name"`
	NewUserName string `json:"new_user_name,omitempty" desc:"rename the user"`
	NewPath     string `json:"new_path,omitempty" desc:"move the user to this path"`
}

type GroupsOutput struct {
	Groups []Group `json:"groups"`
	Page
}
type UserPageInput struct {
	UserName string `json:"user_name" desc:"the IAM user's name"`
	PageInput
}

type UserBoundaryInput struct {
	UserName            string `json:"user_name" desc:"the IAM user's name"`
	PermissionsBoundary string `json:"permissions_boundary" desc:"ARN of the managed policy to use as the boundary"`
}

// ---- groups ----

type ListGroupsInput struct {
	PathPrefix string `json:"path_prefix,omitempty" desc:"only groups whose path starts with this"`
	PageInput
}
type GroupNameInput struct {
	GroupName string `json:"group_name" desc:"the IAM group's name"`
}
type GetGroupInput struct {
	GroupName string `json:"group_name" desc:"the IAM group's name"`
	PageInput
}
type GetGroupOutput struct {
	Group            Group            `json:"group"`
	Users            []User           `json:"users"`
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []string         `json:"inline_policies"`
	Page
}
type CreateGroupInput struct {
	GroupName string `json:"group_name" desc:"1-128 characters: letters, digits and +=,.@_-"`
	Path      string `json:"path,omitempty" desc:"default /"`
}
type GroupOutput struct {
	Group Group `json:"group"`
	Result
}
type DeleteGroupInput struct {
	GroupName string `json:"group_name" desc:"the IAM group's name"`
	Force     bool   `json:"force,omitempty" desc:"first remove its members and its attached and inline policies"`
}
type GroupMemberInput struct {
	GroupName string `json:"group_name" desc:"the IAM group's name"`
	UserName  string `json:"user_name" desc:"the IAM user's name"`
}
type GroupPolicyInput struct {
	GroupName string `json:"group_name" desc:"the IAM group's name"`
	PolicyArn string `json:"policy_arn" desc:"ARN of the managed policy"`
}
type GroupPageInput struct {
	GroupName string `json:"group_name" desc:"the IAM group's name"`
	PageInput
}

// ---- roles ----

type ListRolesInput struct {
	PathPrefix string `json:"path_prefix,omitempty" desc:"only roles whose path starts with this, e.g. /service-role/"`
	PageInput
}
type ListRolesOutput struct {
	Roles []Role `json:"roles"`
	Page
}
type RoleNameInput struct {
	RoleName string `json:"role_name" desc:"the IAM role's name"`
}
type GetRoleOutput struct {
	Role             Role             `json:"role"`
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []string         `json:"inline_policies"`
	InstanceProfiles []string         `json:"instance_profiles"`
}
type CreateRoleInput struct {
	RoleName                 string         `json:"role_name" desc:"1-64 characters: letters, digits and +=,.@_-"`
	AssumeRolePolicyDocument PolicyDocument `json:"assume_role_policy_document" desc:"the trust policy: who may assume the role (JSON object or string)"`
	Path                     string         `json:"path,omitempty" desc:"default /"`
	Description              string         `json:"description,omitempty"`
	MaxSessionDuration       int            `json:"max_session_duration,omitempty" desc:"seconds, 3600-43200 (default 3600)" minimum:"3600" maximum:"43200"`
	PermissionsBoundary      string         `json:"permissions_boundary,omitempty" desc:"ARN of a managed policy to set as the role's permissions boundary"`
}
type RoleOutput struct {
	Role Role `json:"role"`
	Result
}
type DeleteRoleInput struct {
	RoleName string `json:"role_name" desc:"the IAM role's name"`
	Force    bool   `json:"force,omitempty" desc:"first detach its policies, delete its inline policies and remove it from instance profiles"`
}
type UpdateRoleInput struct {
	RoleName           string  `json:"role_name" desc:"the IAM role's name"`
	Description        *string `json:"description,omitempty" desc:"new description (empty string clears it)"`
	MaxSessionDuration int     `json:"max_session_duration,omitempty" desc:"seconds, 3600-43200" minimum:"3600" maximum:"43200"`
}
type UpdateAssumeRolePolicyInput struct {
	RoleName       string         `json:"role_name" desc:"the IAM role's name"`
	PolicyDocument PolicyDocument `json:"policy_document" desc:"the new trust policy (JSON object or string); replaces the current one"`
}
type RolePolicyInput struct {
	RoleName  string `json:"role_name" desc:"the IAM role's name"`
	PolicyArn string `json:"policy_arn" desc:"ARN of the managed policy"`
}
type RolePageInput struct {
	RoleName string `json:"role_name" desc:"the IAM role's name"`
	PageInput
}
type RoleBoundaryInput struct {
	RoleName            string `json:"role_name" desc:"the IAM role's name"`
	PermissionsBoundary string `json:"permissions_boundary" desc:"ARN of the managed policy to use as the boundary"`
}
type InstanceProfilesOutput struct {
	InstanceProfiles []InstanceProfile `json:"instance_profiles"`
	Page
}
type CreateInstanceProfileInput struct {
	InstanceProfileName string `json:"instance_profile_name" desc:"1-128 characters: letters, digits and +=,.@_-"`
	Path                string `json:"path,omitempty" desc:"default /"`
}
type InstanceProfileOutput struct {
	InstanceProfile InstanceProfile `json:"instance_profile"`
	Result
}
type InstanceProfileRoleInput struct {
	InstanceProfileName string `json:"instance_profile_name" desc:"the instance profile's name"`
	RoleName            string `json:"role_name" desc:"the IAM role's name"`
}
type InstanceProfileNameInput struct {
	InstanceProfileName string `json:"instance_profile_name" desc:"the instance profile's name"`
}

// ---- managed policies ----

type ListPoliciesInput struct {
	Scope        string `json:"scope,omitempty" desc:"Local (customer managed, the default), AWS (AWS managed) or All" enum:"All,AWS,Local"`
	OnlyAttached bool   `json:"only_attached,omitempty" desc:"only policies attached to a user, group or role"`
	PathPrefix   string `json:"path_prefix,omitempty"`
	PageInput
}
type ListPoliciesOutput struct {
	Policies []ManagedPolicy `json:"policies"`
	Page
}
type PolicyArnInput struct {
	PolicyArn string `json:"policy_arn" desc:"ARN of the managed policy"`
}
type PolicyOutput struct {
	Policy ManagedPolicy `json:"policy"`
	Result
}
type GetManagedPolicyDocumentInput struct {
	PolicyArn string `json:"policy_arn" desc:"ARN of the managed policy"`
	VersionID string `json:"version_id,omitempty" desc:"e.g. v3; the default version when omitted"`
}
type PolicyDocumentOutput struct {
	PolicyArn        string         `json:"policy_arn"`
	VersionID        string         `json:"version_id"`
	IsDefaultVersion bool           `json:"is_default_version"`
	PolicyDocument   PolicyDocument `json:"policy_document"`
}
type CreatePolicyInput struct {
	PolicyName     string         `json:"policy_name" desc:"1-128 characters: letters, digits and +=,.@_-"`
	PolicyDocument PolicyDocument `json:"policy_document" desc:"the permissions (JSON object or string); at most 6,144 characters without whitespace"`
	Path           string         `json:"path,omitempty" desc:"default /"`
	Description    string         `json:"description,omitempty"`
}
type CreatePolicyVersionInput struct {
	PolicyArn      string         `json:"policy_arn" desc:"ARN of the customer managed policy"`
	PolicyDocument PolicyDocument `json:"policy_document" desc:"the new version's permissions (JSON object or string)"`
	SetAsDefault   bool           `json:"set_as_default,omitempty" desc:"make the new version the one in effect"`
}
type PolicyVersionOutput struct {
	PolicyArn string        `json:"policy_arn"`
	Version   PolicyVersion `json:"version"`
	Result
}
type ListPolicyVersionsInput struct {
	PolicyArn string `json:"policy_arn" desc:"ARN of the managed policy"`
	PageInput
}
type ListPolicyVersionsOutput struct {
	Versions []PolicyVersion `json:"versions"`
	Page
}
type PolicyVersionInput struct {
	PolicyArn string `json:"policy_arn" desc:"ARN of the managed policy"`
	VersionID string `json:"version_id" desc:"e.g. v2"`
}
type UserPolicyArnInput struct {
	UserName  string `json:"user_name" desc:"the IAM user's name"`
	PolicyArn string `json:"policy_arn" desc:"ARN of the managed policy"`
}
type AttachedPoliciesOutput struct {
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	Page
}

// ---- inline policies ----

type PutUserPolicyInput struct {
	UserName       string         `json:"user_name" desc:"the IAM user's name"`
	PolicyName     string         `json:"policy_name" desc:"the inline policy's name"`
	PolicyDocument PolicyDocument `json:"policy_document" desc:"the permissions (JSON object or string); replaces a policy of the same name"`
}
type UserPolicyNameInput struct {
	UserName   string `json:"user_name" desc:"the IAM user's name"`
	PolicyName string `json:"policy_name" desc:"the inline policy's name"`
}
type PutRolePolicyInput struct {
	RoleName       string         `json:"role_name" desc:"the IAM role's name"`
	PolicyName     string         `json:"policy_name" desc:"the inline policy's name"`
	PolicyDocument PolicyDocument `json:"policy_document" desc:"the permissions (JSON object or string); replaces a policy of the same name"`
}
type RolePolicyNameInput struct {
	RoleName   string `json:"role_name" desc:"the IAM role's name"`
	PolicyName string `json:"policy_name" desc:"the inline policy's name"`
}
type PutGroupPolicyInput struct {
	GroupName      string         `json:"group_name" desc:"the IAM group's name"`
	PolicyName     string         `json:"policy_name" desc:"the inline policy's name"`
	PolicyDocument PolicyDocument `json:"policy_document" desc:"the permissions (JSON object or string); replaces a policy of the same name"`
}
type GroupPolicyNameInput struct {
	GroupName  string `json:"group_name" desc:"the IAM group's name"`
	PolicyName string `json:"policy_name" desc:"the inline policy's name"`
}
type InlinePolicyOutput struct {
	PrincipalName  string         `json:"principal_name" desc:"the user, role or group holding it"`
	PolicyName     string         `json:"policy_name"`
	PolicyDocument PolicyDocument `json:"policy_document"`
}
type InlinePolicyNamesOutput struct {
	PolicyNames []string `json:"policy_names"`
	Page
}

// ---- credentials ----

type CreateAccessKeyOutput struct {
	AccessKey AccessKey `json:"access_key"`
	// SecretFile is where the secret was written (mode 0600), unless the
	// server runs with --return-secrets.
	SecretFile      string `json:"secret_file,omitempty" desc:"file (mode 0600) holding the key id and secret"`
	SecretAccessKey string `json:"secret_access_key,omitempty" desc:"only with --return-secrets: shown once, never again"`
	// SecretLink is where the secret waits (MCP over HTTP): a one-time
	// link on the server, for the same authenticated caller only, until
	// SecretLinkExpires (RFC 3339).
	SecretLink        string `json:"secret_link,omitempty" desc:"one-time link to the secret, for the same authenticated caller only (HTTP)"`
	SecretLinkExpires string `json:"secret_link_expires,omitempty" desc:"when the secret link stops working (RFC 3339)"`
	Result
}
type AccessKeyInput struct {
	UserName    string `json:"user_name" desc:"the IAM user's name"`
	AccessKeyID string `json:"access_key_id" desc:"e.g. AKIA…"`
}
type ListAccessKeysOutput struct {
	AccessKeys []AccessKey `json:"access_keys"`
	Page
}
type UpdateAccessKeyInput struct {
	UserName    string `json:"user_name" desc:"the IAM user's name"`
	AccessKeyID string `json:"access_key_id" desc:"e.g. AKIA…"`
	Status      string `json:"status" desc:"Inactive stops the key from working (reversible); Active turns it back on" enum:"Active,Inactive"`
}
type AccessKeyIDInput struct {
	AccessKeyID string `json:"access_key_id" desc:"e.g. AKIA…"`
}
type AccessKeyLastUsedOutput struct {
	UserName     string     `json:"user_name"`
	AccessKeyID  string     `json:"access_key_id"`
	LastUsedDate *time.Time `json:"last_used_date,omitempty" desc:"absent when never used"`
	ServiceName  string     `json:"service_name" desc:"N/A when never used"`
	Region       string     `json:"region" desc:"N/A when never used"`
}
type LoginProfileOutput struct {
	LoginProfile LoginProfile `json:"login_profile"`
	Result
}
type CreateLoginProfileInput struct {
	UserName              string `json:"user_name" desc:"the IAM user's name"`
	Password              string `json:"password" desc:"the initial console password; it must satisfy the account password policy"`
	PasswordResetRequired bool   `json:"password_reset_required,omitempty" desc:"make the user choose a new password at first sign-in (recommended)"`
}
type ListMFADevicesOutput struct {
	MFADevices []MFADevice `json:"mfa_devices"`
	Page
}
type MFADeviceInput struct {
	UserName     string `json:"user_name" desc:"the IAM user's name"`
	SerialNumber string `json:"serial_number" desc:"the device's serial number (an ARN for virtual devices)"`
}

// ---- simulation ----

type SimulatePrincipalPolicyInput struct {
	PolicySourceArn string         `json:"policy_source_arn" desc:"ARN of the user, group or role whose policies to evaluate"`
	ActionNames     []string       `json:"action_names" desc:"actions to test, e.g. [\"s3:GetObject\"]"`
	ResourceArns    []string       `json:"resource_arns,omitempty" desc:"resources to test against (default *)"`
	ContextEntries  ContextEntries `json:"context_entries,omitempty" desc:"condition keys and their values"`
	// The resource side, as IAM's simulator takes it: IAM never fetches a
	// resource's policy itself, so the caller passes it.
	ResourcePolicy            PolicyDocument `json:"resource_policy,omitempty" desc:"a resource-based policy (bucket policy, key policy, queue policy…) to evaluate as attached to every resource; its Principal is matched against caller_arn"`
	ResourceOwner             string         `json:"resource_owner,omitempty" desc:"account ID (or arn:aws:iam::ACCOUNT:root) owning resources whose ARN names no account, such as S3 buckets; another account than the caller's makes the request cross-account, which needs both an identity and a resource policy grant"`
	CallerArn                 string         `json:"caller_arn,omitempty" desc:"ARN of the IAM user (or role) to simulate as, with policy_source_arn's policies; resource_policy's Principal is matched against it (default: policy_source_arn)"`
	PermissionsBoundaryPolicy PolicyDocument `json:"permissions_boundary_policy,omitempty" desc:"a permissions boundary to simulate in place of the principal's own (JSON object or string)"`
	PageInput
}
type SimulateOutput struct {
	EvaluationResults []EvaluationResult `json:"evaluation_results"`
	Page
}

// ---- account ----

type Empty struct{}

type AccountInfoOutput struct {
	AccountID    string `json:"account_id"`
	AccountAlias string `json:"account_alias,omitempty"`
	CallerArn    string `json:"caller_arn" desc:"who the server's credentials are"`
	Partition    string `json:"partition"`
	// Accounts lists every account the server may act in, its own first,
	// when the operator gave more than its own (--accounts, or discovery).
	Accounts []ReachableAccount `json:"accounts,omitempty" desc:"the accounts this server may act in (the account argument of every tool), its own first, each with its mode"`
}

// ReachableAccount is one account the server may act in, and the mode the
// operator gave it there.
type ReachableAccount struct {
	ID    string `json:"id" desc:"the 12-digit account id"`
	Alias string `json:"alias,omitempty" desc:"the operator's name for it (accounts file), or the organization's"`
	// Self marks the server's own account (its credentials' account).
	Self     bool   `json:"self,omitempty"`
	ReadOnly bool   `json:"read_only" desc:"changes are refused in this account"`
	Confirm  string `json:"confirm" enum:"destructive,writes,none" desc:"which changes the person is asked to approve in this account"`
	// Via says how the server reaches it: a role ARN it assumes, "profile
	// NAME", or "" for the server's own credentials.
	Via string `json:"via,omitempty" desc:"how the server reaches it: the role it assumes, or the named profile"`
}

// OrganizationOutput is the AWS Organization the account belongs to, as
// its management account sees it: the tree of roots, OUs and accounts,
// and the service control policies with where each is attached.
type OrganizationOutput struct {
	ID                  string       `json:"id"`
	ManagementAccountID string       `json:"management_account_id"`
	FeatureSet          string       `json:"feature_set" desc:"ALL when SCPs can apply; CONSOLIDATED_BILLING when they cannot"`
	Roots               []OrgUnit    `json:"roots"`
	OrganizationalUnits []OrgUnit    `json:"organizational_units"`
	Accounts            []OrgAccount `json:"accounts"`
	Policies            []SCP        `json:"service_control_policies" desc:"every SCP with its document and the roots, OUs and accounts it is attached to; empty when SCPs are not enabled"`
	// SCPsEnabled: the SERVICE_CONTROL_POLICY type is enabled on the root,
	// so the policies apply to member accounts (never to the management
	// account).
	SCPsEnabled bool `json:"scps_enabled"`
}

// OrgUnit is a root or an organizational unit.
type OrgUnit struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ParentID string `json:"parent_id,omitempty" desc:"the parent root or OU; absent for a root"`
}

// OrgAccount is a member (or the management) account.
type OrgAccount struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
	Status   string `json:"status" desc:"ACTIVE, SUSPENDED or PENDING_CLOSURE"`
	ParentID string `json:"parent_id" desc:"the root or OU it is in"`
}

// SCP is one service control policy.
type SCP struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	ARN        string   `json:"arn"`
	AWSManaged bool     `json:"aws_managed,omitempty"`
	Document   string   `json:"document" desc:"the policy document as JSON text"`
	Targets    []string `json:"targets" desc:"the ids of the roots, OUs and accounts it is attached to"`
}
