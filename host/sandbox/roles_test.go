package sandbox

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// roleTrust is a plain EC2 trust policy.
const roleTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// roleTrustAwkward holds everything URL encoding can get wrong: newlines,
// spaces, '+', '&', '=', '%', '/' and a Latin-1 letter.
const roleTrustAwkward = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n" +
	"    \"Principal\": {\"AWS\": \"arn:aws:iam::210987654321:root\"},\n    \"Action\": \"sts:AssumeRole\",\n" +
	"    \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"a+b c&d=é/%41\"}}\n  }]\n}"

const roleIdentityDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

func roleCreate(t *testing.T, c *iam.Client, name string) *types.Role {
	t.Helper()
	return must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(roleTrust)})).Role
}

// roleMkPolicies creates n customer managed policies and returns their ARNs.
func roleMkPolicies(t *testing.T, c *iam.Client, n int) []string {
	t.Helper()
	arns := make([]string, n)
	for i := range arns {
		out := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pol%02d", i)), PolicyDocument: aws.String(roleIdentityDoc)}))
		arns[i] = *out.Policy.Arn
	}
	return arns
}

// decoded URL-decodes a policy document as IAM's callers must.
func roleDecode(t *testing.T, doc *string) string {
	t.Helper()
	if doc == nil {
		t.Fatal("no policy document")
	}
	s, err := url.QueryUnescape(*doc)
	ok(t, err)
	return s
}

// roleWantMessage fails unless err is an API error whose message contains want.
func roleWantMessage(t *testing.T, err error, code, want string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("message %q does not contain %q", ae.ErrorMessage(), want)
	}
}

func TestRoleLifecycle(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	out := must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("AppRole"), Path: aws.String("/svc/"), AssumeRolePolicyDocument: aws.String(roleTrustAwkward),
		Description: aws.String("the app"), MaxSessionDuration: aws.Int32(7200),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
	}))
	r := out.Role
	if *r.Arn != "arn:aws:iam::123456789012:role/svc/AppRole" || !strings.HasPrefix(*r.RoleId, "AROA") || len(*r.RoleId) != 21 ||
		*r.Description != "the app" || *r.MaxSessionDuration != 7200 || len(r.Tags) != 1 || r.CreateDate.IsZero() {
		t.Fatalf("CreateRole: %+v", r)
	}
	// The trust document comes back URL-encoded and decodes to exactly what was sent.
	if *r.AssumeRolePolicyDocument == roleTrustAwkward || roleDecode(t, r.AssumeRolePolicyDocument) != roleTrustAwkward {
		t.Fatalf("trust document not round-tripped: %q", *r.AssumeRolePolicyDocument)
	}

	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("approle"), AssumeRolePolicyDocument: aws.String(roleTrust)})
	roleWantMessage(t, err, "EntityAlreadyExists", "Role with name approle already exists.")
	wantStatus(t, err, 409)

	// GetRole: case-insensitive lookup, the full shape, an empty RoleLastUsed until used.
	g := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("APPROLE")})).Role
	if *g.RoleName != "AppRole" || *g.Path != "/svc/" || roleDecode(t, g.AssumeRolePolicyDocument) != roleTrustAwkward ||
		len(g.Tags) != 1 || g.RoleLastUsed == nil || g.RoleLastUsed.LastUsedDate != nil || g.PermissionsBoundary != nil {
		t.Fatalf("GetRole: %+v", g)
	}
	used := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	sb.srv.mu.Lock()
	sb.srv.acct.Roles["approle"].LastUsed, sb.srv.acct.Roles["approle"].LastUsedRegion = &used, "eu-west-1"
	sb.srv.mu.Unlock()
	g = must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AppRole")})).Role
	if !g.RoleLastUsed.LastUsedDate.Equal(used) || *g.RoleLastUsed.Region != "eu-west-1" {
		t.Fatalf("RoleLastUsed: %+v", g.RoleLastUsed)
	}

	// Defaults: one hour, no description.
	d := roleCreate(t, c, "Plain")
	if *d.MaxSessionDuration != 3600 || d.Description != nil || *d.Path != "/" {
		t.Fatalf("defaults: %+v", d)
	}

	// UpdateRole changes only what is sent.
	ok(t, second(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("AppRole"), MaxSessionDuration: aws.Int32(43200)})))
	g = must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AppRole")})).Role
	if *g.MaxSessionDuration != 43200 || *g.Description != "the app" {
		t.Fatalf("after UpdateRole: %+v", g)
	}
	ok(t, second(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("AppRole"), Description: aws.String("new")})))
	g = must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AppRole")})).Role
	if *g.MaxSessionDuration != 43200 || *g.Description != "new" {
		t.Fatalf("after UpdateRole description: %+v", g)
	}
	ud := must[*iam.UpdateRoleDescriptionOutput](t)(c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("approle"), Description: aws.String("newer")}))
	if *ud.Role.Description != "newer" || *ud.Role.RoleName != "AppRole" || roleDecode(t, ud.Role.AssumeRolePolicyDocument) != roleTrustAwkward {
		t.Fatalf("UpdateRoleDescription: %+v", ud.Role)
	}

	ok(t, second(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("AppRole"), PolicyDocument: aws.String(roleTrust)})))
	g = must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AppRole")})).Role
	if roleDecode(t, g.AssumeRolePolicyDocument) != roleTrust {
		t.Fatalf("trust after update: %s", *g.AssumeRolePolicyDocument)
	}

	// Tags merge case-insensitively and untag ignores unknown keys.
	ok(t, second(c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("AppRole"), Tags: []types.Tag{{Key: aws.String("TEAM"), Value: aws.String("sec")}, {Key: aws.String("cost"), Value: aws.String("42")}}})))
	tags := must[*iam.ListRoleTagsOutput](t)(c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("AppRole")}))
	if len(tags.Tags) != 2 || *tags.Tags[1].Value != "sec" {
		t.Fatalf("tags: %+v", tags.Tags)
	}
	ok(t, second(c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("AppRole"), TagKeys: []string{"cost", "nope"}})))
	tags = must[*iam.ListRoleTagsOutput](t)(c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("AppRole")}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" {
		t.Fatalf("tags after untag: %+v", tags.Tags)
	}

	ok(t, second(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("approle")})))
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("AppRole")})
	roleWantMessage(t, err, "NoSuchEntity", "The role with name AppRole cannot be found.")
	wantStatus(t, err, 404)
}

