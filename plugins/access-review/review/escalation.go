package review

import (
	"sort"
	"strings"
	"sync"

	"github.com/iammcp/iam-mcp-server/policy/iamdata"
)

// EscalationMethod is one published way for an identity to raise its own
// privileges: a set of actions that, allowed on the right target, let it
// become an administrator or act as a more privileged principal.
//
// The methods are data, not code, so that a method published tomorrow is
// one line here, and so that the documentation and tests enumerate them.
// Whether an identity holds a method's actions is decided by the policy
// engine over its effective policies; whether the method reaches anything
// is decided by the principal graph (graph.go), which evaluates each action
// on each concrete target.
type EscalationMethod struct {
	ID      string   `json:"id"`
	Actions []string `json:"actions"`
	How     string   `json:"how"`
	Source  string   `json:"source"`
	// Direct marks a method that changes IAM itself and needs nothing else
	// to exist (no privileged function, instance or notebook to reach).
	Direct bool `json:"direct"`
	// Service is the service principal a role must trust for the method to
	// act as it: the service the role is passed to (with iam:PassRole), or
	// the one whose existing resource runs with it.
	Service string `json:"service,omitempty"`
	// Profile: the role must be in an instance profile (EC2).
	Profile bool `json:"profile,omitempty"`
	// Existing: the method takes over a resource already running with the
	// role (a function, a development endpoint, a notebook, an instance),
	// which IAM's data does not show: a path through it is conditional.
	Existing bool `json:"existing,omitempty"`
}

const (
	srcRhino     = "Rhino Security Labs"
	srcBishopFox = "Bishop Fox / later research"
)

