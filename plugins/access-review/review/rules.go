package review

import (
	"fmt"
	"sort"
)

// Severity ranks a finding. The order is what the report sorts by and what
// min_severity cuts at, so it is an int underneath with names on the wire.
type Severity int

// The severities, most severe first in the report.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{Info: "info", Low: "low", Medium: "medium", High: "high", Critical: "critical"}

// String is the severity's wire name ("critical").
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText writes the wire name, so that JSON carries "high", not 3.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a wire name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return fmt.Errorf("unknown severity %q (one of critical, high, medium, low, info)", b)
	}
	*s = v
	return nil
}

// ParseSeverity reads a wire name.
func ParseSeverity(name string) (Severity, bool) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), true
		}
	}
	return 0, false
}

// Kind is what a finding is about; scope selects by kind.
type Kind string

// The kinds of subject a rule reports on.
const (
	KindAccount Kind = "account" // the root user, the password policy, account-wide facts
	KindUser    Kind = "user"
	KindGroup   Kind = "group"
	KindRole    Kind = "role"
	KindPolicy  Kind = "policy" // a managed policy (customer or AWS managed)
)

// Reference is a document a reader follows to understand a finding.
type Reference struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Rule is one check: its stable id, how bad a finding is, and what a reader
// needs besides the finding itself. Rules are data so that the report, the
// documentation and the tests all read the same table; a rule's id never
// changes meaning once published, because people filter and suppress by it.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Category groups rules in the documentation: credentials,
	// over-privilege, privilege escalation, trust, structure, deep.
	Category string `json:"category"`
	// Kinds are the subjects the rule reports on, for scope.
	Kinds []Kind `json:"-"`
	// Why is the risk in a sentence, for the Markdown report.
	Why string `json:"why"`
	// CIS lists the CIS AWS Foundations Benchmark (v3.0) controls the
	// rule implements, when any.
	CIS []string `json:"cis,omitempty"`
	// Prowler and Cloudsplaining name what the rule covers in those tools,
	// for people comparing (docs/access-review.md tables them).
	Prowler        []string    `json:"-"`
	Cloudsplaining []string    `json:"-"`
	References     []Reference `json:"references"`
}

