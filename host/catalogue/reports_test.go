package catalogue

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const day = 24 * time.Hour

// docText is a decoded policy document as compact JSON, to look into.
func docText(t *testing.T, d api.PolicyDocument) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(d, &v); err != nil {
		t.Fatalf("document is not a JSON object: %s", d)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAuthorizationDetails(t *testing.T) {
	c := newTestCatalogue(t, "demo")

	// Every page, three entries at a time, across the four kinds.
	var all api.AuthorizationDetailsOutput
	pages, marker := 0, ""
	for {
		args := `{"max_items":3}`
		if marker != "" {
			args = `{"max_items":3,"marker":"` + marker + `"}`
		}
		p := call[api.AuthorizationDetailsOutput](t, c, "get_account_authorization_details", args)
		if n := len(p.Users) + len(p.Groups) + len(p.Roles) + len(p.Policies); n > 3 || (n == 0 && p.IsTruncated) {
			t.Fatalf("page %d has %d entries", pages, n)
		}
		all.Users, all.Groups = append(all.Users, p.Users...), append(all.Groups, p.Groups...)
		all.Roles, all.Policies = append(all.Roles, p.Roles...), append(all.Policies, p.Policies...)
		pages++
		if !p.IsTruncated {
			break
		}
		marker = p.Marker
	}
	users := call[api.ListUsersOutput](t, c, "list_users", `{"max_items":1000}`)
	roles := call[api.ListRolesOutput](t, c, "list_roles", `{"max_items":1000}`)
	if len(all.Users) != len(users.Users) || len(all.Roles) != len(roles.Roles) || len(all.Groups) != 6 || pages < 10 {
		t.Fatalf("%d users (list_users %d), %d groups, %d roles (list_roles %d) in %d pages", len(all.Users), len(users.Users), len(all.Groups), len(all.Roles), len(roles.Roles), pages)
	}
	byUser := map[string]api.UserDetail{}
	for _, u := range all.Users {
		byUser[u.UserName] = u
	}
	if a := byUser["alice.nguyen"]; strings.Join(a.Groups, ",") != "Admins,Developers" || a.Arn != demoARN+"user/eng/alice.nguyen" {
		t.Fatalf("alice: %+v", a)
	}
	if q := byUser["quinn.taylor"]; len(q.InlinePolicies) != 1 || q.InlinePolicies[0].PolicyName != "break-glass" ||
		!strings.Contains(docText(t, q.InlinePolicies[0].PolicyDocument), `"Action":"*"`) {
		t.Fatalf("quinn's inline policy, decoded: %+v", q.InlinePolicies)
	}
	if d := byUser["dan.okafor"]; d.PermissionsBoundary != demoARN+"policy/boundaries/DeveloperBoundary" {
		t.Fatalf("dan's boundary: %q", d.PermissionsBoundary)
	}
	if l := byUser["liam.obrien"]; len(l.AttachedPolicies) != 1 || l.AttachedPolicies[0].PolicyName != "SelfServiceIAM" {
		t.Fatalf("liam's policies: %+v", l.AttachedPolicies)
	}
	for _, r := range all.Roles {
		switch r.RoleName {
		case "ec2-app-role":
			if len(r.InstanceProfiles) != 1 || r.InstanceProfiles[0] != "ec2-app" || !strings.Contains(docText(t, r.AssumeRolePolicyDocument), "ec2.amazonaws.com") {
				t.Fatalf("ec2-app-role: %+v", r)
			}
		case "github-deploy":
			if !strings.Contains(docText(t, r.AssumeRolePolicyDocument), "token.actions.githubusercontent.com:aud") {
				t.Fatalf("github-deploy trust: %s", r.AssumeRolePolicyDocument)
			}
		}
	}
	byPolicy := map[string]api.ManagedPolicyDetail{}
	for _, p := range all.Policies {
		byPolicy[p.PolicyName] = p
	}
	deploy := byPolicy["DeployPipeline"]
	if len(deploy.Versions) != 2 || deploy.DefaultVersionID != "v2" || deploy.AttachmentCount != 2 {
		t.Fatalf("DeployPipeline: %+v", deploy.ManagedPolicy)
	}
	for _, v := range deploy.Versions {
		if v.IsDefaultVersion != (v.VersionID == "v2") || !strings.Contains(docText(t, v.Document), "cloudformation") {
			t.Fatalf("DeployPipeline %s: default %v, %s", v.VersionID, v.IsDefaultVersion, v.Document)
		}
	}
	// AWS managed policies appear when used; unused ones are left out.
	if _, ok := byPolicy["AdministratorAccess"]; !ok {
		t.Fatal("AdministratorAccess, attached to Admins, is missing")
	}
	if _, ok := byPolicy["IAMFullAccess"]; ok {
		t.Fatal("IAMFullAccess is attached to nothing but is listed")
	}
	if p, ok := byPolicy["LegacyAdmin"]; !ok || p.AttachmentCount != 0 {
		t.Fatalf("LegacyAdmin, unattached: %+v", p)
	}

	// A filter narrows; every list is still there, empty.
	raw := rawCall(t, c, "get_account_authorization_details", `{"filter":["Role"]}`)
	for _, want := range []string{`"users":[]`, `"groups":[]`, `"policies":[]`, `"role_name":"lambda-exec"`, `"inline_policies":[]`} {
		if !strings.Contains(raw, want) {
			t.Fatalf("filter Role: %s lacks %s", raw, want)
		}
	}
	local := call[api.AuthorizationDetailsOutput](t, c, "get_account_authorization_details", `{"filter":["LocalManagedPolicy","Group"]}`)
	if len(local.Users)+len(local.Roles) != 0 || len(local.Groups) != 6 || len(local.Policies) != 8 {
		t.Fatalf("LocalManagedPolicy,Group: %d groups %d policies", len(local.Groups), len(local.Policies))
	}
	for _, p := range local.Policies {
		if strings.Contains(p.Arn, ":aws:policy/") {
			t.Fatalf("an AWS managed policy under LocalManagedPolicy: %s", p.Arn)
		}
	}
}

func TestAuthorizationDetailsErrors(t *testing.T) {
	c := newTestCatalogue(t, "")
	if msg := callFails(t, c, "get_account_authorization_details", `{"filter":["User","Users"]}`, api.InvalidInput); !strings.Contains(msg, `"Users"`) || !strings.Contains(msg, "LocalManagedPolicy") {
		t.Fatalf("bad filter: %s", msg)
	}
	callFails(t, c, "get_account_authorization_details", `{"max_items":1001}`, api.InvalidInput)
	callFails(t, c, "get_account_authorization_details", `{"marker":"not-a-marker!"}`, api.InvalidInput)
	callFails(t, c, "get_account_authorization_details", `{"filter":"User"}`, api.InvalidInput)
	// An empty account: everything empty, nothing null.
	raw := rawCall(t, c, "get_account_authorization_details", `{}`)
	if raw != `{"users":[],"groups":[],"roles":[],"policies":[],"is_truncated":false}` {
		t.Fatalf("empty account: %s", raw)
	}
}

// clockedCatalogue is a catalogue over a sandbox whose clock the test moves.
func clockedCatalogue(t *testing.T, seed string, now func() time.Time) *testCatalogue {
	t.Helper()
	sb := newSandbox(t, sandbox.Options{Seed: seed, Now: now})
	return catalogueOver(t, sb, sb.Transport(), Options{})
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCredentialReport(t *testing.T) {
	clock := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	c := clockedCatalogue(t, "demo", clock.now)

	if msg := callFails(t, c, "get_credential_report", `{}`, api.NoSuchEntity); !strings.Contains(msg, "generate_credential_report") || !strings.Contains(msg, "ReportNotPresent") {
		t.Fatalf("before generating: %s", msg)
	}
	if g := call[api.GenerateCredentialReportOutput](t, c, "generate_credential_report", `{}`); g.State != "STARTED" {
		t.Fatalf("first generate: %+v", g)
	}
	if g := call[api.GenerateCredentialReportOutput](t, c, "generate_credential_report", `null`); g.State != "COMPLETE" {
		t.Fatalf("second generate: %+v", g)
	}
	rep := call[api.CredentialReportOutput](t, c, "get_credential_report", `{}`)
	if !rep.GeneratedTime.Equal(clock.now()) || len(rep.Rows) != 26 {
		t.Fatalf("report generated %v with %d rows", rep.GeneratedTime, len(rep.Rows))
	}
	rows := map[string]api.CredentialReportRow{}
	for _, r := range rep.Rows {
		rows[r.User] = r
	}
	now := clock.now()
	root := rep.Rows[0]
	if root.User != "<root_account>" || root.Arn != demoARN+"root" || root.PasswordEnabled || root.MFAActive ||
		root.PasswordLastUsed == nil || root.PasswordLastChanged != nil || root.UserCreationTime == nil || len(root.Certificates) != 0 {
		t.Fatalf("root row: %+v", root)
	}
	if k := root.AccessKeys; len(k) != 1 || k[0].Slot != 1 || !k[0].Active || now.Sub(*k[0].LastRotated) < 365*day ||
		k[0].LastUsedDate == nil || now.Sub(*k[0].LastUsedDate) > 7*day || k[0].LastUsedService != "s3" || k[0].LastUsedRegion != "us-east-1" {
		t.Fatalf("root key: %+v", root.AccessKeys)
	}
	if a := rows["alice.nguyen"]; !a.PasswordEnabled || a.MFAActive || a.PasswordLastUsed == nil || a.PasswordLastChanged == nil || a.PasswordNextRotation != nil || len(a.AccessKeys) != 0 {
		t.Fatalf("alice: %+v", a)
	}
	if b := rows["bob.martin"]; !b.MFAActive {
		t.Fatalf("bob: %+v", b)
	}
	if k := rows["carol.diaz"].AccessKeys; len(k) != 1 || k[0].LastUsedDate != nil || k[0].LastUsedService != "" || k[0].LastUsedRegion != "" {
		t.Fatalf("carol's never-used key: %+v", k)
	}
	if k := rows["isla.moreau"].AccessKeys; len(k) != 2 || k[0].Slot != 1 || k[1].Slot != 2 || !k[0].Active || !k[1].Active {
		t.Fatalf("isla's keys: %+v", k)
	}
	if f := rows["former.employee"]; !f.PasswordEnabled || now.Sub(*f.PasswordLastUsed) < 120*day {
		t.Fatalf("former.employee: %+v", f)
	}
	if q := rows["quinn.taylor"]; q.PasswordEnabled || q.PasswordLastUsed != nil {
		t.Fatalf("quinn has no password: %+v", q)
	}
	// A row without keys or certificates has empty lists, not null.
	if raw := rawCall(t, c, "get_credential_report", `{}`); !strings.Contains(raw, `"user":"quinn.taylor"`) || !strings.Contains(raw, `"access_keys":[]`) || !strings.Contains(raw, `"certificates":[]`) {
		t.Fatalf("empty slots: %s", raw)
	}

	clock.advance(4 * time.Hour)
	if msg := callFails(t, c, "get_credential_report", `{}`, api.NoSuchEntity); !strings.Contains(msg, "4 hours") || !strings.Contains(msg, "generate_credential_report") {
		t.Fatalf("expired: %s", msg)
	}
}

// errorTransport answers every request with one IAM error.
type errorTransport struct{ code string }

func (e errorTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := fmt.Sprintf(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>IAM says %s</Message></Error><RequestId>1</RequestId></ErrorResponse>`, e.code, e.code)
	return &http.Response{StatusCode: 404, Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestCredentialReportInProgress(t *testing.T) {
	c := catalogueOver(t, nil, errorTransport{"ReportInProgress"}, Options{})
	_, err := c.Call(ctx, "get_credential_report", nil)
	if ae, ok := err.(*api.Error); !ok || ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, "still building") || !strings.Contains(ae.Message, "COMPLETE") {
		t.Fatalf("in progress: %v", err)
	}
}

func TestParseCredentialReport(t *testing.T) {
	// IAM's report as it writes it, with the root row's markers; columns
	// are read by name, so a shuffled order reads the same.
	const report = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
		"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
		"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n" +
		"<root_account>,arn:aws:iam::111122223333:root,2019-01-01T00:00:00+00:00,not_supported,2024-05-01T10:00:00+00:00,not_supported,not_supported,true," +
		"false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"ana,arn:aws:iam::111122223333:user/ana,2020-01-01T00:00:00+00:00,true,no_information,2020-01-01T00:00:00+00:00,2020-04-01T00:00:00+00:00,false," +
		"false,N/A,N/A,N/A,N/A,true,2021-01-01T00:00:00+00:00,2024-06-01T08:30:00+00:00,eu-west-1,s3,true,2022-02-02T00:00:00+00:00,false,N/A\n"
	rows, err := parseCredentialReport([]byte(report))
	if err != nil || len(rows) != 2 {
		t.Fatalf("%v %+v", err, rows)
	}
	root, ana := rows[0], rows[1]
	if root.PasswordEnabled || root.PasswordLastChanged != nil || root.PasswordLastUsed == nil || !root.MFAActive || len(root.AccessKeys) != 0 {
		t.Fatalf("root: %+v", root)
	}
	if ana.PasswordLastUsed != nil || ana.PasswordNextRotation == nil || len(ana.AccessKeys) != 1 || len(ana.Certificates) != 1 {
		t.Fatalf("ana: %+v", ana)
	}
	if k := ana.AccessKeys[0]; k.Slot != 2 || !k.Active || k.LastUsedRegion != "eu-west-1" || k.LastUsedService != "s3" ||
		!k.LastUsedDate.Equal(time.Date(2024, 6, 1, 8, 30, 0, 0, time.UTC)) {
		t.Fatalf("ana's key in slot 2: %+v", k)
	}
	if crt := ana.Certificates[0]; crt.Slot != 1 || !crt.Active {
		t.Fatalf("ana's certificate: %+v", crt)
	}

	shuffled, err := parseCredentialReport([]byte("arn,mfa_active,user\narn:aws:iam::1:user/x,true,x\n"))
	if err != nil || len(shuffled) != 1 || shuffled[0].User != "x" || !shuffled[0].MFAActive || shuffled[0].AccessKeys == nil {
		t.Fatalf("shuffled: %v %+v", err, shuffled)
	}
	if rows, err := parseCredentialReport(nil); err != nil || rows == nil || len(rows) != 0 {
		t.Fatalf("empty: %v %v", rows, err)
	}
	if _, err := parseCredentialReport([]byte("name,arn\nx,y\n")); err == nil || !strings.Contains(err.Error(), `"user"`) {
		t.Fatalf("no user column: %v", err)
	}
	if _, err := parseCredentialReport([]byte("user,arn\n\"x,y\n")); err == nil {
		t.Fatal("broken CSV read without error")
	}
}

func TestPasswordPolicyAndSummary(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	pp := call[api.PasswordPolicyOutput](t, c, "get_account_password_policy", `{}`)
	if !pp.Present || pp.PasswordPolicy == nil || pp.PasswordPolicy.MinimumPasswordLength != 6 || !pp.PasswordPolicy.AllowUsersToChangePassword ||
		pp.PasswordPolicy.RequireSymbols || pp.PasswordPolicy.ExpirePasswords || pp.PasswordPolicy.MaxPasswordAge != 0 {
		t.Fatalf("demo's weak policy: %+v", pp.PasswordPolicy)
	}
	sum := call[api.AccountSummaryOutput](t, c, "get_account_summary", `{}`).Summary
	if sum["Users"] != 25 || sum["Roles"] != 9 || sum["Groups"] != 6 || sum["Policies"] != 8 || sum["AccountMFAEnabled"] != 0 ||
		sum["AccountAccessKeysPresent"] != 1 || sum["UsersQuota"] != 5000 {
		t.Fatalf("demo summary: %v", sum)
	}

	empty := newTestCatalogue(t, "")
	if raw := rawCall(t, empty, "get_account_password_policy", `{}`); raw != `{"present":false}` {
		t.Fatalf("no password policy: %s", raw)
	}
	if sum := call[api.AccountSummaryOutput](t, empty, "get_account_summary", `{}`).Summary; sum["Users"] != 0 || sum["AccountAccessKeysPresent"] != 0 {
		t.Fatalf("empty summary: %v", sum)
	}
	callFails(t, empty, "get_account_summary", `{"x":1}`, api.InvalidInput)

	// A strong policy reads back field for field.
	_, err := empty.clients.IAM.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(14), RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true,
		RequireLowercaseCharacters: true, MaxPasswordAge: aws.Int32(90), PasswordReusePrevention: aws.Int32(24), HardExpiry: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := call[api.PasswordPolicyOutput](t, empty, "get_account_password_policy", `{}`).PasswordPolicy
	want := api.PasswordPolicy{MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true,
		RequireLowercaseCharacters: true, ExpirePasswords: true, MaxPasswordAge: 90, PasswordReusePrevention: 24, HardExpiry: true}
	if got == nil || *got != want {
		t.Fatalf("strong policy: %+v", got)
	}
}

func TestServiceLastAccessedDetails(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	report := func(arn, granularity string) api.ServiceLastAccessedOutput {
		t.Helper()
		args := `{"arn":"` + arn + `"}`
		if granularity != "" {
			args = `{"arn":"` + arn + `","granularity":"` + granularity + `"}`
		}
		job := call[api.GenerateServiceLastAccessedOutput](t, c, "generate_service_last_accessed_details", args)
		if len(job.JobID) != 36 {
			t.Fatalf("job id %q", job.JobID)
		}
		return call[api.ServiceLastAccessedOutput](t, c, "get_service_last_accessed_details", `{"job_id":"`+job.JobID+`"}`)
	}
	now := time.Now()
	ci := report(demoARN+"user/service/ci-deploy", "")
	if ci.JobStatus != "COMPLETED" || ci.JobCompletionDate == nil || ci.Error != "" || ci.IsTruncated || len(ci.ServicesLastAccessed) != 3 {
		t.Fatalf("ci-deploy: %+v", ci)
	}
	svc := map[string]api.ServiceLastAccessed{}
	for _, s := range ci.ServicesLastAccessed {
		svc[s.ServiceNamespace] = s
	}
	if s := svc["iam"]; s.ServiceName != "AWS Identity and Access Management (IAM)" || s.LastAuthenticated == nil || now.Sub(*s.LastAuthenticated) < 90*day ||
		s.LastAuthenticatedEntity != demoARN+"user/service/ci-deploy" || s.LastAuthenticatedRegion != "eu-west-1" || s.TotalAuthenticatedEntities != 1 {
		t.Fatalf("ci-deploy iam: %+v", s)
	}
	if s := svc["cloudformation"]; s.ServiceName != "AWS CloudFormation" || now.Sub(*s.LastAuthenticated) > 2*day {
		t.Fatalf("ci-deploy cloudformation: %+v", s)
	}

	// A managed policy: its users and roles together (ci-deploy and
	// github-deploy use DeployPipeline).
	pol := report(demoARN+"policy/ci/DeployPipeline", "ACTION_LEVEL")
	for _, s := range pol.ServicesLastAccessed {
		if s.ServiceNamespace == "s3" && (s.TotalAuthenticatedEntities != 2 || s.LastAuthenticatedEntity != demoARN+"user/service/ci-deploy") {
			t.Fatalf("DeployPipeline s3: %+v", s)
		}
	}

	// An administrator's report pages, and a never-used service has no
	// date, entity or region (left out of the JSON).
	job := call[api.GenerateServiceLastAccessedOutput](t, c, "generate_service_last_accessed_details", `{"arn":"`+demoARN+`user/eng/alice.nguyen"}`)
	first := call[api.ServiceLastAccessedOutput](t, c, "get_service_last_accessed_details", `{"job_id":"`+job.JobID+`","max_items":50}`)
	if len(first.ServicesLastAccessed) != 50 || !first.IsTruncated || first.Marker == "" {
		t.Fatalf("alice's first page: %d, truncated %v", len(first.ServicesLastAccessed), first.IsTruncated)
	}
	next := call[api.ServiceLastAccessedOutput](t, c, "get_service_last_accessed_details", `{"job_id":"`+job.JobID+`","max_items":50,"marker":"`+first.Marker+`"}`)
	if len(next.ServicesLastAccessed) == 0 || next.ServicesLastAccessed[0].ServiceNamespace <= first.ServicesLastAccessed[49].ServiceNamespace {
		t.Fatalf("second page does not follow the first")
	}
	raw := rawCall(t, c, "get_service_last_accessed_details", `{"job_id":"`+job.JobID+`","max_items":1}`)
	if !strings.Contains(raw, `"total_authenticated_entities":0`) || strings.Contains(raw, "last_authenticated") {
		t.Fatalf("a never-used service: %s", raw)
	}
}

func TestServiceLastAccessedErrors(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	for _, bad := range []string{"arn:aws:s3:::bucket", "arn:aws:iam::123456789012:instance-profile/ec2-app", "alice.nguyen", "arn:aws:iam::aws:role/x"} {
		if msg := callFails(t, c, "generate_service_last_accessed_details", `{"arn":"`+bad+`"}`, api.InvalidInput); !strings.Contains(msg, "user, group, role or managed policy") {
			t.Fatalf("%s: %s", bad, msg)
		}
	}
	callFails(t, c, "generate_service_last_accessed_details", `{}`, api.InvalidInput)
	callFails(t, c, "generate_service_last_accessed_details", `{"arn":"`+demoARN+`user/eng/alice.nguyen","granularity":"RESOURCE_LEVEL"}`, api.InvalidInput)
	callFails(t, c, "generate_service_last_accessed_details", `{"arn":"`+demoARN+`user/nobody"}`, api.NoSuchEntity)
	callFails(t, c, "generate_service_last_accessed_details", `{"arn":"`+demoARN+`policy/Nothing"}`, api.NoSuchEntity)
	if msg := callFails(t, c, "get_service_last_accessed_details", `{"job_id":"abc"}`, api.InvalidInput); !strings.Contains(msg, "36-character") {
		t.Fatalf("short job id: %s", msg)
	}
	if msg := callFails(t, c, "get_service_last_accessed_details", `{"job_id":"00000000-0000-0000-0000-000000000000"}`, api.NoSuchEntity); !strings.Contains(msg, "generate_service_last_accessed_details") {
		t.Fatalf("unknown job: %s", msg)
	}
	callFails(t, c, "get_service_last_accessed_details", `{}`, api.InvalidInput)
}

func TestListEntitiesForPolicy(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	ro := call[api.EntitiesForPolicyOutput](t, c, "list_entities_for_policy", `{"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`)
	if strings.Join(ro.Users, ",") != "monitoring-bot" || strings.Join(ro.Groups, ",") != "Support" || strings.Join(ro.Roles, ",") != "vendor-integration" || ro.IsTruncated {
		t.Fatalf("ReadOnlyAccess: %+v", ro)
	}
	roles := call[api.EntitiesForPolicyOutput](t, c, "list_entities_for_policy", `{"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess","entity_filter":"Role"}`)
	if len(roles.Users)+len(roles.Groups) != 0 || len(roles.Roles) != 1 {
		t.Fatalf("entity_filter Role: %+v", roles)
	}
	boundary := demoARN + "policy/boundaries/DeveloperBoundary"
	if b := call[api.EntitiesForPolicyOutput](t, c, "list_entities_for_policy", `{"policy_arn":"`+boundary+`","policy_usage_filter":"PermissionsBoundary"}`); len(b.Users) != 5 {
		t.Fatalf("boundary users: %+v", b)
	}
	if a := call[api.EntitiesForPolicyOutput](t, c, "list_entities_for_policy", `{"policy_arn":"`+boundary+`","policy_usage_filter":"PermissionsPolicy"}`); len(a.Users) != 0 {
		t.Fatalf("DeveloperBoundary is attached to nobody: %+v", a)
	}
	if p := call[api.EntitiesForPolicyOutput](t, c, "list_entities_for_policy", `{"policy_arn":"`+boundary+`","path_prefix":"/nowhere/"}`); len(p.Users) != 0 {
		t.Fatalf("path_prefix: %+v", p)
	}
	page := call[api.EntitiesForPolicyOutput](t, c, "list_entities_for_policy", `{"policy_arn":"`+boundary+`","max_items":2}`)
	if len(page.Users) != 2 || !page.IsTruncated || page.Marker == "" {
		t.Fatalf("page: %+v", page)
	}
	if raw := rawCall(t, c, "list_entities_for_policy", `{"policy_arn":"`+demoARN+`policy/LegacyAdmin"}`); raw != `{"users":[],"groups":[],"roles":[],"is_truncated":false}` {
		t.Fatalf("an unattached policy: %s", raw)
	}
	callFails(t, c, "list_entities_for_policy", `{"policy_arn":"`+demoARN+`policy/Nothing"}`, api.NoSuchEntity)
	callFails(t, c, "list_entities_for_policy", `{"policy_arn":"LegacyAdmin"}`, api.InvalidInput)
	callFails(t, c, "list_entities_for_policy", `{"policy_arn":"`+boundary+`","entity_filter":"Users"}`, api.InvalidInput)
}

func TestGetPolicyVersion(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	arn := demoARN + "policy/ci/DeployPipeline"
	v1 := call[api.PolicyVersionOutput](t, c, "get_policy_version", `{"policy_arn":"`+arn+`","version_id":"v1"}`)
	if v1.PolicyArn != arn || v1.Version.VersionID != "v1" || v1.Version.IsDefaultVersion || v1.Version.CreateDate.IsZero() ||
		docText(t, v1.Version.Document) != `{"Statement":[{"Action":["cloudformation:*","s3:PutObject"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}` {
		t.Fatalf("v1: %+v %s", v1, v1.Version.Document)
	}
	if v2 := call[api.PolicyVersionOutput](t, c, "get_policy_version", `{"policy_arn":"`+arn+`","version_id":"v2"}`); !v2.Version.IsDefaultVersion || !strings.Contains(docText(t, v2.Version.Document), "iam:PassRole") {
		t.Fatalf("v2: %+v", v2)
	}
	// An AWS managed policy's version reads too.
	if a := call[api.PolicyVersionOutput](t, c, "get_policy_version", `{"policy_arn":"arn:aws:iam::aws:policy/AdministratorAccess","version_id":"v1"}`); !strings.Contains(docText(t, a.Version.Document), `"Action":"*"`) {
		t.Fatalf("AdministratorAccess v1: %s", a.Version.Document)
	}
	callFails(t, c, "get_policy_version", `{"policy_arn":"`+arn+`","version_id":"v9"}`, api.NoSuchEntity)
	callFails(t, c, "get_policy_version", `{"policy_arn":"`+arn+`","version_id":"2"}`, api.InvalidInput)
	callFails(t, c, "get_policy_version", `{"policy_arn":"`+arn+`"}`, api.InvalidInput)
}
