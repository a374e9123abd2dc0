package api

import "time"

// Inputs and outputs of the bulk account reads that reviews are built on
// (authorization details, the credential report, the password policy, the
// account summary, service last accessed), of user tags, and of the policy
// reads a review's evidence needs.

type AuthorizationDetailsInput struct {
	Filter []string `json:"filter,omitempty" desc:"entity types to include, any of User, Role, Group, LocalManagedPolicy, AWSManagedPolicy (default: all)"`
	PageInput
}

// InlinePolicy is an inline policy with its document.
type InlinePolicy struct {
	PolicyName     string         `json:"policy_name"`
	PolicyDocument PolicyDocument `json:"policy_document"`
}

// UserDetail is a user with everything that grants it permissions.
type UserDetail struct {
	User
	Groups           []string         `json:"groups" desc:"names of the groups the user is in"`
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []InlinePolicy   `json:"inline_policies"`
}

// GroupDetail is a group with its policies.
type GroupDetail struct {
	Group
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []InlinePolicy   `json:"inline_policies"`
}

// RoleDetail is a role with its trust policy (in Role), policies and
// instance profiles.
type RoleDetail struct {
	Role
	AttachedPolicies []AttachedPolicy `json:"attached_policies"`
	InlinePolicies   []InlinePolicy   `json:"inline_policies"`
	InstanceProfiles []string         `json:"instance_profiles" desc:"names of the instance profiles that hold the role"`
}

// ManagedPolicyDetail is a managed policy with its versions' documents.
type ManagedPolicyDetail struct {
	ManagedPolicy
	Versions []PolicyVersion `json:"versions" desc:"every version, documents decoded; the default one has is_default_version"`
}

type AuthorizationDetailsOutput struct {
	Users    []UserDetail          `json:"users"`
	Groups   []GroupDetail         `json:"groups"`
	Roles    []RoleDetail          `json:"roles"`
	Policies []ManagedPolicyDetail `json:"policies"`
	Page
}

type GenerateCredentialReportOutput struct {
	State       string `json:"state" enum:"STARTED,INPROGRESS,COMPLETE"`
	Description string `json:"description,omitempty"`
}