// Rule ids. They are stable: callers filter and suppress by them.
const (
	RuleRootAccessKey        = "IAM.CRED.ROOT_ACCESS_KEY"
	RuleRootNoMFA            = "IAM.CRED.ROOT_NO_MFA"
	RuleRootRecentlyUsed     = "IAM.CRED.ROOT_RECENTLY_USED"
	RuleAdminNoMFA           = "IAM.CRED.ADMIN_NO_MFA"
	RuleConsoleNoMFA         = "IAM.CRED.CONSOLE_NO_MFA"
	RuleKeyNotRotated        = "IAM.CRED.KEY_NOT_ROTATED"
	RuleKeyUnused            = "IAM.CRED.KEY_UNUSED"
	RuleTwoActiveKeys        = "IAM.CRED.TWO_ACTIVE_KEYS"
	RuleConsoleUnused        = "IAM.CRED.CONSOLE_UNUSED"
	RulePasswordPolicyNone   = "IAM.CRED.PASSWORD_POLICY_MISSING"
	RulePasswordPolicyWeak   = "IAM.CRED.PASSWORD_POLICY_WEAK"
	RuleAWSAdminAttached     = "IAM.PRIV.AWS_ADMIN_POLICY_ATTACHED"
	RuleCustomerAdminPolicy  = "IAM.PRIV.CUSTOMER_ADMIN_POLICY"
	RuleInlineAdminPolicy    = "IAM.PRIV.INLINE_ADMIN_POLICY"
	RuleServiceWildcard      = "IAM.PRIV.SERVICE_WILDCARD"
	RuleDataExfiltration     = "IAM.PRIV.DATA_EXFILTRATION"
	RuleCredentialsExposure  = "IAM.PRIV.CREDENTIALS_EXPOSURE"
	RuleResourceExposure     = "IAM.PRIV.RESOURCE_EXPOSURE"
	RulePassRoleOnStar       = "IAM.PRIV.PASSROLE_ON_STAR"
	RuleAssumeRoleOnStar     = "IAM.PRIV.ASSUMEROLE_ON_STAR"
	RuleEscalationConfirmed  = "IAM.ESC.CONFIRMED"
	RuleEscalationPotential  = "IAM.ESC.POTENTIAL"
	RuleEscalationNoTarget   = "IAM.ESC.METHOD_NO_PRIVILEGED_TARGET"
	RuleTrustAnyone          = "IAM.TRUST.ANYONE"
	RuleTrustAnyoneCond      = "IAM.TRUST.ANYONE_CONDITIONED"
	RuleTrustCrossAccount    = "IAM.TRUST.CROSS_ACCOUNT_NO_EXTERNAL_ID"
	RuleTrustCrossAccountCnd = "IAM.TRUST.CROSS_ACCOUNT_WEAK_CONDITION"
	RuleTrustOIDCNoSub       = "IAM.TRUST.OIDC_NO_SUBJECT"
	RuleTrustOIDCBroad       = "IAM.TRUST.OIDC_SUBJECT_BROAD"
	RuleTrustServiceNoSource = "IAM.TRUST.SERVICE_NO_SOURCE"
	RuleUserAttachedPolicy   = "IAM.STRUCT.USER_DIRECT_POLICY"
	RuleInlinePolicy         = "IAM.STRUCT.INLINE_POLICY"
	RuleUnattachedAdmin      = "IAM.STRUCT.UNATTACHED_ADMIN_POLICY"
	RuleNoSupportRole        = "IAM.STRUCT.NO_SUPPORT_ROLE"
	RuleNoAuditRole          = "IAM.STRUCT.NO_SECURITY_AUDIT_ROLE"
	RuleRoleUnused           = "IAM.STRUCT.ROLE_UNUSED"
	RuleUnusedServices       = "IAM.DEEP.UNUSED_SERVICES"
	RuleTrustOrgAccess       = "IAM.TRUST.ORG_ACCESS_ROLE"
	RuleXAccountAssume       = "IAM.XACCT.ASSUMABLE_FROM_ACCOUNT"
	RuleXAccountAdmin        = "IAM.XACCT.CHAIN_TO_ADMIN"
	RuleXAccountAdminCond    = "IAM.XACCT.CHAIN_TO_ADMIN_CONDITIONED"
)

// The deep checks, named as the include argument names them.
const (
	IncludeServiceLastAccessed = "service_last_accessed"
	IncludeKeyLastUsed         = "key_last_used"
)

const (
	docIAMBestPractices = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"
	docRootUser         = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"
	docRootKeys         = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html"
	docMFA              = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa.html"
	docKeys             = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html"
	docCredReport       = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html"
	docFindUnused       = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html"
	docPasswordPolicy   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"
	docManagedVsInline  = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html"
	docAdminJobFunction = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html"
	docLeastPrivilege   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"
	docPassRole         = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
	docRhino            = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
	docBoundaries       = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
	docTrust            = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html"
	docExternalID       = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html"
	docConfusedDeputy   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"
	docOIDC             = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html"
	docGitHubOIDC       = "https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services"
	docSupportRole      = "https://docs.aws.amazon.com/awssupport/latest/user/accessing-support.html"
	docLastAccessed     = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html"
	docRoleLastUsed     = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html"
	docCloudsplaining   = "https://github.com/salesforce/cloudsplaining"
	docOrgAccessRole    = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access-cross-account-role.html"
	docCrossAccount     = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
	docSCPEvaluation    = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"
	docResourcePolicies = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html"
)

func ref(title, url string) Reference { return Reference{title, url} }