// Every role action answers NoSuchEntity for a role that does not exist.
func TestRoleNoSuchEntity(t *testing.T) {
	sb := newSandbox(t, Options{})
	c, n := sb.iam, aws.String("ghost")
	arn := aws.String("arn:aws:iam::123456789012:policy/p")
	errs := map[string]error{
		"GetRole":                  second(c.GetRole(ctx, &iam.GetRoleInput{RoleName: n})),
		"UpdateRole":               second(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: n})),
		"UpdateRoleDescription":    second(c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: n, Description: n})),
		"UpdateAssumeRolePolicy":   second(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: n, PolicyDocument: aws.String(roleTrust)})),
		"DeleteRole":               second(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: n})),
		"AttachRolePolicy":         second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: n, PolicyArn: arn})),
		"DetachRolePolicy":         second(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: n, PolicyArn: arn})),
		"ListAttachedRolePolicies": second(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: n})),
		"TagRole":                  second(c.TagRole(ctx, &iam.TagRoleInput{RoleName: n, Tags: []types.Tag{{Key: n, Value: n}}})),
		"UntagRole":                second(c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: n, TagKeys: []string{"k"}})),
		"ListRoleTags":             second(c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: n})),
	}
	for name, err := range errs {
		t.Run(name, func(t *testing.T) {
			wantCode(t, err, "NoSuchEntity")
			wantStatus(t, err, 404)
		})
	}
}

