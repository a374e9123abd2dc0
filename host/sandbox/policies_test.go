package sandbox

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/policy"
)

// mpDoc is a valid managed policy document; mpDocN varies it.
const mpDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

func mpDocN(n int) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"S%d","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, n)
}

// mpClock is a settable clock, so that CreateDate and UpdateDate are exact.
type mpClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *mpClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *mpClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func mpSandbox(t *testing.T) (*sandbox, *mpClock) {
	clk := &mpClock{t: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}
	return newSandbox(t, Options{Now: clk.now}), clk
}

// mpCreate creates a customer policy and returns its ARN.
func mpCreate(t *testing.T, c *iam.Client, name, path string) string {
	t.Helper()
	in := &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(mpDoc)}
	if path != "" {
		in.Path = aws.String(path)
	}
	return *must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, in)).Policy.Arn
}

// mpGet returns a policy's metadata.
func mpGet(t *testing.T, c *iam.Client, arn string) *types.Policy {
	t.Helper()
	return must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})).Policy
}

// mpCounts checks AttachmentCount and PermissionsBoundaryUsageCount.
func mpCounts(t *testing.T, c *iam.Client, arn string, attached, boundary int32) {
	t.Helper()
	p := mpGet(t, c, arn)
	if *p.AttachmentCount != attached || *p.PermissionsBoundaryUsageCount != boundary {
		t.Fatalf("%s: AttachmentCount %d, PermissionsBoundaryUsageCount %d; want %d, %d",
			arn, *p.AttachmentCount, *p.PermissionsBoundaryUsageCount, attached, boundary)
	}
}

// mpDocument fetches a version's document and URL-decodes it as a caller must.
func mpDocument(t *testing.T, c *iam.Client, arn, version string) string {
	t.Helper()
	out := must[*iam.GetPolicyVersionOutput](t)(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(version)}))
	doc, err := url.QueryUnescape(*out.PolicyVersion.Document)
	if err != nil {
		t.Fatalf("document of %s %s is not URL-encoded: %v", arn, version, err)
	}
	return doc
}

// mpWant fails unless err has the code, the HTTP status and a message
// containing msg.
func mpWant(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	wantCode(t, err, code)
	wantStatus(t, err, status)
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: message should contain %q: %v", code, msg, err)
	}
}

