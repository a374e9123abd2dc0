package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// lastAccessed generates a report for arn and reads every page of it.
func lastAccessed(t *testing.T, c *iam.Client, arn string, granularity types.AccessAdvisorUsageGranularityType) (*iam.GetServiceLastAccessedDetailsOutput, map[string]types.ServiceLastAccessed) {
	t.Helper()
	job := must[*iam.GenerateServiceLastAccessedDetailsOutput](t)(c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: granularity}))
	if len(*job.JobId) != 36 {
		t.Fatalf("job id %q is not 36 characters", *job.JobId)
	}
	var first *iam.GetServiceLastAccessedDetailsOutput
	byNS := map[string]types.ServiceLastAccessed{}
	var marker *string
	for {
		out := must[*iam.GetServiceLastAccessedDetailsOutput](t)(c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId, Marker: marker, MaxItems: aws.Int32(7)}))
		if first == nil {
			first = out
		}
		for _, s := range out.ServicesLastAccessed {
			if _, dup := byNS[*s.ServiceNamespace]; dup {
				t.Fatalf("%s listed twice across pages", *s.ServiceNamespace)
			}
			byNS[*s.ServiceNamespace] = s
		}
		if !out.IsTruncated {
			return first, byNS
		}
		marker = out.Marker
	}
}