// CredentialReportKey is one of the report's two access key slots, for a
// key that exists.
type CredentialReportKey struct {
	Slot            int        `json:"slot" desc:"1 or 2, the report's column"`
	Active          bool       `json:"active"`
	LastRotated     *time.Time `json:"last_rotated,omitempty" desc:"when the key was created or last rotated"`
	LastUsedDate    *time.Time `json:"last_used_date,omitempty" desc:"absent when never used"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
	LastUsedService string     `json:"last_used_service,omitempty"`
}

// CredentialReportCert is one of the report's two signing certificate
// slots, for a certificate that exists.
type CredentialReportCert struct {
	Slot        int        `json:"slot"`
	Active      bool       `json:"active"`
	LastRotated *time.Time `json:"last_rotated,omitempty"`
}

// CredentialReportRow is one row of the credential report: a user, or the
// root user ("<root_account>").
type CredentialReportRow struct {
	User                 string                 `json:"user" desc:"the user's name; <root_account> for the root user"`
	Arn                  string                 `json:"arn"`
	UserCreationTime     *time.Time             `json:"user_creation_time,omitempty"`
	PasswordEnabled      bool                   `json:"password_enabled" desc:"has a console password (for the root user, IAM does not say: false)"`
	PasswordLastUsed     *time.Time             `json:"password_last_used,omitempty"`
	PasswordLastChanged  *time.Time             `json:"password_last_changed,omitempty"`
	PasswordNextRotation *time.Time             `json:"password_next_rotation,omitempty"`
	MFAActive            bool                   `json:"mfa_active"`
	AccessKeys           []CredentialReportKey  `json:"access_keys" desc:"the keys that exist, slot 1 first"`
	Certificates         []CredentialReportCert `json:"certificates" desc:"the signing certificates that exist"`
}

type CredentialReportOutput struct {
	GeneratedTime time.Time             `json:"generated_time" desc:"when IAM generated the report; it can be up to 4 hours old"`
	Rows          []CredentialReportRow `json:"rows"`
}

// PasswordPolicy is the account's password policy.
type PasswordPolicy struct {
	MinimumPasswordLength      int  `json:"minimum_password_length"`
	RequireSymbols             bool `json:"require_symbols"`
	RequireNumbers             bool `json:"require_numbers"`
	RequireUppercaseCharacters bool `json:"require_uppercase_characters"`
	RequireLowercaseCharacters bool `json:"require_lowercase_characters"`
	AllowUsersToChangePassword bool `json:"allow_users_to_change_password"`
	ExpirePasswords            bool `json:"expire_passwords"`
	MaxPasswordAge             int  `json:"max_password_age,omitempty" desc:"days"`
	PasswordReusePrevention    int  `json:"password_reuse_prevention,omitempty" desc:"how many previous passwords cannot be reused"`
	HardExpiry                 bool `json:"hard_expiry"`
}

type PasswordPolicyOutput struct {
	// Present is false when the account has no password policy (IAM's
	// NoSuchEntity), which a review reports rather than fails on.
	Present        bool            `json:"present" desc:"false when the account has no password policy: IAM's defaults apply"`
	PasswordPolicy *PasswordPolicy `json:"password_policy,omitempty"`
}

type AccountSummaryOutput struct {
	Summary map[string]int `json:"summary" desc:"IAM's SummaryMap: usage and quotas (Users, UsersQuota, Policies…), and AccountMFAEnabled and AccountAccessKeysPresent for the root user (1 = yes)"`
}

type GenerateServiceLastAccessedInput struct {
	Arn         string `json:"arn" desc:"ARN of the user, group, role or managed policy to report on"`
	Granularity string `json:"granularity,omitempty" desc:"SERVICE_LEVEL (default) or ACTION_LEVEL" enum:"SERVICE_LEVEL,ACTION_LEVEL"`
}
type GenerateServiceLastAccessedOutput struct {
	JobID string `json:"job_id" desc:"pass to get_service_last_accessed_details"`
}
type GetServiceLastAccessedInput struct {
	JobID string `json:"job_id" desc:"from generate_service_last_accessed_details"`
	PageInput
}

// ServiceLastAccessed is when an entity last used one service it may use.
type ServiceLastAccessed struct {
	ServiceName                string     `json:"service_name"`
	ServiceNamespace           string     `json:"service_namespace" desc:"the action prefix, e.g. s3"`
	LastAuthenticated          *time.Time `json:"last_authenticated,omitempty" desc:"absent when not used in the tracking period"`
	LastAuthenticatedEntity    string     `json:"last_authenticated_entity,omitempty"`
	LastAuthenticatedRegion    string     `json:"last_authenticated_region,omitempty"`
	TotalAuthenticatedEntities int        `json:"total_authenticated_entities"`
}
type ServiceLastAccessedOutput struct {
	JobStatus            string                `json:"job_status" enum:"IN_PROGRESS,COMPLETED,FAILED"`
	JobCompletionDate    *time.Time            `json:"job_completion_date,omitempty"`
	ServicesLastAccessed []ServiceLastAccessed `json:"services_last_accessed"`
	Error                string                `json:"error,omitempty" desc:"why the job failed"`
	Page
}

type UserTagsOutput struct {
	Tags map[string]string `json:"tags"`
	Page
}
type TagUserInput struct {
	UserName string            `json:"user_name" desc:"the IAM user's name"`
	Tags     map[string]string `json:"tags" desc:"tags to add or overwrite, key to value"`
}
type UntagUserInput struct {
	UserName string   `json:"user_name" desc:"the IAM user's name"`
	TagKeys  []string `json:"tag_keys" desc:"keys of the tags to remove"`
}

type ListEntitiesForPolicyInput struct {
	PolicyArn         string `json:"policy_arn" desc:"ARN of the managed policy"`
	EntityFilter      string `json:"entity_filter,omitempty" desc:"only this kind of entity" enum:"User,Role,Group,LocalManagedPolicy,AWSManagedPolicy"`
	PathPrefix        string `json:"path_prefix,omitempty"`
	PolicyUsageFilter string `json:"policy_usage_filter,omitempty" desc:"PermissionsPolicy (attached) or PermissionsBoundary (used as a boundary); default both" enum:"PermissionsPolicy,PermissionsBoundary"`
	PageInput
}
type EntitiesForPolicyOutput struct {
	Users  []string `json:"users" desc:"user names"`
	Groups []string `json:"groups" desc:"group names"`
	Roles  []string `json:"roles" desc:"role names"`
	Page
}