func TestManagedPolicyAWSManaged(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	want := map[string]string{
		"arn:aws:iam::aws:policy/AdministratorAccess":                      "v1",
		"arn:aws:iam::aws:policy/PowerUserAccess":                          "",
		"arn:aws:iam::aws:policy/ReadOnlyAccess":                           "",
		"arn:aws:iam::aws:policy/IAMFullAccess":                            "v2",
		"arn:aws:iam::aws:policy/IAMUserChangePassword":                    "v2",
		"arn:aws:iam::aws:policy/IAMReadOnlyAccess":                        "v4",
		"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess":                   "",
		"arn:aws:iam::aws:policy/AmazonS3FullAccess":                       "",
		"arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess":                  "",
		"arn:aws:iam::aws:policy/SecurityAudit":                            "",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": "v1",
		"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess":              "",
	}
	for arn, version := range want {
		p := mpGet(t, c, arn)
		if !strings.HasPrefix(*p.PolicyId, "ANPA") || len(*p.PolicyId) != 21 || !p.IsAttachable ||
			*p.Description == "" || *p.AttachmentCount != 0 || p.CreateDate.After(*p.UpdateDate) ||
			p.CreateDate.Year() < 2015 || (version != "" && *p.DefaultVersionId != version) {
			t.Fatalf("%s: %+v", arn, p)
		}
		if !strings.HasSuffix(arn, *p.Path+*p.PolicyName) {
			t.Fatalf("%s: path %s name %s", arn, *p.Path, *p.PolicyName)
		}
		doc := mpDocument(t, c, arn, *p.DefaultVersionId)
		if !json.Valid([]byte(doc)) {
			t.Fatalf("%s: document is not JSON: %s", arn, doc)
		}
		if err := policy.CheckIAM(doc, policy.Identity); err != nil {
			t.Fatalf("%s: document refused by the policy checker: %v", arn, err)
		}
		versions := must[*iam.ListPolicyVersionsOutput](t)(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))
		if len(versions.Versions) != 1 || !versions.Versions[0].IsDefaultVersion || !versions.Versions[0].CreateDate.Equal(*p.UpdateDate) {
			t.Fatalf("%s versions: %+v", arn, versions.Versions)
		}
	}
	adminDoc := mpDocument(t, c, "arn:aws:iam::aws:policy/AdministratorAccess", "v1")
	auditDoc := mpDocument(t, c, "arn:aws:iam::aws:policy/SecurityAudit", "v55")
	if !strings.Contains(adminDoc, `"Action": "*"`) || !strings.Contains(auditDoc, `"iam:Get*"`) || !strings.Contains(auditDoc, `"iam:List*"`) {
		t.Fatalf("documents:\n%s\n%s", adminDoc, auditDoc)
	}

	var listed []string
	for p := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws32(5)}); p.HasMorePages(); {
		for _, pol := range must[*iam.ListPoliciesOutput](t)(p.NextPage(ctx)).Policies {
			listed = append(listed, *pol.Arn)
		}
	}
	if len(listed) != len(want) {
		t.Fatalf("Scope=AWS lists %d policies: %v", len(listed), listed)
	}

	// The account may read and attach them, never change them: IAM answers
	// as for any other account's resource, AccessDenied (403).
	admin, readOnly := awsPolicyARN("AdministratorAccess"), awsPolicyARN("ReadOnlyAccess")
	denied := map[string]error{
		"DeletePolicy":            second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &admin})),
		"CreatePolicyVersion":     second(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &admin, PolicyDocument: aws.String(mpDoc)})),
		"SetDefaultPolicyVersion": second(c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: &readOnly, VersionId: aws.String("v132")})),
		"DeletePolicyVersion":     second(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: &readOnly, VersionId: aws.String("v1")})),
		"TagPolicy":               second(c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: &admin, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})),
		"UntagPolicy":             second(c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: &admin, TagKeys: []string{"k"}})),
	}
	for action, err := range denied {
		mpWant(t, err, "AccessDenied", 403, "is not authorized to perform: iam:"+action+" on resource: policy arn:aws:iam::aws:policy/")
	}
	tags := must[*iam.ListPolicyTagsOutput](t)(c.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: &admin}))
	if len(tags.Tags) != 0 || tags.IsTruncated {
		t.Fatalf("AWS managed policy tags: %+v", tags)
	}
}

func aws32(n int32) *int32 { return &n }

func awsPolicyARN(name string) string { return "arn:aws:iam::aws:policy/" + name }

