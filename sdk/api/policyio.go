package api

// Inputs and outputs of the policy toolset: the policy engine's answers
// (validate, simulate, explain) as tools.

type ValidatePolicyInput struct {
	PolicyDocument PolicyText `json:"policy_document" desc:"the policy to check: a JSON object, or a string (even a broken one: the findings say where it breaks)"`
	PolicyType     string     `json:"policy_type,omitempty" desc:"what the policy is, which decides the rules that apply (default IDENTITY_POLICY)" enum:"IDENTITY_POLICY,RESOURCE_POLICY,TRUST_POLICY,PERMISSIONS_BOUNDARY,SERVICE_CONTROL_POLICY"`
	StoredAs       string     `json:"stored_as,omitempty" desc:"for an identity policy, where it will live, which sets its size quota and Version rule: managed (default; 6,144 characters), user_inline (2,048), group_inline (5,120) or role_inline (10,240)" enum:"managed,user_inline,group_inline,role_inline"`
	AccountID      string     `json:"account_id,omitempty" desc:"the 12-digit account the policy lives in: a trust policy's role's account (its own principals are then not reported as cross-account), or the account an identity policy's grants are judged in (default: the server's account once known, see get_account_info)"`
}

// PolicyFinding is one validation finding, with where it is.
type PolicyFinding struct {
	Severity       string `json:"severity" enum:"ERROR,SECURITY_WARNING,WARNING,SUGGESTION"`
	Code           string `json:"code" desc:"stable identifier, e.g. PASS_ROLE_WITH_STAR"`
	Message        string `json:"message"`
	StatementIndex *int   `json:"statement_index,omitempty" desc:"0-based statement index; absent for the whole document"`
	Sid            string `json:"sid,omitempty"`
	Field          string `json:"field,omitempty" desc:"the policy element, e.g. Action or Condition"`
	Value          string `json:"value,omitempty" desc:"the offending value as written"`
}

type ValidatePolicyOutput struct {
	Valid    bool            `json:"valid" desc:"true when there is no ERROR finding: IAM would accept the document"`
	Findings []PolicyFinding `json:"findings" desc:"most severe first"`
	// Counts has one entry per severity, zero included, so a caller can
	// read counts["ERROR"] without checking.
	Counts                 map[string]int `json:"counts" desc:"findings per severity"`
	SensitiveActionsOnStar []string       `json:"sensitive_actions_on_star,omitempty" desc:"for identity policies: sensitive actions (privilege escalation, data access) allowed unconditionally on every resource"`
	ActionCatalogue        string         `json:"action_catalogue" desc:"the AWS action catalogue unknown actions were checked against, with its date"`
	AccountID              string         `json:"account_id,omitempty" desc:"the account a trust policy was checked for; absent when unknown, and then every principal named by account counts as another account"`
}

type SimulateCustomPolicyInput struct {
	PolicyDocuments     []PolicyDocument `json:"policy_documents" desc:"identity policies evaluated together, as if all attached to one principal"`
	ActionNames         []string         `json:"action_names" desc:"actions to test, e.g. [\"s3:GetObject\"]"`
	ResourceArns        []string         `json:"resource_arns,omitempty" desc:"resources to test against (default *)"`
	ContextEntries      ContextEntries   `json:"context_entries,omitempty" desc:"condition keys and their values"`
	PermissionsBoundary PolicyDocument   `json:"permissions_boundary,omitempty" desc:"a permissions boundary to intersect with the policies"`
	ResourcePolicy      PolicyDocument   `json:"resource_policy,omitempty" desc:"the resource's own policy (bucket policy, key policy, trust policy…), evaluated for caller_arn"`
	CallerArn           string           `json:"caller_arn,omitempty" desc:"ARN of the caller, matched against the resource policy's principals and used for aws:PrincipalArn and aws:username"`
}

type ExplainAccessInput struct {
	PrincipalArn   string         `json:"principal_arn" desc:"the IAM user or role (or an assumed-role session ARN) whose access to explain"`
	Action         string         `json:"action" desc:"one action, e.g. s3:GetObject"`
	Resource       string         `json:"resource,omitempty" desc:"the resource ARN (default *)"`
	ContextEntries ContextEntries `json:"context_entries,omitempty" desc:"condition keys and their values, e.g. aws:SourceIp"`
	ResourcePolicy PolicyDocument `json:"resource_policy,omitempty" desc:"the resource's own policy (bucket policy, key policy…), if it has one: it can allow or deny on its own"`
}

// ExplainedStatement is a statement that took part in the decision.
type ExplainedStatement struct {
	Policy         string         `json:"policy" desc:"the policy's name (or ARN for managed policies)"`
	PolicyKind     string         `json:"policy_kind" desc:"how it applies, e.g. inline policy of group developers"`
	StatementIndex int            `json:"statement_index" desc:"0-based"`
	Sid            string         `json:"sid,omitempty"`
	Effect         string         `json:"effect" enum:"Allow,Deny"`
	Statement      PolicyDocument `json:"statement" desc:"the statement as written"`
}

// ConsideredPolicy is one policy explain_access evaluated.
type ConsideredPolicy struct {
	Policy     string `json:"policy" desc:"name, or ARN for managed policies"`
	PolicyKind string `json:"policy_kind" desc:"e.g. managed policy attached to user alice, permissions boundary"`
	Version    string `json:"version,omitempty" desc:"the managed policy's default version"`
}

type ExplainAccessOutput struct {
	PrincipalArn string `json:"principal_arn"`
	Action       string `json:"action"`
	Resource     string `json:"resource"`
	Decision     string `json:"decision" enum:"allowed,explicitDeny,implicitDeny"`
	Explanation  string `json:"explanation" desc:"which statement decides, in words"`
	// NextSteps says what would change the decision, so that the answer is
	// something an engineer can act on.
	NextSteps            []string             `json:"next_steps" desc:"what to change to get the other answer"`
	DecidingStatements   []ExplainedStatement `json:"deciding_statements" desc:"the statements that matched, denies first"`
	PoliciesConsidered   []ConsideredPolicy   `json:"policies_considered"`
	MissingContextValues []string             `json:"missing_context_values" desc:"condition keys the statements read that the request did not supply"`
	AllowedByBoundary    *bool                `json:"allowed_by_permissions_boundary,omitempty"`
}