// EscalationMethods are Rhino Security Labs' 21 published methods
// (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/)
// and the ones published since that the same reasoning covers.
var EscalationMethods = []EscalationMethod{
	{ID: "CreatePolicyVersion", Actions: []string{"iam:CreatePolicyVersion"}, How: "writes a new default version of a managed policy attached to itself, granting anything", Source: srcRhino, Direct: true},
	{ID: "SetDefaultPolicyVersion", Actions: []string{"iam:SetDefaultPolicyVersion"}, How: "switches a policy attached to itself to an older, broader version", Source: srcRhino, Direct: true},
	{ID: "PassRole+EC2", Actions: []string{"iam:PassRole", "ec2:RunInstances"}, How: "starts an instance with a more privileged instance profile and uses its credentials", Source: srcRhino, Service: "ec2.amazonaws.com", Profile: true},
	{ID: "CreateAccessKey", Actions: []string{"iam:CreateAccessKey"}, How: "creates an access key for a more privileged user", Source: srcRhino, Direct: true},
	{ID: "CreateLoginProfile", Actions: []string{"iam:CreateLoginProfile"}, How: "sets a console password on a more privileged user that has none", Source: srcRhino, Direct: true},
	{ID: "UpdateLoginProfile", Actions: []string{"iam:UpdateLoginProfile"}, How: "changes the console password of a more privileged user", Source: srcRhino, Direct: true},
	{ID: "AttachUserPolicy", Actions: []string{"iam:AttachUserPolicy"}, How: "attaches AdministratorAccess to itself", Source: srcRhino, Direct: true},
	{ID: "AttachGroupPolicy", Actions: []string{"iam:AttachGroupPolicy"}, How: "attaches AdministratorAccess to a group it is in", Source: srcRhino, Direct: true},
	{ID: "AttachRolePolicy", Actions: []string{"iam:AttachRolePolicy", "sts:AssumeRole"}, How: "attaches AdministratorAccess to a role it can assume", Source: srcRhino, Direct: true},
	{ID: "PutUserPolicy", Actions: []string{"iam:PutUserPolicy"}, How: "writes an inline policy granting anything on itself", Source: srcRhino, Direct: true},
	{ID: "PutGroupPolicy", Actions: []string{"iam:PutGroupPolicy"}, How: "writes an inline policy granting anything on a group it is in", Source: srcRhino, Direct: true},
	{ID: "PutRolePolicy", Actions: []string{"iam:PutRolePolicy", "sts:AssumeRole"}, How: "writes an inline policy granting anything on a role it can assume", Source: srcRhino, Direct: true},
	{ID: "AddUserToGroup", Actions: []string{"iam:AddUserToGroup"}, How: "adds itself to an administrators' group", Source: srcRhino, Direct: true},
	{ID: "UpdateAssumeRolePolicy", Actions: []string{"iam:UpdateAssumeRolePolicy", "sts:AssumeRole"}, How: "rewrites a privileged role's trust policy to trust itself, then assumes it", Source: srcRhino, Direct: true},
	{ID: "PassRole+Lambda+Invoke", Actions: []string{"iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"}, How: "creates a function with a privileged role and invokes it", Source: srcRhino, Service: "lambda.amazonaws.com"},
	{ID: "PassRole+Lambda+EventSource", Actions: []string{"iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"}, How: "creates a function with a privileged role, triggered by an event source", Source: srcRhino, Service: "lambda.amazonaws.com"},
	{ID: "UpdateFunctionCode", Actions: []string{"lambda:UpdateFunctionCode"}, How: "replaces the code of a function that runs with a privileged role", Source: srcRhino, Service: "lambda.amazonaws.com", Existing: true},
	{ID: "PassRole+Glue", Actions: []string{"iam:PassRole", "glue:CreateDevEndpoint"}, How: "creates a Glue development endpoint with a privileged role and logs in to it", Source: srcRhino, Service: "glue.amazonaws.com"},
	{ID: "UpdateDevEndpoint", Actions: []string{"glue:UpdateDevEndpoint"}, How: "adds its SSH key to an existing Glue development endpoint running with a role", Source: srcRhino, Service: "glue.amazonaws.com", Existing: true},
	{ID: "PassRole+CloudFormation", Actions: []string{"iam:PassRole", "cloudformation:CreateStack"}, How: "creates a stack that runs with a privileged role", Source: srcRhino, Service: "cloudformation.amazonaws.com"},
	{ID: "PassRole+DataPipeline", Actions: []string{"iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"}, How: "creates a pipeline that runs commands with a privileged role", Source: srcRhino, Service: "datapipeline.amazonaws.com"},
	{ID: "PassRole+Lambda+AddPermission", Actions: []string{"iam:PassRole", "lambda:CreateFunction", "lambda:AddPermission"}, How: "creates a function with a privileged role and lets itself invoke it through a resource policy", Source: srcBishopFox, Service: "lambda.amazonaws.com"},
	{ID: "UpdateFunctionConfiguration", Actions: []string{"lambda:UpdateFunctionConfiguration"}, How: "adds a layer that overrides code of a function running with a privileged role", Source: srcBishopFox, Service: "lambda.amazonaws.com", Existing: true},
	{ID: "PassRole+SageMakerNotebook", Actions: []string{"iam:PassRole", "sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"}, How: "creates a notebook with a privileged role and opens it", Source: srcBishopFox, Service: "sagemaker.amazonaws.com"},
	{ID: "SageMakerPresignedURL", Actions: []string{"sagemaker:CreatePresignedNotebookInstanceUrl"}, How: "opens an existing notebook running with a role", Source: srcBishopFox, Service: "sagemaker.amazonaws.com", Existing: true},
	{ID: "PassRole+CodeBuild", Actions: []string{"iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"}, How: "runs a build with a privileged service role", Source: srcBishopFox, Service: "codebuild.amazonaws.com"},
	{ID: "PassRole+ECS", Actions: []string{"iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"}, How: "runs a task with a privileged task role", Source: srcBishopFox, Service: "ecs-tasks.amazonaws.com"},
	{ID: "SSMSendCommand", Actions: []string{"ssm:SendCommand"}, How: "runs commands on instances and uses their instance profiles", Source: srcBishopFox, Service: "ec2.amazonaws.com", Profile: true, Existing: true},
	{ID: "SSMStartSession", Actions: []string{"ssm:StartSession"}, How: "opens a shell on instances and uses their instance profiles", Source: srcBishopFox, Service: "ec2.amazonaws.com", Profile: true, Existing: true},
	{ID: "DeleteUserPermissionsBoundary", Actions: []string{"iam:DeleteUserPermissionsBoundary"}, How: "removes the permissions boundary that limits it", Source: srcBishopFox, Direct: true},
	{ID: "DeleteRolePermissionsBoundary", Actions: []string{"iam:DeleteRolePermissionsBoundary", "sts:AssumeRole"}, How: "removes a role's permissions boundary, then assumes the role", Source: srcBishopFox, Direct: true},
}

// The sensitive-action tables of the per-policy rules, after
// cloudsplaining's risk categories. Resource exposure is not listed: it is
// every Permissions-management action of AWS's action reference outside IAM
// (IAM's own are escalation), computed in universe().
var (
	// dataExfiltrationActions read data that is the point of the account.
	dataExfiltrationActions = []string{
		"s3:GetObject", "s3:GetObjectVersion", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
		"secretsmanager:GetSecretValue", "kms:Decrypt", "dynamodb:Scan", "rds:DownloadDBLogFilePortion",
	}
	// credentialsExposureActions create or reveal credentials of other
	// identities (sts:AssumeRole has its own rule).
	credentialsExposureActions = []string{
		"iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
		"iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential", "iam:UploadSSHPublicKey",
		"ec2:GetPasswordData", "ec2-instance-connect:SendSSHPublicKey", "redshift:GetClusterCredentials",
		"rds-db:connect", "lightsail:GetInstanceAccessDetails", "lightsail:GetRelationalDatabaseMasterUserPassword",
		"gamelift:RequestUploadCredentials", "mediapackage:RotateIngestEndpointCredentials", "chime:CreateApiKey",
		"codepipeline:PollForJobs", "cognito-identity:GetCredentialsForIdentity",
	}
	passRoleAction   = "iam:PassRole"
	assumeRoleAction = "sts:AssumeRole"
	// adminProbeAction is what every admin-equivalent grant allows (every
	// action, every IAM action, or a NotAction leaving IAM writes open all
	// include it, or a NotAction statement is present): the cheap test that
	// decides whether to run the policy engine's full AdminEquivalent.
	adminProbeAction = "iam:AttachUserPolicy"
)