func TestRoleValidation(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	create := func(name, path, trust string, dur int32, desc string) error {
		in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}
		if path != "" {
			in.Path = aws.String(path)
		}
		if dur != 0 {
			in.MaxSessionDuration = aws.Int32(dur)
		}
		if desc != "" {
			in.Description = aws.String(desc)
		}
		return second(c.CreateRole(ctx, in))
	}
	// A trust policy above 2,048 characters, whitespace not counted.
	long := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[` +
		strings.TrimSuffix(strings.Repeat(`"arn:aws:iam::210987654321:root",`, 70), ",") + `]},"Action":"sts:AssumeRole"}]}`
	cases := []struct {
		name, code string
		err        error
	}{
		{"bad characters", "ValidationError", create("bad name!", "", roleTrust, 0, "")},
		{"name too long", "ValidationError", create(strings.Repeat("r", 65), "", roleTrust, 0, "")},
		{"path without trailing slash", "ValidationError", create("r", "/svc", roleTrust, 0, "")},
		{"session too short", "ValidationError", create("r", "", roleTrust, 3599, "")},
		{"session too long", "ValidationError", create("r", "", roleTrust, 43201, "")},
		{"description too long", "ValidationError", create("r", "", roleTrust, 0, strings.Repeat("d", 1001))},
		{"description control character", "ValidationError", create("r", "", roleTrust, 0, "bell\a")},
		{"trust without principal", "MalformedPolicyDocument", create("r", "", roleIdentityDoc, 0, "")},
		{"trust not JSON", "MalformedPolicyDocument", create("r", "", `{"Version":`, 0, "")},
		{"trust too large", "LimitExceeded", create("r", "", long, 0, "")},
		{"unknown boundary", "InvalidInput", second(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(roleTrust), PermissionsBoundary: aws.String("arn:aws:iam::123456789012:policy/none")}))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.err, tc.code)
		})
	}
	if out, err := c.ListRoles(ctx, &iam.ListRolesInput{}); err != nil || len(out.Roles) != 0 {
		t.Fatalf("a refused CreateRole left a role behind: %v %+v", err, out)
	}
	// The limits themselves are accepted.
	ok(t, create(strings.Repeat("r", 64), "/a/b/", roleTrust, 43200, strings.Repeat("d", 1000)))
	ok(t, create("shortest", "", roleTrust, 3600, ""))

	// Updates obey the same rules.
	_, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("shortest"), MaxSessionDuration: aws.Int32(60)})
	wantCode(t, err, "ValidationError")
	wantStatus(t, err, 400)
	_, err = c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("shortest"), Description: aws.String(strings.Repeat("d", 1001))})
	wantCode(t, err, "ValidationError")
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("shortest"), PolicyDocument: aws.String(roleIdentityDoc)})
	wantCode(t, err, "MalformedPolicyDocument")
	wantStatus(t, err, 400)
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("shortest"), PolicyDocument: aws.String("not json")})
	wantCode(t, err, "MalformedPolicyDocument")
	g := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("shortest")})).Role
	if roleDecode(t, g.AssumeRolePolicyDocument) != roleTrust || *g.MaxSessionDuration != 3600 {
		t.Fatalf("a refused update changed the role: %+v", g)
	}
}

func TestRoleQuota(t *testing.T) {
	sb := newSandbox(t, Options{Quotas: Quotas{Roles: 3}})
	for i := 0; i < 3; i++ {
		roleCreate(t, sb.iam, fmt.Sprintf("r%d", i))
	}
	_, err := sb.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r3"), AssumeRolePolicyDocument: aws.String(roleTrust)})
	roleWantMessage(t, err, "LimitExceeded", "Cannot exceed quota for RolesPerAccount: 3")
	wantStatus(t, err, 409)
}

func TestRoleListPaging(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	for i := 0; i < 25; i++ {
		path := "/a/"
		if i%2 == 1 {
			path = "/b/"
		}
		must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("role%02d", i)), Path: aws.String(path),
			AssumeRolePolicyDocument: aws.String(roleTrustAwkward), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	}
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(4)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		ok(t, err)
		pages++
		for _, r := range out.Roles {
			names = append(names, *r.RoleName)
			// The list shape: the trust document, but no tags, boundary or last use.
			if roleDecode(t, r.AssumeRolePolicyDocument) != roleTrustAwkward || len(r.Tags) != 0 || r.RoleLastUsed != nil || *r.MaxSessionDuration != 3600 {
				t.Fatalf("ListRoles member: %+v", r)
			}
		}
	}
	if len(names) != 25 || pages != 7 {
		t.Fatalf("got %d roles in %d pages", len(names), pages)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("not sorted or duplicated at %d: %s %s", i, names[i-1], names[i])
		}
	}
	out := must[*iam.ListRolesOutput](t)(c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/b/")}))
	if len(out.Roles) != 12 || out.IsTruncated || out.Marker != nil {
		t.Fatalf("path prefix: %d truncated=%v", len(out.Roles), out.IsTruncated)
	}
	for _, r := range out.Roles {
		if *r.Path != "/b/" {
			t.Fatalf("path filter leaked %s", *r.Path)
		}
	}
	_, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("no-slash")})
	wantCode(t, err, "ValidationError")
	_, err = c.ListRoles(ctx, &iam.ListRolesInput{Marker: aws.String("!!not-a-marker")})
	wantCode(t, err, "InvalidInput")
}

func TestRoleManagedPolicies(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	roleCreate(t, c, "worker")
	arns := roleMkPolicies(t, c, 11)
	attach := func(arn string) error {
		return second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(arn)}))
	}
	for _, a := range arns[:10] {
		ok(t, attach(a))
	}
	ok(t, attach(arns[0])) // attaching twice is a no-op, as in IAM
	roleWantMessage(t, attach(arns[10]), "LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10")
	wantCode(t, attach("arn:aws:iam::123456789012:policy/missing"), "NoSuchEntity")
	wantCode(t, attach("not-an-arn"), "InvalidInput")

	p := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("worker"), MaxItems: aws.Int32(3)})
	var got []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		ok(t, err)
		for _, ap := range out.AttachedPolicies {
			got = append(got, *ap.PolicyArn)
		}
	}
	if strings.Join(got, ",") != strings.Join(arns[:10], ",") {
		t.Fatalf("attached: %v", got)
	}
	sb.srv.mu.RLock()
	count := sb.srv.acct.Policies[arns[0]].AttachmentCount
	sb.srv.mu.RUnlock()
	if count != 1 {
		t.Fatalf("attachment count %d after attaching twice", count)
	}

	ok(t, second(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(arns[0])})))
	_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(arns[0])})
	wantCode(t, err, "NoSuchEntity")
	ok(t, attach(arns[10]))
	out := must[*iam.ListAttachedRolePoliciesOutput](t)(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("worker")}))
	if len(out.AttachedPolicies) != 10 || out.IsTruncated {
		t.Fatalf("after detach and attach: %+v", out.AttachedPolicies)
	}
}

func TestRoleBoundary(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	boundary := roleMkPolicies(t, c, 1)[0]
	count := func() int {
		sb.srv.mu.RLock()
		defer sb.srv.mu.RUnlock()
		return sb.srv.acct.Policies[boundary].BoundaryCount
	}
	out := must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bounded"), AssumeRolePolicyDocument: aws.String(roleTrust), PermissionsBoundary: aws.String(boundary)}))
	if out.Role.PermissionsBoundary == nil || *out.Role.PermissionsBoundary.PermissionsBoundaryArn != boundary ||
		out.Role.PermissionsBoundary.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
		t.Fatalf("CreateRole boundary: %+v", out.Role.PermissionsBoundary)
	}
	g := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("bounded")})).Role
	if g.PermissionsBoundary == nil || *g.PermissionsBoundary.PermissionsBoundaryArn != boundary {
		t.Fatalf("GetRole boundary: %+v", g.PermissionsBoundary)
	}
	if l := must[*iam.ListRolesOutput](t)(c.ListRoles(ctx, &iam.ListRolesInput{})); l.Roles[0].PermissionsBoundary != nil {
		t.Fatal("ListRoles shows the boundary; IAM leaves it out")
	}
	if count() != 1 {
		t.Fatalf("boundary count %d after CreateRole", count())
	}
	ok(t, second(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("bounded")})))
	if count() != 0 {
		t.Fatalf("boundary count %d after DeleteRole", count())
	}
}

func TestRoleDeleteConflicts(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	arn := roleMkPolicies(t, c, 1)[0]
	del := func() error { return second(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("busy")})) }
	roleCreate(t, c, "busy")

	ok(t, second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("busy"), PolicyArn: aws.String(arn)})))
	roleWantMessage(t, del(), "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	ok(t, second(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("busy"), PolicyArn: aws.String(arn)})))

	ok(t, second(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("busy"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(roleIdentityDoc)})))
	err := del()
	roleWantMessage(t, err, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	wantStatus(t, err, 409)
	ok(t, second(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("busy"), PolicyName: aws.String("inline")})))

	must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("busy-profile")}))
	ok(t, second(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("busy-profile"), RoleName: aws.String("busy")})))
	roleWantMessage(t, del(), "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	ok(t, second(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("busy-profile"), RoleName: aws.String("busy")})))

	ok(t, del())
	sb.srv.mu.RLock()
	defer sb.srv.mu.RUnlock()
	if n := sb.srv.acct.Policies[arn].AttachmentCount; n != 0 {
		t.Fatalf("attachment count %d", n)
	}
}
