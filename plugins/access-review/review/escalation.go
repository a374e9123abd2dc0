package review

import (
	"sort"
	"strings"
	"sync"

	"github.com/iammcp/iam-mcp-server/host/policy/iamdata"
)

// EscalationMethod is one published way for an identity to raise its own
// privileges: a set of actions that, all allowed on every resource, let it
// become an administrator (or act as a role more powerful than itself).
//
// The methods are data, not code, so that a method published tomorrow is
// one line here, and so that the documentation and tests enumerate them.
// Whether an identity has a method is decided by the policy engine
// (policy.Evaluate over its effective policies), never by looking at the
// action names in its documents.
type EscalationMethod struct {
	ID      string   `json:"id"`
	Actions []string `json:"actions"`
	How     string   `json:"how"`
	Source  string   `json:"source"`
	// Direct marks a method that changes IAM itself and needs nothing else
	// to exist (no privileged function, instance or notebook to reach):
	// findings with direct methods are listed first.
	Direct bool `json:"direct"`
}

const (
	srcRhino     = "Rhino Security Labs"
	srcBishopFox = "Bishop Fox / later research"
)

// EscalationMethods are Rhino Security Labs' 21 published methods
// (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/)
// and the ones published since that the same reasoning covers.
var EscalationMethods = []EscalationMethod{
	{"CreatePolicyVersion", []string{"iam:CreatePolicyVersion"}, "writes a new default version of a managed policy attached to itself, granting anything", srcRhino, true},
	{"SetDefaultPolicyVersion", []string{"iam:SetDefaultPolicyVersion"}, "switches a policy attached to itself to an older, broader version", srcRhino, true},
	{"PassRole+EC2", []string{"iam:PassRole", "ec2:RunInstances"}, "starts an instance with a more privileged instance profile and uses its credentials", srcRhino, false},
	{"CreateAccessKey", []string{"iam:CreateAccessKey"}, "creates an access key for a more privileged user", srcRhino, true},
	{"CreateLoginProfile", []string{"iam:CreateLoginProfile"}, "sets a console password on a more privileged user that has none", srcRhino, true},
	{"UpdateLoginProfile", []string{"iam:UpdateLoginProfile"}, "changes the console password of a more privileged user", srcRhino, true},
	{"AttachUserPolicy", []string{"iam:AttachUserPolicy"}, "attaches AdministratorAccess to itself", srcRhino, true},
	{"AttachGroupPolicy", []string{"iam:AttachGroupPolicy"}, "attaches AdministratorAccess to a group it is in", srcRhino, true},
	{"AttachRolePolicy", []string{"iam:AttachRolePolicy", "sts:AssumeRole"}, "attaches AdministratorAccess to a role it can assume", srcRhino, true},
	{"PutUserPolicy", []string{"iam:PutUserPolicy"}, "writes an inline policy granting anything on itself", srcRhino, true},
	{"PutGroupPolicy", []string{"iam:PutGroupPolicy"}, "writes an inline policy granting anything on a group it is in", srcRhino, true},
	{"PutRolePolicy", []string{"iam:PutRolePolicy", "sts:AssumeRole"}, "writes an inline policy granting anything on a role it can assume", srcRhino, true},
	{"AddUserToGroup", []string{"iam:AddUserToGroup"}, "adds itself to an administrators' group", srcRhino, true},
	{"UpdateAssumeRolePolicy", []string{"iam:UpdateAssumeRolePolicy", "sts:AssumeRole"}, "rewrites a privileged role's trust policy to trust itself, then assumes it", srcRhino, true},
	{"PassRole+Lambda+Invoke", []string{"iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"}, "creates a function with a privileged role and invokes it", srcRhino, false},
	{"PassRole+Lambda+EventSource", []string{"iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"}, "creates a function with a privileged role, triggered by an event source", srcRhino, false},
	{"UpdateFunctionCode", []string{"lambda:UpdateFunctionCode"}, "replaces the code of a function that runs with a privileged role", srcRhino, false},
	{"PassRole+Glue", []string{"iam:PassRole", "glue:CreateDevEndpoint"}, "creates a Glue development endpoint with a privileged role and logs in to it", srcRhino, false},
	{"UpdateDevEndpoint", []string{"glue:UpdateDevEndpoint"}, "adds its SSH key to an existing Glue development endpoint running with a role", srcRhino, false},
	{"PassRole+CloudFormation", []string{"iam:PassRole", "cloudformation:CreateStack"}, "creates a stack that runs with a privileged role", srcRhino, false},
	{"PassRole+DataPipeline", []string{"iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"}, "creates a pipeline that runs commands with a privileged role", srcRhino, false},
	{"PassRole+Lambda+AddPermission", []string{"iam:PassRole", "lambda:CreateFunction", "lambda:AddPermission"}, "creates a function with a privileged role and lets itself invoke it through a resource policy", srcBishopFox, false},
	{"UpdateFunctionConfiguration", []string{"lambda:UpdateFunctionConfiguration"}, "adds a layer that overrides code of a function running with a privileged role", srcBishopFox, false},
	{"PassRole+SageMakerNotebook", []string{"iam:PassRole", "sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"}, "creates a notebook with a privileged role and opens it", srcBishopFox, false},
	{"SageMakerPresignedURL", []string{"sagemaker:CreatePresignedNotebookInstanceUrl"}, "opens an existing notebook running with a role", srcBishopFox, false},
	{"PassRole+CodeBuild", []string{"iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"}, "runs a build with a privileged service role", srcBishopFox, false},
	{"PassRole+ECS", []string{"iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"}, "runs a task with a privileged task role", srcBishopFox, false},
	{"SSMSendCommand", []string{"ssm:SendCommand"}, "runs commands on instances and uses their instance profiles", srcBishopFox, false},
	{"SSMStartSession", []string{"ssm:StartSession"}, "opens a shell on instances and uses their instance profiles", srcBishopFox, false},
	{"DeleteUserPermissionsBoundary", []string{"iam:DeleteUserPermissionsBoundary"}, "removes the permissions boundary that limits it", srcBishopFox, true},
	{"DeleteRolePermissionsBoundary", []string{"iam:DeleteRolePermissionsBoundary", "sts:AssumeRole"}, "removes a role's permissions boundary, then assumes the role", srcBishopFox, true},
}

// The sensitive-action tables of the per-policy rules, after
// cloudsplaining's risk categories. Resource exposure is not listed: it is
// every Permissions-management action of AWS's catalogue outside IAM
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
	inCat   []bool            // index → the action is in AWS's catalogue
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