// Rules is the table of every check, in the order the documentation lists
// them. Severity ranks what an attacker gains: critical is account takeover
// with nothing else needed, high is a large step towards it or direct data
// access, medium weakens a defence, low is hygiene that makes the account
// harder to review.
var Rules = []Rule{
	// ---- credentials ----
	{ID: RuleRootAccessKey, Severity: Critical, Category: "credentials", Kinds: []Kind{KindAccount},
		Title: "The root user has an access key",
		Why:   "A root access key is full, unrestrictable control of the account in a string that can leak; no policy or permissions boundary limits it.",
		CIS:   []string{"1.4"}, Prowler: []string{"iam_no_root_access_key"}, Cloudsplaining: []string{"Credentials Exposure"},
		References: []Reference{ref("Delete the root user's access keys", docRootKeys), ref("Root user best practices", docRootUser)}},
	{ID: RuleRootNoMFA, Severity: Critical, Category: "credentials", Kinds: []Kind{KindAccount},
		Title: "The root user has no MFA",
		Why:   "Whoever learns the root password owns the account; MFA is the only second factor the root user can have.",
		CIS:   []string{"1.5"}, Prowler: []string{"iam_root_mfa_enabled"},
		References: []Reference{ref("Enable MFA for the root user", "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html"), ref("Root user best practices", docRootUser)}},
	{ID: RuleRootRecentlyUsed, Severity: High, Category: "credentials", Kinds: []Kind{KindAccount},
		Title: "The root user was used in the last 30 days",
		Why:   "Day-to-day work as root cannot be limited, attributed to a person or separated by duty; root is for the few tasks that require it.",
		CIS:   []string{"1.7"}, Prowler: []string{"iam_avoid_root_usage"},
		References: []Reference{ref("Tasks that require root user credentials", "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#root-user-tasks")}},
	{ID: RuleAdminNoMFA, Severity: Critical, Category: "credentials", Kinds: []Kind{KindUser},
		Title:      "An administrator has no MFA",
		Why:        "A user whose policies are admin-equivalent and who has no MFA turns one phished password or leaked key into account takeover.",
		Prowler:    []string{"iam_administrator_access_with_mfa", "iam_user_mfa_enabled_console_access"},
		References: []Reference{ref("MFA in IAM", docMFA), ref("Require MFA for privileged users", docIAMBestPractices+"#enable-mfa-for-privileged-users")}},
	{ID: RuleConsoleNoMFA, Severity: High, Category: "credentials", Kinds: []Kind{KindUser},
		Title: "A console user has no MFA",
		Why:   "A console password alone is one phishing page away from whatever the user may do.",
		CIS:   []string{"1.10"}, Prowler: []string{"iam_user_mfa_enabled_console_access", "iam_user_hardware_mfa_enabled (partly: any MFA, not hardware)"},
		References: []Reference{ref("MFA in IAM", docMFA)}},
	{ID: RuleKeyNotRotated, Severity: Medium, Category: "credentials", Kinds: []Kind{KindUser},
		Title: "An active access key is older than 90 days",
		Why:   "Long-lived keys accumulate copies (laptops, CI settings, logs); rotation bounds how long a leaked copy works. A key that is also unused for 45 days is retired (deactivated, then deleted), not rotated: a new secret for nobody would only prolong the risk.",
		CIS:   []string{"1.14"}, Prowler: []string{"iam_rotate_access_key_90_days"}, Cloudsplaining: []string{"Credentials Exposure"},
		References: []Reference{ref("Rotating access keys", docKeys+"#rotating_access_keys_console"), ref("Credential report", docCredReport)}},
	{ID: RuleKeyUnused, Severity: Medium, Category: "credentials", Kinds: []Kind{KindUser},
		Title: "An active access key is unused for 45 days or was never used",
		Why:   "A key nobody uses is pure risk: it can leak and be used without anyone noticing a change.",
		CIS:   []string{"1.11", "1.12"}, Prowler: []string{"iam_user_accesskey_unused", "iam_user_no_setup_initial_access_key"},
		References: []Reference{ref("Finding unused credentials", docFindUnused)}},
	{ID: RuleTwoActiveKeys, Severity: Medium, Category: "credentials", Kinds: []Kind{KindUser},
		Title: "A user has two active access keys",
		Why:   "Two active keys double what can leak and usually mean a rotation that was never finished.",
		CIS:   []string{"1.13"}, Prowler: []string{"iam_user_two_active_access_key"},
		References: []Reference{ref("Managing access keys", docKeys)}},
	{ID: RuleConsoleUnused, Severity: Medium, Category: "credentials", Kinds: []Kind{KindUser},
		Title: "A console password is unused for 45 days or was never used",
		Why:   "An unused password is an open door for someone who no longer needs one, often a person who left.",
		CIS:   []string{"1.12"}, Prowler: []string{"iam_user_console_access_unused"},
		References: []Reference{ref("Finding unused credentials", docFindUnused)}},
	{ID: RulePasswordPolicyNone, Severity: Medium, Category: "credentials", Kinds: []Kind{KindAccount},
		Title: "The account has no password policy",
		Why:   "Without a policy IAM accepts 8-character passwords with no complexity, no reuse prevention and no expiry.",
		CIS:   []string{"1.8", "1.9"},
		Prowler: []string{"iam_password_policy_minimum_length_14", "iam_password_policy_reuse_24", "iam_password_policy_symbol", "iam_password_policy_number",
			"iam_password_policy_uppercase", "iam_password_policy_lowercase"},
		References: []Reference{ref("Account password policy", docPasswordPolicy)}},
	{ID: RulePasswordPolicyWeak, Severity: Medium, Category: "credentials", Kinds: []Kind{KindAccount},
		Title: "The password policy is weaker than CIS asks",
		Why:   "Short or reusable passwords are guessed and replayed; CIS asks for 14 characters, 24 remembered passwords and all character classes.",
		CIS:   []string{"1.8", "1.9"},
		Prowler: []string{"iam_password_policy_minimum_length_14", "iam_password_policy_reuse_24", "iam_password_policy_symbol", "iam_password_policy_number",
			"iam_password_policy_uppercase", "iam_password_policy_lowercase"},
		References: []Reference{ref("Account password policy", docPasswordPolicy)}},

	// ---- over-privilege ----
	{ID: RuleAWSAdminAttached, Severity: High, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole},
		Title: "An AWS managed admin-equivalent policy is attached",
		Why:   "AdministratorAccess (or another AWS managed policy that the policy engine finds admin-equivalent) gives full control of the account to whoever holds this identity.",
		CIS:   []string{"1.16"},
		Prowler: []string{"iam_aws_attached_policy_no_administrative_privileges", "iam_user_administrator_access_policy", "iam_group_administrator_access_policy",
			"iam_role_administratoraccess_policy", "iam_policy_no_administrative_privileges"},
		Cloudsplaining: []string{"Privilege Escalation", "Infrastructure Modification"},
		References:     []Reference{ref("AWS managed policies for job functions", docAdminJobFunction), ref("Grant least privilege", docLeastPrivilege)}},
	{ID: RuleCustomerAdminPolicy, Severity: High, Category: "over-privilege", Kinds: []Kind{KindPolicy},
		Title: "A customer managed policy in use is admin-equivalent",
		Why:   "The policy allows every action (or every IAM write, directly or through NotAction) on every resource: everyone it is attached to is an administrator, whatever its name says.",
		CIS:   []string{"1.16"}, Prowler: []string{"iam_customer_attached_policy_no_administrative_privileges", "iam_policy_no_administrative_privileges"},
		Cloudsplaining: []string{"Privilege Escalation", "Infrastructure Modification"},
		References:     []Reference{ref("Grant least privilege", docLeastPrivilege)}},
	{ID: RuleInlineAdminPolicy, Severity: High, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole},
		Title: "An inline policy is admin-equivalent",
		Why:   "Full access written into one identity's inline policy is invisible in the list of managed policies, where reviewers look for it.",
		CIS:   []string{"1.16"}, Prowler: []string{"iam_inline_policy_no_administrative_privileges"},
		Cloudsplaining: []string{"Privilege Escalation", "Infrastructure Modification"},
		References:     []Reference{ref("Managed vs inline policies", docManagedVsInline), ref("Grant least privilege", docLeastPrivilege)}},
	{ID: RuleServiceWildcard, Severity: Medium, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole, KindPolicy},
		Title: "A policy allows a whole service (service:*)",
		Why:   "service:* grants every present and future action of the service, including its permission-management and delete actions; for IAM, KMS, CloudTrail, STS or Organizations that is control of security itself.",
		Prowler: []string{"iam_policy_no_full_access_to_cloudtrail", "iam_inline_policy_no_full_access_to_cloudtrail",
			"iam_policy_no_full_access_to_kms", "iam_inline_policy_no_full_access_to_kms"},
		Cloudsplaining: []string{"Infrastructure Modification"},
		References:     []Reference{ref("Grant least privilege", docLeastPrivilege)}},
	{ID: RuleDataExfiltration, Severity: High, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole, KindPolicy},
		Title:   "A policy allows reading sensitive data on every resource",
		Why:     "Actions such as s3:GetObject, secretsmanager:GetSecretValue or kms:Decrypt on * reach every bucket, secret and key of the account, not the ones the job needs.",
		Prowler: []string{"iam_policy_no_kms_decryption_actions (partly)"}, Cloudsplaining: []string{"Data Exfiltration"},
		References: []Reference{ref("Grant least privilege", docLeastPrivilege), ref("cloudsplaining risk categories", docCloudsplaining)}},
	{ID: RuleCredentialsExposure, Severity: High, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole, KindPolicy},
		Title:          "A policy allows creating or reading credentials on every resource",
		Why:            "Actions such as iam:CreateAccessKey, ec2:GetPasswordData or redshift:GetClusterCredentials on * hand out credentials of other identities.",
		Cloudsplaining: []string{"Credentials Exposure"},
		References:     []Reference{ref("Grant least privilege", docLeastPrivilege), ref("cloudsplaining risk categories", docCloudsplaining)}},
	{ID: RuleResourceExposure, Severity: Medium, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole, KindPolicy},
		Title:          "A policy allows changing resource policies on every resource",
		Why:            "Permissions-management actions (s3:PutBucketPolicy, kms:PutKeyPolicy, lambda:AddPermission…) on * let the holder open any resource to another account or to the internet.",
		Cloudsplaining: []string{"Resource Exposure"},
		References:     []Reference{ref("Identity-based and resource-based policies", docResourcePolicies), ref("cloudsplaining risk categories", docCloudsplaining)}},
	{ID: RulePassRoleOnStar, Severity: High, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole, KindPolicy},
		Title:   "A policy allows iam:PassRole on every role",
		Why:     "PassRole on * lets the holder give any role, administrators' included, to a service it controls; scope it to named roles and iam:PassedToService.",
		Prowler: []string{"iam_policy_allows_passrole_without_condition"}, Cloudsplaining: []string{"Privilege Escalation"},
		References: []Reference{ref("Granting a user permissions to pass a role", docPassRole)}},
	{ID: RuleAssumeRoleOnStar, Severity: High, Category: "over-privilege", Kinds: []Kind{KindUser, KindGroup, KindRole, KindPolicy},
		Title:   "A policy allows sts:AssumeRole on every role",
		Why:     "AssumeRole on * reaches every role whose trust policy trusts this account, so one identity's compromise spreads to all of them.",
		Prowler: []string{"iam_no_custom_policy_permissive_role_assumption"}, Cloudsplaining: []string{"Credentials Exposure", "Privilege Escalation"},
		References: []Reference{ref("Granting a user permissions to switch roles", "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html")}},

	// ---- privilege escalation ----
	{ID: RuleEscalationConfirmed, Severity: Critical, Category: "privilege escalation", Kinds: []Kind{KindUser, KindRole},
		Title:   "An identity can make itself an administrator (a path to admin)",
		Why:     "A path in the account's principal graph leads from it to an admin-equivalent principal (or to rewriting its own permissions): each step — assuming a role, passing a role to a service it controls, rewriting a role's trust or a principal's policies, joining a group, minting a user's credentials — is allowed by its policies and the target's trust without any condition. The evidence is the path.",
		Prowler: []string{"iam_policy_allows_privilege_escalation", "iam_inline_policy_allows_privilege_escalation"}, Cloudsplaining: []string{"Privilege Escalation"},
		References: []Reference{ref("Rhino Security Labs: AWS IAM privilege escalation methods", docRhino), ref("Permissions boundaries", docBoundaries)}},
	{ID: RuleEscalationPotential, Severity: High, Category: "privilege escalation", Kinds: []Kind{KindUser, KindRole},
		Title:   "An identity may be able to make itself an administrator (a conditional path)",
		Why:     "A path leads from it to an admin-equivalent principal, but a step of it holds only under conditions (MFA, tags, a conditional Deny) or needs a resource IAM does not show (a function, instance or notebook already running with the privileged role).",
		Prowler: []string{"iam_policy_allows_privilege_escalation", "iam_inline_policy_allows_privilege_escalation"}, Cloudsplaining: []string{"Privilege Escalation"},
		References: []Reference{ref("Rhino Security Labs: AWS IAM privilege escalation methods", docRhino)}},
	{ID: RuleEscalationNoTarget, Severity: Low, Category: "privilege escalation", Kinds: []Kind{KindUser, KindRole},
		Title:   "An identity holds the actions of an escalation method, with no privileged target today",
		Why:     "Its policies allow every action of a published escalation method, but no role, user, group or policy it can reach with them is more privileged than it is: a role or function created later with more rights would complete the path.",
		Prowler: []string{"iam_policy_allows_privilege_escalation", "iam_inline_policy_allows_privilege_escalation"}, Cloudsplaining: []string{"Privilege Escalation"},
		References: []Reference{ref("Rhino Security Labs: AWS IAM privilege escalation methods", docRhino), ref("Granting a user permissions to pass a role", docPassRole)}},

	// ---- trust ----
	{ID: RuleTrustAnyone, Severity: Critical, Category: "trust", Kinds: []Kind{KindRole},
		Title:          "Anyone can assume a role",
		Why:            "The trust policy lets a principal of any AWS account assume the role and use its permissions: the policy engine, asked with a concrete outsider, found nothing that stops it — no condition, or only conditions anyone meets (aws:SecureTransport, aws:PrincipalAccount like \"*\", aws:PrincipalArn like arn:aws:iam::*:role/x), which are as good as none.",
		Cloudsplaining: []string{"Resource Exposure"},
		References:     []Reference{ref("Roles terms and concepts: trust policy", docTrust)}},
	{ID: RuleTrustAnyoneCond, Severity: Low, Category: "trust", Kinds: []Kind{KindRole},
		Title:      "Anyone is named in a role's trust, held back only by conditions",
		Why:        "The trust policy names every principal (Principal \"*\" or NotPrincipal) and relies on conditions, or a Deny, that the policy engine found do stop an outsider: the role is not open, but those conditions are all that stands between it and every AWS account — check that they are the intended ones (an organisation id, exact ARNs), and prefer naming the principals.",
		References: []Reference{ref("Roles terms and concepts: trust policy", docTrust), ref("aws:PrincipalOrgID", docPrincipalOrgID)}},
	{ID: RuleTrustCrossAccount, Severity: High, Category: "trust", Kinds: []Kind{KindRole},
		Title:      "Another account can assume a role with no condition that restricts it",
		Why:        "Any principal the other account allows, including a third party's service acting for another customer (the confused deputy), can assume the role: there is no condition, or only conditions every principal of that account meets (aws:SecureTransport, aws:PrincipalAccount like \"*\"), which the policy engine found restrict nothing.",
		Prowler:    []string{"iam_role_cross_account_readonlyaccess_policy (partly)"},
		References: []Reference{ref("Use an external ID for third-party access", docExternalID), ref("The confused deputy problem", docConfusedDeputy)}},
	{ID: RuleTrustCrossAccountCnd, Severity: Low, Category: "trust", Kinds: []Kind{KindRole},
		Title:      "Another account can assume a role under conditions that do not pin the caller",
		Why:        "The policy engine found that the conditions stop some of the other account's principals (a network, MFA, a date), but they test neither sts:ExternalId, aws:PrincipalOrgID nor aws:PrincipalArn: any principal of that account that meets them, a third party's service acting for another customer included, can assume the role.",
		References: []Reference{ref("Use an external ID for third-party access", docExternalID)}},
	{ID: RuleTrustOIDCNoSub, Severity: Critical, Category: "trust", Kinds: []Kind{KindRole},
		Title:      "A role trusts an OIDC provider without restricting the subject",
		Why:        "The provider's tokens can be obtained by anyone (GitHub Actions, GitLab, Terraform Cloud, Cognito guest identities, Google…) and nothing pins whose they are — for GitHub Actions, which repository and branch: the policy engine let a token the outsider mints for its own workload assume the role.",
		Prowler:    []string{"iam_role_github_oidc_trust_subject_restricted"},
		References: []Reference{ref("Create a role for OIDC federation", docOIDC), ref("GitHub: configuring OpenID Connect in AWS", docGitHubOIDC)}},
	{ID: RuleTrustOIDCBroad, Severity: Medium, Category: "trust", Kinds: []Kind{KindRole},
		Title:      "A role trusts an OIDC provider for a whole organisation or provider, not one workload",
		Why:        "The subject is pinned to an organisation but not to one of its repositories or projects (anyone who can add a workflow to any of them gets the role), or the provider is the account's own (an EKS cluster, a company identity provider) and any subject it issues tokens to — any service account of the cluster — may assume the role.",
		Prowler:    []string{"iam_role_github_oidc_trust_subject_restricted (partly)"},
		References: []Reference{ref("Create a role for OIDC federation", docOIDC), ref("IAM roles for service accounts (EKS)", docEKSIRSA)}},
	{ID: RuleTrustServiceNoSource, Severity: Low, Category: "trust", Kinds: []Kind{KindRole},
		Title:      "A service role's trust has no aws:SourceAccount or aws:SourceArn",
		Why:        "A service trusted without a source condition can be steered by another account's resource into acting with this role (the cross-service confused deputy).",
		Prowler:    []string{"iam_role_cross_service_confused_deputy_prevention", "iam_role_service_trust_restricts_source_to_account"},
		References: []Reference{ref("Cross-service confused deputy prevention", docConfusedDeputy+"#cross-service-confused-deputy-prevention")}},

	// ---- structure ----
	{ID: RuleUserAttachedPolicy, Severity: Low, Category: "structure", Kinds: []Kind{KindUser},
		Title: "A user has policies of its own instead of through groups",
		Why:   "Permissions attached user by user drift apart and are hard to review; groups make one change apply to everyone in a job.",
		CIS:   []string{"1.15"}, Prowler: []string{"iam_policy_attached_only_to_group_or_roles"},
		References: []Reference{ref("Use groups to assign permissions", docIAMBestPractices)}},
	{ID: RuleInlinePolicy, Severity: Low, Category: "structure", Kinds: []Kind{KindUser, KindGroup, KindRole},
		Title:      "An identity has inline policies",
		Why:        "Inline policies cannot be reused, versioned or rolled back, and do not show in the list of policies where reviews start.",
		Prowler:    []string{"iam_no_inline_policy_check"},
		References: []Reference{ref("Managed vs inline policies", docManagedVsInline)}},
	{ID: RuleUnattachedAdmin, Severity: Medium, Category: "structure", Kinds: []Kind{KindPolicy},
		Title:      "An admin-equivalent customer managed policy is left unattached",
		Why:        "An unused admin policy is one attach call away from making anyone an administrator, and its name may not say what it grants.",
		Prowler:    []string{"iam_customer_unattached_policy_no_administrative_privileges"},
		References: []Reference{ref("Grant least privilege", docLeastPrivilege)}},
	{ID: RuleNoSupportRole, Severity: Low, Category: "structure", Kinds: []Kind{KindAccount},
		Title: "No role can manage AWS Support cases",
		Why:   "During an incident someone must open a support case; without a role holding AWSSupportAccess that someone ends up using root or an administrator.",
		CIS:   []string{"1.17"}, Prowler: []string{"iam_support_role_created"},
		References: []Reference{ref("Manage access to AWS Support", docSupportRole)}},
	{ID: RuleNoAuditRole, Severity: Low, Category: "structure", Kinds: []Kind{KindAccount},
		Title:      "No role can audit the account's security configuration",
		Why:        "Security reviews and incident responders need read access to configuration without write access; without a role holding SecurityAudit they borrow an administrator's.",
		Prowler:    []string{"iam_securityaudit_role_created"},
		References: []Reference{ref("AWS managed policies for job functions: security auditor", docAdminJobFunction+"#jf_security-auditor")}},
	{ID: RuleRoleUnused, Severity: Low, Category: "structure", Kinds: []Kind{KindRole},
		Title:      "A role has not been used for 90 days",
		Why:        "An unused role keeps its permissions and its trust; removing it removes a path nobody needs.",
		References: []Reference{ref("Deleting roles: when a role was last used", docRoleLastUsed)}},

	// ---- organisation (accounts) ----
	{ID: RuleTrustOrgAccess, Severity: Info, Category: "organisation", Kinds: []Kind{KindRole},
		Title:      "The organisation's access role lets the management account in",
		Why:        "AWS Organizations creates OrganizationAccountAccessRole, with AdministratorAccess, in the accounts it creates, trusting the management account: the organisation's intended way in, reported once per account. Whoever may assume roles in the management account is an administrator of this one.",
		References: []Reference{ref("Accessing a member account that has a management account access role", docOrgAccessRole)}},
	{ID: RuleXAccountAssume, Severity: Medium, Category: "organisation", Kinds: []Kind{KindRole},
		Title:      "Principals of another account of the organisation can assume a role",
		Why:        "The role's trust policy lets in another reviewed account, or a principal of it, and the policy engine found principals there whose own policies, boundary and account SCPs let them assume it: each is a way into this account, and a compromise of one of them is a compromise of the role.",
		References: []Reference{ref("Cross-account policy evaluation logic", docCrossAccount), ref("Roles terms and concepts: trust policy", docTrust)}},
	{ID: RuleXAccountAdmin, Severity: Critical, Category: "organisation", Kinds: []Kind{KindUser, KindRole},
		Title:      "An identity can reach an administrator role in another account (a chain of sts:AssumeRole)",
		Why:        "A chain of role assumptions across the organisation's accounts, each allowed by the role's trust policy and the caller's policies and SCPs without any condition, ends in a role that is admin-equivalent in its account: the identity administers that account.",
		References: []Reference{ref("Cross-account policy evaluation logic", docCrossAccount), ref("Service control policies: evaluation", docSCPEvaluation)}},
	{ID: RuleXAccountAdminCond, Severity: High, Category: "organisation", Kinds: []Kind{KindUser, KindRole},
		Title:      "An identity may reach an administrator role in another account (a conditional chain)",
		Why:        "A chain of role assumptions across accounts ends in an admin-equivalent role, but a step of it holds only under conditions (MFA, an external id, tags) the policy engine cannot decide from IAM's data.",
		References: []Reference{ref("Cross-account policy evaluation logic", docCrossAccount)}},

	// ---- deep (include) ----
	{ID: RuleUnusedServices, Severity: Low, Category: "deep", Kinds: []Kind{KindUser, KindRole},
		Title:      "An identity may use services it has not used for 90 days",
		Why:        "Permissions for services an identity never uses are risk with no benefit; IAM's last-accessed data shows which to remove.",
		References: []Reference{ref("Refining permissions using last accessed information", docLastAccessed)}},
}

var rulesByID = func() map[string]*Rule {
	m := map[string]*Rule{}
	for i := range Rules {
		r := &Rules[i]
		if _, dup := m[r.ID]; dup {
			panic("review: rule " + r.ID + " listed twice")
		}
		if r.Title == "" || r.Why == "" || len(r.Kinds) == 0 || len(r.References) == 0 {
			panic("review: rule " + r.ID + " is incomplete")
		}
		m[r.ID] = r
	}
	return m
}()

// RuleByID returns the rule with the id.
func RuleByID(id string) (*Rule, bool) {
	r, ok := rulesByID[id]
	return r, ok
}

// RuleIDs lists every rule id, sorted.
func RuleIDs() []string {
	out := make([]string, 0, len(Rules))
	for _, r := range Rules {
		out = append(out, r.ID)
	}
	sort.Strings(out)
	return out
}