func TestServiceLastAccessed(t *testing.T) {
	clock := newAcctClock()
	sb := newSandbox(t, Options{Now: clock.now})
	c := sb.iam
	const (
		s3Read  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::data/*"}]}`
		ec2Only = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},{"Effect":"Allow","Action":"iam:Get*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
		allBut  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`
		denyS3  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	)
	pol := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("S3Read"), PolicyDocument: aws.String(s3Read)})).Policy
	must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("DenyS3"), PolicyDocument: aws.String(denyS3)}))
	for _, u := range []string{"ana", "ben"} {
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u), Path: aws.String("/t/")}))
	}
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}))
	for _, u := range []string{"ana", "ben"} {
		ok(t, second(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String(u)})))
	}
	ok(t, second(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: pol.Arn})))
	ok(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ana"), PolicyName: aws.String("ec2"), PolicyDocument: aws.String(ec2Only)})))
	// A boundary that denies S3 does not hide S3: only permissions
	// policies count, as IAM documents.
	ok(t, second(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("ana"), PermissionsBoundary: aws.String("arn:aws:iam::123456789012:policy/DenyS3")})))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("power"), AssumeRolePolicyDocument: aws.String(testTrust)}))
	ok(t, second(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("power"), PolicyName: aws.String("all"), PolicyDocument: aws.String(allBut)})))
	ok(t, second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("power"), PolicyArn: pol.Arn})))

	// ana signs requests with her own key: IAM use is recorded from them.
	key := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ana")})).AccessKey
	clock.advance(time.Hour)
	signed := clock.now()
	must[*iam.ListUsersOutput](t)(sb.asUser(*key.AccessKeyId).ListUsers(ctx, &iam.ListUsersInput{}))
	// History the sandbox cannot see: S3 use by ben, then by ana, a role
	// that used EC2, and a use older than IAM's 400-day tracking period.
	anaARN, benARN, roleARN := "arn:aws:iam::123456789012:user/t/ana", "arn:aws:iam::123456789012:user/t/ben", "arn:aws:iam::123456789012:role/power"
	ok(t, sb.srv.RecordServiceUse(benARN, "s3:GetObject", "eu-west-1", signed.Add(-48*time.Hour)))
	ok(t, sb.srv.RecordServiceUse(anaARN, "s3:ListBucket", "us-west-2", signed.Add(-24*time.Hour)))
	ok(t, sb.srv.RecordServiceUse(anaARN, "s3:GetObject", "us-west-2", signed.Add(-30*24*time.Hour)))
	ok(t, sb.srv.RecordServiceUse(roleARN, "ec2:DescribeInstances", "eu-central-1", signed.Add(-100*24*time.Hour)))
	ok(t, sb.srv.RecordServiceUse(roleARN, "dynamodb:GetItem", "eu-central-1", signed.Add(-401*24*time.Hour)))

	// ana: S3 from her group, EC2 from her inline policy; IAM is allowed
	// (iam:Get*) but taken away by the unconditional Deny iam:*.
	out, svc := lastAccessed(t, c, anaARN, "")
	if out.JobStatus != types.JobStatusTypeCompleted || out.JobType != types.AccessAdvisorUsageGranularityTypeServiceLevel ||
		out.JobCompletionDate == nil || out.JobCreationDate == nil || out.Error != nil {
		t.Fatalf("job: %+v", out)
	}
	if len(svc) != 2 || svc["iam"].ServiceNamespace != nil {
		t.Fatalf("ana's services: %v", keys(svc))
	}
	if s := svc["s3"]; *s.ServiceName != "Amazon S3" || !s.LastAuthenticated.Equal(signed.Add(-24*time.Hour)) ||
		*s.LastAuthenticatedEntity != anaARN || *s.LastAuthenticatedRegion != "us-west-2" || *s.TotalAuthenticatedEntities != 1 || s.TrackedActionsLastAccessed != nil {
		t.Fatalf("ana s3: %+v", s)
	}
	if s := svc["ec2"]; s.LastAuthenticated != nil || s.LastAuthenticatedEntity != nil || s.TotalAuthenticatedEntities != nil {
		t.Fatalf("ana ec2, never used: %+v", s)
	}

	// The group: the member who used S3 last, and both counted.
	_, svc = lastAccessed(t, c, "arn:aws:iam::123456789012:group/readers", types.AccessAdvisorUsageGranularityTypeServiceLevel)
	if s := svc["s3"]; len(svc) != 1 || *s.LastAuthenticatedEntity != anaARN || *s.TotalAuthenticatedEntities != 2 {
		t.Fatalf("group: %+v", svc)
	}
	// The policy: its users (through the group) and the role it is on.
	_, svc = lastAccessed(t, c, *pol.Arn, "")
	if s := svc["s3"]; len(svc) != 1 || *s.TotalAuthenticatedEntities != 2 {
		t.Fatalf("policy: %+v", svc)
	}

	// The role: NotAction opens every service but the three; its EC2 use
	// is reported, its DynamoDB use is older than the tracking period.
	_, svc = lastAccessed(t, c, roleARN, types.AccessAdvisorUsageGranularityTypeActionLevel)
	if len(svc) < 300 || svc["iam"].ServiceName != nil || svc["organizations"].ServiceName != nil || svc["s3"].ServiceName == nil {
		t.Fatalf("role: %d services", len(svc))
	}
	if s := svc["ec2"]; *s.LastAuthenticatedEntity != roleARN || len(s.TrackedActionsLastAccessed) != 1 ||
		*s.TrackedActionsLastAccessed[0].ActionName != "DescribeInstances" || *s.TrackedActionsLastAccessed[0].LastAccessedRegion != "eu-central-1" {
		t.Fatalf("role ec2: %+v", s)
	}
	if s := svc["dynamodb"]; s.LastAuthenticated != nil {
		t.Fatalf("dynamodb use beyond the tracking period is reported: %+v", s)
	}
	role := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("power")})).Role
	if role.RoleLastUsed == nil || !role.RoleLastUsed.LastUsedDate.Equal(signed.Add(-100*24*time.Hour)) {
		t.Fatalf("role last used: %+v", role.RoleLastUsed)
	}

	// ana at action level: her own request, and IAM is not allowed so it is
	// not listed even though she used it.
	_, svc = lastAccessed(t, c, anaARN, types.AccessAdvisorUsageGranularityTypeActionLevel)
	acts := svc["s3"].TrackedActionsLastAccessed
	if len(acts) != 2 || *acts[0].ActionName != "GetObject" || *acts[1].ActionName != "ListBucket" || !acts[1].LastAccessedTime.Equal(signed.Add(-24*time.Hour)) {
		t.Fatalf("ana s3 actions: %+v", acts)
	}
	// Her signed ListUsers was recorded under iam for her.
	sb.srv.mu.Lock()
	iamUse := sb.srv.acct.ServiceUse[sb.srv.acct.Users["ana"].ID]["iam"]
	sb.srv.mu.Unlock()
	if iamUse == nil || !iamUse.When.Equal(signed) || iamUse.Region != "us-east-1" || iamUse.Actions["ListUsers"] == nil {
		t.Fatalf("ana's signed request was not recorded: %+v", iamUse)
	}

	// Renaming keeps the history (it belongs to the entity); the new ARN
	// is reported.
	ok(t, second(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("ben"), NewUserName: aws.String("benjamin")})))
	_, svc = lastAccessed(t, c, "arn:aws:iam::123456789012:user/t/benjamin", "")
	if s := svc["s3"]; *s.LastAuthenticatedEntity != "arn:aws:iam::123456789012:user/t/benjamin" {
		t.Fatalf("after rename: %+v", s)
	}

	// A job whose entity is deleted before it is read has FAILED.
	job := must[*iam.GenerateServiceLastAccessedDetailsOutput](t)(c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(roleARN)}))
	ok(t, second(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("power"), PolicyName: aws.String("all")})))
	ok(t, second(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("power"), PolicyArn: pol.Arn})))
	ok(t, second(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("power")})))
	failed := must[*iam.GetServiceLastAccessedDetailsOutput](t)(c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId}))
	if failed.JobStatus != types.JobStatusTypeFailed || failed.Error == nil || *failed.Error.Code != "NoSuchEntity" || len(failed.ServicesLastAccessed) != 0 {
		t.Fatalf("job of a deleted role: %+v", failed)
	}
	sb.srv.mu.Lock()
	_, kept := sb.srv.acct.ServiceUse[*role.RoleId]
	sb.srv.mu.Unlock()
	if kept {
		t.Fatal("a deleted role's history was kept")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestServiceLastAccessedErrors(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ana")}))
	gen := func(arn string, g types.AccessAdvisorUsageGranularityType) error {
		_, err := c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: g})
		return err
	}
	wantCode(t, gen("arn:aws:iam::123456789012:user/nobody", ""), "NoSuchEntity")
	wantCode(t, gen("arn:aws:iam::123456789012:policy/Nothing", ""), "NoSuchEntity")
	wantCode(t, gen("arn:aws:iam::210987654321:user/ana", ""), "InvalidInput")
	wantCode(t, gen("arn:aws:s3:::some-bucket-name", ""), "InvalidInput")
	wantCode(t, gen("arn:aws:iam::123456789012:user/ana", "RESOURCE_LEVEL"), "ValidationError")
	wantCode(t, gen("arn:aws", ""), "ValidationError")

	get := func(id string, client *iam.Client) error {
		_, err := client.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(id)})
		return err
	}
	wantCode(t, get("short", c), "ValidationError")
	err := get("00000000-0000-0000-0000-000000000000", c)
	wantCode(t, err, "NoSuchEntity")
	wantStatus(t, err, 404)

	// A job belongs to who started it.
	job := must[*iam.GenerateServiceLastAccessedDetailsOutput](t)(c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::123456789012:user/ana")}))
	key := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ana")})).AccessKey
	wantCode(t, get(*job.JobId, sb.asUser(*key.AccessKeyId)), "NoSuchEntity")
	ok(t, get(*job.JobId, c))
	_, err = c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId, Marker: aws.String("!!")})
	wantCode(t, err, "InvalidInput")
}

func TestServiceLastAccessedPersists(t *testing.T) {
	path := t.TempDir() + "/s.json"
	sb := newSandbox(t, Options{StateFile: path})
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ana")}))
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ok(t, sb.srv.RecordServiceUse("arn:aws:iam::123456789012:user/ana", "s3:GetObject", "eu-west-1", when))
	// Reports and jobs are derived data, which IAM rates reads but keeps:
	// they are saved as reads' bookkeeping is (bookkeeping_test.go), and
	// with any change of the account, as here.
	job := must[*iam.GenerateServiceLastAccessedDetailsOutput](t)(sb.iam.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::123456789012:user/ana")}))
	must[*iam.GenerateCredentialReportOutput](t)(sb.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ben")}))

	again := newSandbox(t, Options{StateFile: path})
	must[*iam.GetCredentialReportOutput](t)(again.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}))
	id := again.srv.acct.Users["ana"].ID
	if u := again.srv.acct.ServiceUse[id]["s3"]; u == nil || !u.When.Equal(when) || u.Actions["GetObject"] == nil {
		t.Fatalf("history after reload: %+v", u)
	}
	// The job survives a restart too (a user with no policies: no services).
	out := must[*iam.GetServiceLastAccessedDetailsOutput](t)(again.iam.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId}))
	if out.JobStatus != types.JobStatusTypeCompleted || len(out.ServicesLastAccessed) != 0 {
		t.Fatalf("job after reload: %+v", out)
	}

	for _, bad := range []struct{ arn, action string }{
		{"arn:aws:iam::123456789012:user/ana", "GetObject"},
		{"arn:aws:iam::123456789012:group/g", "s3:GetObject"},
		{"arn:aws:iam::123456789012:user/nobody", "s3:GetObject"},
	} {
		if err := again.srv.RecordServiceUse(bad.arn, bad.action, "", when); err == nil {
			t.Errorf("RecordServiceUse(%s, %s) succeeded", bad.arn, bad.action)
		}
	}
}

func TestAccessJobsPruned(t *testing.T) {
	jobs := map[string]*AccessJob{}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < maxAccessJobs+5; i++ {
		jobs[strings.Repeat("x", 4)+time.Duration(i).String()] = &AccessJob{Created: t0.Add(time.Duration(i) * time.Second)}
	}
	pruneAccessJobs(jobs)
	if len(jobs) != maxAccessJobs {
		t.Fatalf("%d jobs kept", len(jobs))
	}
	for _, j := range jobs {
		if j.Created.Before(t0.Add(5 * time.Second)) {
			t.Fatalf("an old job was kept: %v", j.Created)
		}
	}
}