func TestManagedPolicyCreateGetDelete(t *testing.T) {
	sb, clk := mpSandbox(t)
	c := sb.iam
	created := clk.now()
	out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("DataRead"), Path: aws.String("/data/"), PolicyDocument: aws.String(mpDoc),
		Description: aws.String("Reads the data lake"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
	})
	ok(t, err)
	p := out.Policy
	if *p.Arn != "arn:aws:iam::123456789012:policy/data/DataRead" || !strings.HasPrefix(*p.PolicyId, "ANPA") ||
		*p.DefaultVersionId != "v1" || *p.AttachmentCount != 0 || *p.PermissionsBoundaryUsageCount != 0 || !p.IsAttachable ||
		!p.CreateDate.Equal(created) || !p.UpdateDate.Equal(created) || len(p.Tags) != 1 {
		t.Fatalf("CreatePolicy: %+v", p)
	}
	got := mpGet(t, c, *p.Arn)
	if *got.Description != "Reads the data lake" || *got.Path != "/data/" || *got.Tags[0].Value != "data" {
		t.Fatalf("GetPolicy: %+v", got)
	}

	// Names are unique case-insensitively among customer policies, whatever
	// the path; an AWS managed policy's name is free to take.
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("dataread"), Path: aws.String("/other/"), PolicyDocument: aws.String(mpDoc)})
	mpWant(t, err, "EntityAlreadyExists", 409, "A policy called dataread already exists. Duplicate names are not allowed.")
	own := mpCreate(t, c, "ReadOnlyAccess", "")
	if own != "arn:aws:iam::123456789012:policy/ReadOnlyAccess" {
		t.Fatalf("customer ReadOnlyAccess: %s", own)
	}

	invalid := []struct {
		name   string
		in     iam.CreatePolicyInput
		code   string
		status int
	}{
		{"bad name", iam.CreatePolicyInput{PolicyName: aws.String("a b"), PolicyDocument: aws.String(mpDoc)}, "ValidationError", 400},
		{"name too long", iam.CreatePolicyInput{PolicyName: aws.String(strings.Repeat("p", 129)), PolicyDocument: aws.String(mpDoc)}, "ValidationError", 400},
		{"bad path", iam.CreatePolicyInput{PolicyName: aws.String("p"), Path: aws.String("nopath"), PolicyDocument: aws.String(mpDoc)}, "ValidationError", 400},
		{"description too long", iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(mpDoc), Description: aws.String(strings.Repeat("d", 1001))}, "ValidationError", 400},
		{"empty document", iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String("")}, "ValidationError", 400},
		{"not JSON", iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String("{")}, "MalformedPolicyDocument", 400},
		{"no resource", iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)}, "MalformedPolicyDocument", 400},
		{"old version", iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(strings.Replace(mpDoc, "2012-10-17", "2008-10-17", 1))}, "MalformedPolicyDocument", 400},
		{"too large", iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(mpBigDoc(6145))}, "LimitExceeded", 409},
		{"too many tags", iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(mpDoc), Tags: mpTags("k", 51)}, "LimitExceeded", 409},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreatePolicy(ctx, &tc.in)
			wantCode(t, err, tc.code)
			wantStatus(t, err, tc.status)
		})
	}
	// Exactly at the limits is accepted.
	must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(strings.Repeat("p", 128)),
		PolicyDocument: aws.String(mpBigDoc(6144)), Description: aws.String(strings.Repeat("d", 1000))}))

	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/Nope")})
	mpWant(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::123456789012:policy/Nope does not exist or is not attachable.")
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:s3:::bucket/not-a-policy")})
	mpWant(t, err, "InvalidInput", 400, "is not valid")
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("")})
	wantCode(t, err, "ValidationError")

	ok(t, second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})))
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})
	wantCode(t, err, "NoSuchEntity")
	mpCreate(t, c, "DataRead", "/data/") // the name is free again
}

// mpBigDoc is a valid document of exactly n characters without whitespace.
func mpBigDoc(n int) string {
	base := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/"}]}`
	return strings.Replace(base, "b/", "b/"+strings.Repeat("x", n-len(base)), 1)
}

// mpTags makes n tags keyed prefix00, prefix01, …
func mpTags(prefix string, n int) []types.Tag {
	tags := make([]types.Tag, n)
	for i := range tags {
		tags[i] = types.Tag{Key: aws.String(fmt.Sprintf("%s%02d", prefix, i)), Value: aws.String("v")}
	}
	return tags
}

func TestManagedPolicyQuota(t *testing.T) {
	// AWS managed policies do not count against the account's quota.
	sb := newSandbox(t, Options{Quotas: Quotas{Policies: 3}})
	for i := 0; i < 3; i++ {
		mpCreate(t, sb.iam, fmt.Sprintf("p%d", i), "")
	}
	_, err := sb.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p3"), PolicyDocument: aws.String(mpDoc)})
	mpWant(t, err, "LimitExceeded", 409, "Cannot exceed quota for PoliciesPerAccount: 3")
}