// securityServices are the services whose whole-service wildcard is a
// grant over security itself; a wildcard on any other service is medium,
// these are called out in the finding.
var securityServices = map[string]bool{
	"iam": true, "kms": true, "cloudtrail": true, "sts": true, "organizations": true, "config": true,
	"guardduty": true, "securityhub": true, "access-analyzer": true, "secretsmanager": true, "account": true,
}

// actionUniverse numbers every action a rule may ask about, so that a
// policy's candidate grants are a bitset and a principal's are the union of
// its policies' bitsets.
type actionUniverse struct {
	names   []string          // index → action as AWS spells it
	index   map[string]int    // lower-case action → index
	inCat   []bool            // index → the action is in AWS's action reference
	scoped  []bool            // index → the action can be scoped to resources (has resource types)
	cat     map[string][]int  // category → indexes
	methods [][]int           // EscalationMethods[i] → action indexes
	svcSize map[string]int    // service prefix → number of actions (for whole-service wildcards)
	extra   map[string]string // lower-case → spelling, for actions not in the catalogue
	infos   map[*iamdata.ActionInfo]int
}

// byInfo returns the index of a catalogue action.
func (u *actionUniverse) byInfo(a *iamdata.ActionInfo) (int, bool) {
	i, ok := u.infos[a]
	return i, ok
}

// Category names of the universe.
const (
	catDataExfil   = "data"
	catCredentials = "credentials"
	catResourceExp = "resource"
)

var (
	universeOnce sync.Once
	universeVal  *actionUniverse
)

// universe builds the action universe once: the escalation methods'
// actions, the sensitive tables, AWS's Permissions-management actions
// outside IAM, PassRole and AssumeRole.
func universe() *actionUniverse {
	universeOnce.Do(func() {
		u := &actionUniverse{index: map[string]int{}, cat: map[string][]int{}, svcSize: map[string]int{}, extra: map[string]string{}, infos: map[*iamdata.ActionInfo]int{}}
		add := func(name string) int {
			l := strings.ToLower(name)
			if i, ok := u.index[l]; ok {
				return i
			}
			spelled, inCat, scoped := name, false, true
			a, ok := iamdata.Action(name)
			if ok {
				spelled, inCat, scoped = a.FullName(), true, len(a.ResourceTypes) > 0
				u.infos[a] = len(u.names)
			}
			u.index[l] = len(u.names)
			u.names = append(u.names, spelled)
			u.inCat = append(u.inCat, inCat)
			u.scoped = append(u.scoped, scoped)
			if !inCat {
				u.extra[l] = spelled
			}
			return u.index[l]
		}
		for _, m := range EscalationMethods {
			var idx []int
			for _, a := range m.Actions {
				idx = append(idx, add(a))
			}
			u.methods = append(u.methods, idx)
		}
		for _, a := range dataExfiltrationActions {
			u.cat[catDataExfil] = append(u.cat[catDataExfil], add(a))
		}
		for _, a := range credentialsExposureActions {
			u.cat[catCredentials] = append(u.cat[catCredentials], add(a))
		}
		for _, s := range iamdata.Services() {
			u.svcSize[s.Prefix] = len(s.Actions)
			if s.Prefix == "iam" {
				continue
			}
			for _, a := range s.Actions {
				if a.AccessLevel == iamdata.AccessPermissionsManagement {
					u.cat[catResourceExp] = append(u.cat[catResourceExp], add(a.FullName()))
				}
			}
		}
		add(passRoleAction)
		add(assumeRoleAction)
		add(adminProbeAction)
		for _, idx := range u.cat {
			sort.Ints(idx)
		}
		universeVal = u
	})
	return universeVal
}

// lookup returns the index of an action, or -1.
func (u *actionUniverse) lookup(action string) int {
	if i, ok := u.index[strings.ToLower(action)]; ok {
		return i
	}
	return -1
}

// bitset is a set of universe indexes.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i/64] |= 1 << (uint(i) % 64) }
func (b bitset) has(i int) bool { return i >= 0 && i/64 < len(b) && b[i/64]&(1<<(uint(i)%64)) != 0 }
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}
func (b bitset) andNot(o bitset) {
	for i := range b {
		b[i] &^= o[i]
	}
}
func (b bitset) fill(n int) {
	for i := 0; i < n; i++ {
		b.set(i)
	}
}