func TestManagedPolicyVersions(t *testing.T) {
	sb, clk := mpSandbox(t)
	c := sb.iam
	arn := aws.String(mpCreate(t, c, "Deploy", ""))
	created := clk.now()

	// v2..v5; v3 becomes the default. A new version moves UpdateDate.
	var last time.Time
	for n := 2; n <= 5; n++ {
		last = clk.advance(time.Hour)
		out := must[*iam.CreatePolicyVersionOutput](t)(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
			PolicyArn: arn, PolicyDocument: aws.String(mpDocN(n)), SetAsDefault: n == 3}))
		v := out.PolicyVersion
		if *v.VersionId != fmt.Sprintf("v%d", n) || v.IsDefaultVersion != (n == 3) || !v.CreateDate.Equal(last) || v.Document != nil {
			t.Fatalf("CreatePolicyVersion v%d: %+v", n, v)
		}
	}
	p := mpGet(t, c, *arn)
	if *p.DefaultVersionId != "v3" || !p.UpdateDate.Equal(last) || !p.CreateDate.Equal(created) {
		t.Fatalf("after versions: %+v", p)
	}
	if doc := mpDocument(t, c, *arn, "v4"); doc != mpDocN(4) {
		t.Fatalf("v4 document %s", doc)
	}

	// At most five versions.
	_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(mpDoc)})
	mpWant(t, err, "LimitExceeded", 409, "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")

	// Newest first, paged.
	var ids []string
	pages := 0
	for pg := iam.NewListPolicyVersionsPaginator(c, &iam.ListPolicyVersionsInput{PolicyArn: arn, MaxItems: aws32(2)}); pg.HasMorePages(); pages++ {
		for _, v := range must[*iam.ListPolicyVersionsOutput](t)(pg.NextPage(ctx)).Versions {
			if v.Document != nil || v.IsDefaultVersion != (*v.VersionId == "v3") {
				t.Fatalf("listed version %+v", v)
			}
			ids = append(ids, *v.VersionId)
		}
	}
	if strings.Join(ids, ",") != "v5,v4,v3,v2,v1" || pages != 3 {
		t.Fatalf("versions %v in %d pages", ids, pages)
	}

	// Ids are never reused: after deleting v5 and v2 the next is v6.
	ok(t, second(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")})))
	ok(t, second(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v2")})))
	if p := mpGet(t, c, *arn); !p.UpdateDate.Equal(created.Add(3 * time.Hour)) {
		t.Fatalf("UpdateDate after deleting the newest version: %v", p.UpdateDate)
	}
	v6 := must[*iam.CreatePolicyVersionOutput](t)(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(mpDocN(6))}))
	if *v6.PolicyVersion.VersionId != "v6" {
		t.Fatalf("next version id %s", *v6.PolicyVersion.VersionId)
	}
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")})
	mpWant(t, err, "NoSuchEntity", 404, "Policy "+*arn+" version v5 does not exist or is not attachable.")
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("5")})
	wantCode(t, err, "ValidationError")
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/Gone"), VersionId: aws.String("v1")})
	wantCode(t, err, "NoSuchEntity")

	ok(t, second(c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v6")})))
	if p := mpGet(t, c, *arn); *p.DefaultVersionId != "v6" {
		t.Fatalf("default %s", *p.DefaultVersionId)
	}
	_, err = c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v2")})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(`{"Statement":[]}`)})
	wantCode(t, err, "MalformedPolicyDocument")

	// DeleteConflict: the default version, and a policy with other versions.
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v6")})
	mpWant(t, err, "DeleteConflict", 409, "Cannot delete the default version of a policy.")
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v9")})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
	mpWant(t, err, "DeleteConflict", 409, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	for _, v := range []string{"v1", "v3", "v4"} {
		ok(t, second(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String(v)})))
	}
	ok(t, second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})))
}

func TestManagedPolicyDocumentRoundTrip(t *testing.T) {
	c := newSandbox(t, Options{}).iam
	// Non-ASCII, '+', '%', '&', '=', spaces and newlines must come back
	// byte for byte once the caller URL-decodes them.
	docs := []string{
		"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\",\n    \"Resource\": \"arn:aws:s3:::müller-daten/größe+1/*\"}]\n}",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a+b/50%&x=y/日本語 ✓/*"}]}`,
	}
	arn := aws.String(*must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Unicode"), PolicyDocument: &docs[0]})).Policy.Arn)
	must[*iam.CreatePolicyVersionOutput](t)(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: &docs[1]}))
	for i, want := range docs {
		version := fmt.Sprintf("v%d", i+1)
		raw := *must[*iam.GetPolicyVersionOutput](t)(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String(version)})).PolicyVersion.Document
		if strings.ContainsAny(raw, "{ \n+") {
			t.Fatalf("%s is not URL-encoded as IAM encodes: %q", version, raw)
		}
		if got := mpDocument(t, c, *arn, version); got != want {
			t.Fatalf("%s round trip:\n got %q\nwant %q", version, got, want)
		}
	}
}

func TestManagedPolicyAttachUser(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ana")}))
	own := mpCreate(t, c, "Own", "/team/")
	admin := awsPolicyARN("AdministratorAccess")
	attach := func(arn string) error {
		return second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ana"), PolicyArn: &arn}))
	}
	detach := func(arn string) error {
		return second(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("ana"), PolicyArn: &arn}))
	}
	ok(t, attach(own))
	ok(t, attach(own)) // attaching twice is a no-op, as in IAM
	ok(t, attach(admin))
	mpCounts(t, c, own, 1, 0)
	mpCounts(t, c, admin, 1, 0)

	listed := must[*iam.ListAttachedUserPoliciesOutput](t)(c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("ana")}))
	if len(listed.AttachedPolicies) != 2 || *listed.AttachedPolicies[0].PolicyName != "AdministratorAccess" || *listed.AttachedPolicies[1].PolicyArn != own {
		t.Fatalf("attached: %+v", listed.AttachedPolicies)
	}
	listed = must[*iam.ListAttachedUserPoliciesOutput](t)(c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("ana"), PathPrefix: aws.String("/team/")}))
	if len(listed.AttachedPolicies) != 1 || *listed.AttachedPolicies[0].PolicyArn != own {
		t.Fatalf("attached under /team/: %+v", listed.AttachedPolicies)
	}

	// DeleteConflict while attached, and while used as a boundary.
	_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &own})
	mpWant(t, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	ok(t, detach(own))
	mpCounts(t, c, own, 0, 0)
	ok(t, second(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("ana"), PermissionsBoundary: &own})))
	mpCounts(t, c, own, 0, 1)
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &own})
	mpWant(t, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	ok(t, second(c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("ana")})))
	mpCounts(t, c, own, 0, 0)

	// Ten managed policies per user (AdministratorAccess is one of them).
	for i := 0; i < 9; i++ {
		ok(t, attach(mpCreate(t, c, fmt.Sprintf("extra%d", i), "")))
	}
	spare := mpCreate(t, c, "spare", "")
	mpWant(t, attach(spare), "LimitExceeded", 409, "Cannot exceed quota for PoliciesPerUser: 10")
	mpCounts(t, c, spare, 0, 0)

	// Errors.
	mpWant(t, detach(spare), "NoSuchEntity", 404, "Policy "+spare+" was not found.")
	wantCode(t, detach("arn:aws:iam::123456789012:policy/Nope"), "NoSuchEntity")
	mpWant(t, attach("arn:aws:iam::123456789012:policy/Nope"), "NoSuchEntity", 404, "does not exist or is not attachable")
	mpWant(t, attach("not-an-arn-at-all-really"), "InvalidInput", 400, "is not valid")
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: &admin})
	mpWant(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: &admin})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")

	ok(t, detach(admin))
	mpCounts(t, c, admin, 0, 0)
	ok(t, second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &own})))
}

func TestManagedPolicyListPolicies(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	for i := 0; i < 250; i++ {
		path := "/a/"
		if i%2 == 1 {
			path = "/b/"
		}
		_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pol%03d", i)), Path: aws.String(path),
			PolicyDocument: aws.String(mpDoc), Description: aws.String("d"), Tags: mpTags("k", 1)})
		ok(t, err)
	}
	list := func(in iam.ListPoliciesInput) (names []string, pages int) {
		t.Helper()
		for pg := iam.NewListPoliciesPaginator(c, &in); pg.HasMorePages(); pages++ {
			out := must[*iam.ListPoliciesOutput](t)(pg.NextPage(ctx))
			for _, p := range out.Policies {
				if p.Description != nil || len(p.Tags) != 0 {
					t.Fatalf("ListPolicies returned description or tags: %+v", p)
				}
				names = append(names, *p.PolicyName)
			}
		}
		return names, pages
	}
	names, pages := list(iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, MaxItems: aws32(40)})
	if len(names) != 250 || pages != 7 || names[0] != "pol000" || names[249] != "pol249" {
		t.Fatalf("Local: %d names in %d pages", len(names), pages)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("not sorted at %d: %s %s", i, names[i-1], names[i])
		}
	}
	all, _ := list(iam.ListPoliciesInput{})
	explicit, _ := list(iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAll, MaxItems: aws32(1000)})
	awsOnly, _ := list(iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws})
	if len(all) != 250+len(awsOnly) || len(explicit) != len(all) || len(awsOnly) != len(awsManagedPolicies) {
		t.Fatalf("All (default) %d, All %d, AWS %d", len(all), len(explicit), len(awsOnly))
	}
	if b, _ := list(iam.ListPoliciesInput{PathPrefix: aws.String("/b/")}); len(b) != 125 {
		t.Fatalf("PathPrefix /b/: %d", len(b))
	}
	if jf, _ := list(iam.ListPoliciesInput{PathPrefix: aws.String("/job-function/")}); len(jf) != 1 || jf[0] != "ViewOnlyAccess" {
		t.Fatalf("PathPrefix /job-function/: %v", jf)
	}
	// A customer policy named like an AWS one sorts next to it, by ARN.
	mpCreate(t, c, "SecurityAudit", "/")
	around, _ := list(iam.ListPoliciesInput{PathPrefix: aws.String("/"), MaxItems: aws32(1)})
	n := 0
	for _, name := range around {
		if name == "SecurityAudit" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("two SecurityAudit policies expected, got %d", n)
	}

	// OnlyAttached and PolicyUsageFilter.
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	ok(t, second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/a/pol000")})))
	ok(t, second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(awsPolicyARN("IAMReadOnlyAccess"))})))
	ok(t, second(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("u"), PermissionsBoundary: aws.String("arn:aws:iam::123456789012:policy/b/pol001")})))
	cases := []struct {
		in   iam.ListPoliciesInput
		want string
	}{
		{iam.ListPoliciesInput{OnlyAttached: true}, "IAMReadOnlyAccess,pol000,pol001"},
		{iam.ListPoliciesInput{OnlyAttached: true, Scope: types.PolicyScopeTypeLocal}, "pol000,pol001"},
		{iam.ListPoliciesInput{OnlyAttached: true, Scope: types.PolicyScopeTypeAws}, "IAMReadOnlyAccess"},
		{iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy}, "IAMReadOnlyAccess,pol000"},
		{iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}, "pol001"},
		{iam.ListPoliciesInput{OnlyAttached: true, PathPrefix: aws.String("/b/")}, "pol001"},
	}
	for _, tc := range cases {
		if got, _ := list(tc.in); strings.Join(got, ",") != tc.want {
			t.Fatalf("%+v: got %v, want %s", tc.in, got, tc.want)
		}
	}
	// Without OnlyAttached the usage filter keeps every policy in scope.
	if got, _ := list(iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}); len(got) != 251 {
		t.Fatalf("usage filter without OnlyAttached: %d", len(got))
	}

	_, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Everything"})
	mpWant(t, err, "ValidationError", 400, "Member must satisfy enum value set: [All, AWS, Local]")
	_, err = c.ListPolicies(ctx, &iam.ListPoliciesInput{PolicyUsageFilter: "Sometimes"})
	wantCode(t, err, "ValidationError")
	_, err = c.ListPolicies(ctx, &iam.ListPoliciesInput{MaxItems: aws32(0)})
	wantCode(t, err, "ValidationError")
	_, err = c.ListPolicies(ctx, &iam.ListPoliciesInput{Marker: aws.String("%%%")})
	wantCode(t, err, "InvalidInput")
	_, err = c.ListPolicies(ctx, &iam.ListPoliciesInput{PathPrefix: aws.String("no-slash")})
	wantCode(t, err, "ValidationError")
}

func TestManagedPolicyListEntities(t *testing.T) {
	c := newSandbox(t, Options{})
	cl := c.iam
	arn := mpCreate(t, cl, "Shared", "")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for i := 0; i < 3; i++ {
		path := "/x/"
		if i == 2 {
			path = "/y/"
		}
		u := aws.String(fmt.Sprintf("user%d", i))
		g := aws.String(fmt.Sprintf("group%d", i))
		r := aws.String(fmt.Sprintf("role%d", i))
		must[*iam.CreateUserOutput](t)(cl.CreateUser(ctx, &iam.CreateUserInput{UserName: u, Path: aws.String(path)}))
		must[*iam.CreateGroupOutput](t)(cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: g, Path: aws.String(path)}))
		must[*iam.CreateRoleOutput](t)(cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: r, Path: aws.String(path), AssumeRolePolicyDocument: &trust}))
		ok(t, second(cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: g, PolicyArn: &arn})))
		if i < 2 {
			ok(t, second(cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: u, PolicyArn: &arn})))
			ok(t, second(cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: r, PolicyArn: &arn})))
		} else {
			ok(t, second(cl.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: u, PermissionsBoundary: &arn})))
			ok(t, second(cl.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: r, PermissionsBoundary: &arn})))
		}
	}
	mpCounts(t, cl, arn, 7, 2)

	type entities struct{ groups, users, roles []string }
	list := func(in iam.ListEntitiesForPolicyInput) (e entities, pages int) {
		t.Helper()
		in.PolicyArn = &arn
		for pg := iam.NewListEntitiesForPolicyPaginator(cl, &in); pg.HasMorePages(); pages++ {
			out := must[*iam.ListEntitiesForPolicyOutput](t)(pg.NextPage(ctx))
			for _, g := range out.PolicyGroups {
				if !strings.HasPrefix(*g.GroupId, "AGPA") {
					t.Fatalf("group id %s", *g.GroupId)
				}
				e.groups = append(e.groups, *g.GroupName)
			}
			for _, u := range out.PolicyUsers {
				if !strings.HasPrefix(*u.UserId, "AIDA") {
					t.Fatalf("user id %s", *u.UserId)
				}
				e.users = append(e.users, *u.UserName)
			}
			for _, r := range out.PolicyRoles {
				if !strings.HasPrefix(*r.RoleId, "AROA") {
					t.Fatalf("role id %s", *r.RoleId)
				}
				e.roles = append(e.roles, *r.RoleName)
			}
		}
		return e, pages
	}
	str := func(e entities) string { return fmt.Sprint(e.groups, e.users, e.roles) }
	everything, pages := list(iam.ListEntitiesForPolicyInput{MaxItems: aws32(2)})
	if str(everything) != "[group0 group1 group2] [user0 user1 user2] [role0 role1 role2]" || pages != 5 {
		t.Fatalf("all entities: %s in %d pages", str(everything), pages)
	}
	cases := []struct {
		in   iam.ListEntitiesForPolicyInput
		want string
	}{
		{iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeUser}, "[] [user0 user1 user2] []"},
		{iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeRole}, "[] [] [role0 role1 role2]"},
		{iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeGroup}, "[group0 group1 group2] [] []"},
		{iam.ListEntitiesForPolicyInput{EntityFilter: types.EntityTypeLocalManagedPolicy}, "[] [] []"},
		{iam.ListEntitiesForPolicyInput{PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy}, "[group0 group1 group2] [user0 user1] [role0 role1]"},
		{iam.ListEntitiesForPolicyInput{PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}, "[] [user2] [role2]"},
		{iam.ListEntitiesForPolicyInput{PathPrefix: aws.String("/y/")}, "[group2] [user2] [role2]"},
	}
	for _, tc := range cases {
		if got, _ := list(tc.in); str(got) != tc.want {
			t.Fatalf("%+v: got %s, want %s", tc.in, str(got), tc.want)
		}
	}
	out := must[*iam.ListEntitiesForPolicyOutput](t)(cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(awsPolicyARN("AdministratorAccess"))}))
	if len(out.PolicyGroups)+len(out.PolicyUsers)+len(out.PolicyRoles) != 0 || out.IsTruncated {
		t.Fatalf("unused policy: %+v", out)
	}
	_, err := cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: &arn, EntityFilter: "Computer"})
	mpWant(t, err, "ValidationError", 400, "enum value set")
	_, err = cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: &arn, PolicyUsageFilter: "Sometimes"})
	wantCode(t, err, "ValidationError")
	_, err = cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/Nope")})
	wantCode(t, err, "NoSuchEntity")
	_, err = cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: &arn, Marker: aws.String("***")})
	wantCode(t, err, "InvalidInput")
}

func TestManagedPolicyTags(t *testing.T) {
	c := newSandbox(t, Options{}).iam
	arn := aws.String(mpCreate(t, c, "Tagged", ""))
	ok(t, second(c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: arn, Tags: mpTags("k", 3)})))
	// Keys are case-insensitive: K00 replaces k00's value.
	ok(t, second(c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: arn, Tags: []types.Tag{{Key: aws.String("K00"), Value: aws.String("new")}}})))
	var keys []string
	pages := 0
	for pg := iam.NewListPolicyTagsPaginator(c, &iam.ListPolicyTagsInput{PolicyArn: arn, MaxItems: aws32(2)}); pg.HasMorePages(); pages++ {
		for _, tag := range must[*iam.ListPolicyTagsOutput](t)(pg.NextPage(ctx)).Tags {
			keys = append(keys, *tag.Key+"="+*tag.Value)
		}
	}
	if strings.Join(keys, ",") != "k00=new,k01=v,k02=v" || pages != 2 {
		t.Fatalf("tags %v in %d pages", keys, pages)
	}
	ok(t, second(c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: arn, TagKeys: []string{"K01", "absent"}})))
	if p := mpGet(t, c, *arn); len(p.Tags) != 2 {
		t.Fatalf("after untag: %+v", p.Tags)
	}

	// Two tags kept plus 49 new ones is one over IAM's 50.
	_, err := c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: arn, Tags: mpTags("x", 49)})
	mpWant(t, err, "LimitExceeded", 409, "The number of tags has reached the maximum limit.")
	_, err = c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: arn, Tags: []types.Tag{}})
	wantCode(t, err, "ValidationError")
	_, err = c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: arn, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}}})
	wantCode(t, err, "InvalidInput")
	_, err = c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: arn, TagKeys: []string{}})
	wantCode(t, err, "ValidationError")
	gone := aws.String("arn:aws:iam::123456789012:policy/Gone")
	_, err = c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: gone, Tags: mpTags("k", 1)})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: gone, TagKeys: []string{"k"}})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: gone})
	wantCode(t, err, "NoSuchEntity")
}
