package catalogue

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Writes that take a restriction away: a detach, a delete, a replaced
// inline policy, a user leaving a group, a managed policy's new default.
// Each widens a principal's access as an added grant would, and passes the
// same decision (guardrails.go, "Removals").

const (
	// denyIAMDoc holds back IAM and STS: with AdministratorAccess beside
	// it, a principal is not admin-equivalent.
	denyIAMDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"*"}]}`
	// denyS3Doc denies something that matters to no guardrail.
	denyS3Doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`
	adminARN  = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// setup runs SDK calls that build a scene around the guardrails (as
// someone with IAM access would, bypassing this server).
type setup struct {
	t  *testing.T
	cl *iam.Client
}

func newSetup(t *testing.T, c *testCatalogue) setup { return setup{t, c.clients.IAM} }

func (s setup) ok(_ any, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s setup) user(name string) {
	s.t.Helper()
	s.ok(s.cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
}

func (s setup) role(name string) {
	s.t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	s.ok(s.cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}))
}

func (s setup) group(name string) {
	s.t.Helper()
	s.ok(s.cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}))
}

func (s setup) join(group, user string) {
	s.t.Helper()
	s.ok(s.cl.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(user)}))
}

// inline puts an inline policy on "user U", "role R" or "group G".
func (s setup) inline(who, name, doc string) {
	s.t.Helper()
	kind, n, _ := strings.Cut(who, " ")
	switch kind {
	case "user":
		s.ok(s.cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(n), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))
	case "role":
		s.ok(s.cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(n), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))
	default:
		s.ok(s.cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(n), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))
	}
}

// attach attaches a managed policy to "user U", "role R" or "group G".
func (s setup) attach(who, arn string) {
	s.t.Helper()
	kind, n, _ := strings.Cut(who, " ")
	switch kind {
	case "user":
		s.ok(s.cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(n), PolicyArn: aws.String(arn)}))
	case "role":
		s.ok(s.cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(n), PolicyArn: aws.String(arn)}))
	default:
		s.ok(s.cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(n), PolicyArn: aws.String(arn)}))
	}
}

// managed creates a customer managed policy and returns its ARN.
func (s setup) managed(name, doc string) string {
	s.t.Helper()
	out, err := s.cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		s.t.Fatal(err)
	}
	return *out.Policy.Arn
}

// userInlineDoc is a user's inline policy document now, "" when absent.
func userInlineDoc(t *testing.T, c *testCatalogue, user, name string) string {
	t.Helper()
	out, err := c.clients.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
	if err != nil {
		return ""
	}
	return string(decodeDocument(out.PolicyDocument))
}

// wantAllowedWarning checks an --allow-risky-policies result carries the risk.
func wantAllowedWarning(t *testing.T, warnings []string, want string) {
	t.Helper()
	if len(warnings) == 0 || !strings.Contains(warnings[0], "--allow-risky-policies") || !strings.Contains(strings.Join(warnings, "\n"), want) {
		t.Errorf("allowed with --allow-risky-policies: warnings %q, want %q", warnings, want)
	}
}

// TestRemovalUserAndRole: a user or role with AdministratorAccess held back
// by a Deny on iam:* and sts:* (inline, managed) becomes admin-equivalent
// when the Deny goes; each way of taking it away is refused, and nothing
// changes.
func TestRemovalUserAndRole(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	s := newSetup(t, c)
	fence := s.managed("Fence", denyIAMDoc)
	for _, kind := range []string{"user", "role"} {
		name := "held-" + kind
		if kind == "user" {
			s.user(name)
		} else {
			s.role(name)
		}
		who := kind + " " + name
		s.attach(who, adminARN)
		s.inline(who, "fence", denyIAMDoc)
		s.attach(who, fence)
		s.inline(who, "nos3", denyS3Doc)
		arg := `"` + kind + `_name":"` + name + `"`

		// One of two overlapping denies goes: still held back.
		if r := call[api.Result](t, c, "detach_"+kind+"_policy", `{`+arg+`,"policy_arn":"`+fence+`"}`); len(r.Warnings) != 0 {
			t.Errorf("%s: one of two denies: warnings %q", who, r.Warnings)
		}
		// The last one: refused, by every write that takes it away.
		msg := callFails(t, c, "delete_"+kind+"_policy", `{`+arg+`,"policy_name":"fence"}`, api.RiskyPolicy)
		wantRefused(t, msg, "deleting inline policy fence of "+who, "ADMIN_EQUIVALENT", "Deny statements", "holding back", "Nothing was changed")
		msg = callFails(t, c, "put_"+kind+"_policy", `{`+arg+`,"policy_name":"fence","policy_document":`+readS3Doc+`}`, api.RiskyPolicy)
		wantRefused(t, msg, "replacing inline policy fence of "+who, "ADMIN_EQUIVALENT")
		// IAM (and the sandbox) match an inline policy's name without
		// regard to case: "FENCE" replaces "fence".
		callFails(t, c, "put_"+kind+"_policy", `{`+arg+`,"policy_name":"FENCE","policy_document":`+readS3Doc+`}`, api.RiskyPolicy)
		callFails(t, c, "delete_"+kind+"_policy", `{`+arg+`,"policy_name":"Fence"}`, api.RiskyPolicy)
		if d := userInlineDoc(t, c, "held-user", "fence"); kind == "user" && !strings.Contains(d, `"iam:*"`) {
			t.Fatalf("the refused writes changed the inline policy: %s", d)
		}
		// A Deny that matters to no guardrail goes without a word.
		if r := call[api.Result](t, c, "delete_"+kind+"_policy", `{`+arg+`,"policy_name":"nos3"}`); len(r.Warnings) != 0 {
			t.Errorf("%s: deny on s3: warnings %q", who, r.Warnings)
		}
		// A replacement that keeps the Deny goes through.
		call[api.Result](t, c, "put_"+kind+"_policy", `{`+arg+`,"policy_name":"fence","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:*","ec2:*"],"Resource":"*"}]}}`)
		// Now the managed deny again, alone: detaching it is refused.
		s.attach(who, fence)
		s.inline(who, "fence", readS3Doc)
		msg = callFails(t, c, "detach_"+kind+"_policy", `{`+arg+`,"policy_arn":"`+fence+`"}`, api.RiskyPolicy)
		wantRefused(t, msg, "detaching "+fence+" from "+who, "ADMIN_EQUIVALENT", "Deny statements of "+fence)
		// Detaching the grant instead only narrows.
		if r := call[api.Result](t, c, "detach_"+kind+"_policy", `{`+arg+`,"policy_arn":"`+adminARN+`"}`); len(r.Warnings) != 0 {
			t.Errorf("%s: detaching the grant: warnings %q", who, r.Warnings)
		}
		// And without the grant the deny holds nothing back.
		call[api.Result](t, c, "detach_"+kind+"_policy", `{`+arg+`,"policy_arn":"`+fence+`"}`)
	}

	// With --allow-risky-policies each goes through with the risk said.
	risky := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	rs := newSetup(t, risky)
	rs.user("free")
	rs.attach("user free", adminARN)
	rs.inline("user free", "fence", denyIAMDoc)
	rs.inline("user free", "fence2", denyIAMDoc)
	r := call[api.Result](t, risky, "put_user_policy", `{"user_name":"free","policy_name":"fence","policy_document":`+readS3Doc+`}`)
	if len(r.Warnings) != 0 {
		t.Errorf("one of two: warnings %q", r.Warnings)
	}
	r = call[api.Result](t, risky, "delete_user_policy", `{"user_name":"free","policy_name":"fence2"}`)
	wantAllowedWarning(t, r.Warnings, "ADMIN_EQUIVALENT")
	if d := userInlineDoc(t, risky, "free", "fence2"); d != "" {
		t.Errorf("allowed delete did not happen: %s", d)
	}
}

// TestRemovalConditionsAndNotAction: a Deny counts as a restriction as the
// decision rule reads it: a NotAction Deny and a Deny whose condition always
// holds are restrictions; a Deny whose condition the attacker can make false
// never was one, so taking it away changes nothing and is allowed.
func TestRemovalConditionsAndNotAction(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	s := newSetup(t, c)
	cases := []struct {
		name, deny string
		refused    bool
	}{
		{"notaction", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:*"],"Resource":"*"}]}`, true},
		{"always", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}},{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}`, true},
		{"wildarn", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"arn:aws:*:*:*:*"}]}`, true},
		{"sourceip", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, false},
		{"mfa", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`, false},
		{"named", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"arn:aws:iam::123456789012:user/somebody"}]}`, false},
	}
	refused := 0
	for _, tc := range cases {
		u := "u-" + tc.name
		s.user(u)
		s.attach("user "+u, adminARN)
		s.inline("user "+u, "deny", tc.deny)
		// The engine agrees: the user with the deny is admin-equivalent
		// exactly when the deny never held anything back.
		g, err := c.gatherPrincipal(ctx, "user", u)
		if err != nil {
			t.Fatal(err)
		}
		admin := false
		for _, r := range policy.Risks(g.in, policy.RiskOptions{Account: demoAcct}) {
			admin = admin || r.Code == policy.CodeAdminEquivalent
		}
		if admin == tc.refused {
			t.Errorf("%s: the rule reads the user with the deny as admin-equivalent: %v", tc.name, admin)
		}
		_, err = c.Call(ctx, "delete_user_policy", []byte(`{"user_name":"`+u+`","policy_name":"deny"}`))
		if tc.refused {
			if err == nil || !strings.Contains(err.Error(), "ADMIN_EQUIVALENT") {
				t.Errorf("%s: want refused, got %v", tc.name, err)
			} else {
				refused++
			}
		} else if err != nil {
			t.Errorf("%s: want allowed, got %v", tc.name, err)
		}
	}
	t.Logf("%d of %d deny removals refused", refused, len(cases))
}

// TestRemovalGroupLeave: leaving a group whose policies deny what the
// user's own allow widens the user; leaving one that only grants does not.
func TestRemovalGroupLeave(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	s := newSetup(t, c)
	s.user("gus")
	s.attach("user gus", adminARN)
	s.group("Guarded")
	s.inline("group Guarded", "fence", denyIAMDoc)
	s.group("Readers")
	s.attach("group Readers", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	s.join("Guarded", "gus")
	s.join("Readers", "gus")
	for _, g := range []string{"Guarded", "GUARDED", "guarded"} {
		msg := callFails(t, c, "remove_user_from_group", `{"group_name":"`+g+`","user_name":"gus"}`, api.RiskyPolicy)
		wantRefused(t, msg, "removing user gus from group "+g, "ADMIN_EQUIVALENT", "group's policies", "Nothing was changed")
	}
	if r := call[api.Result](t, c, "remove_user_from_group", `{"group_name":"Readers","user_name":"gus"}`); len(r.Warnings) != 0 {
		t.Errorf("leaving Readers: warnings %q", r.Warnings)
	}
	if g := call[api.GroupsOutput](t, c, "list_groups_for_user", `{"user_name":"gus"}`); len(g.Groups) != 1 {
		t.Fatalf("groups of gus: %+v", g.Groups)
	}
	// The same policy held twice (by the user and by the group): leaving
	// the group keeps it.
	fence := s.managed("Fence", denyIAMDoc)
	s.attach("group Readers", fence)
	s.join("Readers", "gus")
	s.attach("user gus", fence)
	s.ok(c.clients.IAM.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("Guarded"), PolicyName: aws.String("fence")}))
	call[api.Result](t, c, "remove_user_from_group", `{"group_name":"Readers","user_name":"gus"}`)
	callFails(t, c, "detach_user_policy", `{"user_name":"gus","policy_arn":"`+fence+`"}`, api.RiskyPolicy)

	risky := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	rs := newSetup(t, risky)
	rs.user("gus")
	rs.attach("user gus", adminARN)
	rs.group("Guarded")
	rs.inline("group Guarded", "fence", denyIAMDoc)
	rs.join("Guarded", "gus")
	r := call[api.Result](t, risky, "remove_user_from_group", `{"group_name":"Guarded","user_name":"gus"}`)
	wantAllowedWarning(t, r.Warnings, "ADMIN_EQUIVALENT")

	// Deleting the group with force removes its members first: the same.
	s.ok(c.clients.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("gus"), PolicyArn: aws.String(fence)}))
	s.group("Guard2")
	s.inline("group Guard2", "fence", denyIAMDoc)
	s.join("Guard2", "gus")
	msg := callFails(t, c, "delete_group", `{"group_name":"Guard2","force":true}`, api.RiskyPolicy)
	wantRefused(t, msg, "deleting group Guard2", "for user gus", "ADMIN_EQUIVALENT")
	s.ok(c.clients.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Guard2"), UserName: aws.String("gus")}))
	call[api.DeleteOutput](t, c, "delete_group", `{"group_name":"Guard2","force":true}`)
}

// TestRemovalGroupLevel: a group's Deny taken away (detached, deleted,
// replaced) is judged for every member; the refusal names the member it
// widens.
func TestRemovalGroupLevel(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	s := newSetup(t, c)
	fence := s.managed("Fence", denyIAMDoc)
	s.group("Ops")
	s.attach("group Ops", fence)
	s.inline("group Ops", "fence", denyIAMDoc)
	s.user("olga") // read-only: no Deny holds her back
	s.attach("user olga", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	s.join("Ops", "olga")

	// Only olga: nothing is held back.
	if r := call[api.Result](t, c, "detach_group_policy", `{"group_name":"Ops","policy_arn":"`+fence+`"}`); len(r.Warnings) != 0 {
		t.Errorf("detach: warnings %q", r.Warnings)
	}
	s.attach("group Ops", fence)
	// An admin joins (behind the deny).
	s.user("ozzy")
	s.inline("user ozzy", "all", adminDoc)
	s.join("Ops", "ozzy")
	// One of two overlapping denies goes.
	call[api.Result](t, c, "detach_group_policy", `{"group_name":"Ops","policy_arn":"`+fence+`"}`)
	msg := callFails(t, c, "delete_group_policy", `{"group_name":"Ops","policy_name":"fence"}`, api.RiskyPolicy)
	wantRefused(t, msg, "deleting inline policy fence of group Ops", "members of group Ops", "for user ozzy: ", "ADMIN_EQUIVALENT")
	if strings.Contains(msg, "olga") {
		t.Errorf("the refusal names a member it does not widen: %s", msg)
	}
	callFails(t, c, "put_group_policy", `{"group_name":"Ops","policy_name":"fence","policy_document":`+readS3Doc+`}`, api.RiskyPolicy)
	s.attach("group Ops", fence)
	s.inline("group Ops", "fence", readS3Doc)
	msg = callFails(t, c, "detach_group_policy", `{"group_name":"OPS","policy_arn":"`+fence+`"}`, api.RiskyPolicy)
	wantRefused(t, msg, "for user ozzy", "Deny statements of "+fence)

	// Attacks: a group of many members; the bound fails closed.
	s.group("Crowd")
	s.inline("group Crowd", "fence", denyIAMDoc)
	for i := 0; i <= maxJudgedPrincipals; i++ {
		u := fmt.Sprintf("crowd-%03d", i)
		s.user(u)
		s.join("Crowd", u)
	}
	msg = callFails(t, c, "delete_group_policy", `{"group_name":"Crowd","policy_name":"fence"}`, api.RiskyPolicy)
	wantRefused(t, msg, fmt.Sprintf("%d users and roles", maxJudgedPrincipals+1), "smaller steps")

	risky := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	rs := newSetup(t, risky)
	rs.group("Ops")
	rs.inline("group Ops", "fence", denyIAMDoc)
	rs.user("ozzy")
	rs.inline("user ozzy", "all", adminDoc)
	rs.join("Ops", "ozzy")
	r := call[api.Result](t, risky, "put_group_policy", `{"group_name":"Ops","policy_name":"fence","policy_document":`+readS3Doc+`}`)
	wantAllowedWarning(t, r.Warnings, "for user ozzy")
}

// TestRemovalManagedDefault: a managed policy's new default version that
// drops a Deny is judged for every user and role it applies to, directly or
// through a group.
func TestRemovalManagedDefault(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	s := newSetup(t, c)
	fence := s.managed("Fence", denyIAMDoc)
	s.user("nina")
	s.attach("user nina", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	s.attach("user nina", fence)
	// Only nina: the deny holds nothing back.
	call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+fence+`","policy_document":`+denyS3Doc+`,"set_as_default":true}`)
	call[api.Result](t, c, "set_default_policy_version", `{"policy_arn":"`+fence+`","version_id":"v1"}`)

	// Through a group, and a role directly.
	s.group("Builders")
	s.attach("group Builders", fence)
	s.user("bo")
	s.attach("user bo", adminARN)
	s.join("Builders", "bo")
	for _, via := range []string{"group", "role"} {
		msg := callFails(t, c, "create_policy_version", `{"policy_arn":"`+fence+`","policy_document":`+denyS3Doc+`,"set_as_default":true}`, api.RiskyPolicy)
		wantRefused(t, msg, "making the new version the default version of "+fence, "current default version v1", "ADMIN_EQUIVALENT")
		msg = callFails(t, c, "set_default_policy_version", `{"policy_arn":"`+fence+`","version_id":"v2"}`, api.RiskyPolicy)
		wantRefused(t, msg, "making v2 the default version", "ADMIN_EQUIVALENT")
		if via == "group" {
			wantRefused(t, msg, "for user bo")
			s.ok(c.clients.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Builders"), UserName: aws.String("bo")}))
			s.role("runner")
			s.attach("role runner", adminARN)
			s.attach("role runner", fence)
		} else {
			wantRefused(t, msg, "for role runner")
		}
	}
	// Not in effect yet: a version that is not made the default is fine.
	call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+fence+`","policy_document":`+denyS3Doc+`}`)
	// A new default that keeps the Deny (spelled otherwise) goes.
	call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+fence+`","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["IAM:*","sts:*"],"Resource":"arn:aws:*:*:*:*"}]},"set_as_default":true}`)

	risky := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	rs := newSetup(t, risky)
	rfence := rs.managed("Fence", denyIAMDoc)
	rs.user("bo")
	rs.attach("user bo", adminARN)
	rs.attach("user bo", rfence)
	r := call[api.PolicyVersionOutput](t, risky, "create_policy_version", `{"policy_arn":"`+rfence+`","policy_document":`+denyS3Doc+`,"set_as_default":true}`)
	wantAllowedWarning(t, r.Warnings, "ADMIN_EQUIVALENT")
}

// TestRemovalFailClosed: a Deny taken away when the policies it protects
// cannot be read is refused; a policy with no Deny needs no reads at all.
func TestRemovalFailClosed(t *testing.T) {
	const ro = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	scene := func(c *testCatalogue) string {
		s := newSetup(t, c)
		fence := s.managed("Fence", denyIAMDoc)
		s.user("fay")
		s.attach("user fay", adminARN)
		s.attach("user fay", fence)
		s.attach("user fay", ro)
		s.inline("user fay", "fence", denyIAMDoc)
		s.group("Fenced")
		s.attach("group Fenced", fence)
		s.join("Fenced", "fay")
		return fence
	}
	cases := []struct {
		deny     []string
		op, args string
	}{
		{[]string{"ListGroupsForUser"}, "detach_user_policy", `{"user_name":"fay","policy_arn":"FENCE"}`},
		{[]string{"GetUserPolicy"}, "delete_user_policy", `{"user_name":"fay","policy_name":"fence"}`},
		{[]string{"GetUserPolicy"}, "put_user_policy", `{"user_name":"fay","policy_name":"fence","policy_document":` + readS3Doc + `}`},
		{[]string{"ListAttachedUserPolicies"}, "remove_user_from_group", `{"group_name":"Fenced","user_name":"fay"}`},
		{[]string{"GetGroup"}, "detach_group_policy", `{"group_name":"Fenced","policy_arn":"FENCE"}`},
		{[]string{"ListEntitiesForPolicy"}, "create_policy_version", `{"policy_arn":"FENCE","policy_document":` + denyS3Doc + `,"set_as_default":true}`},
	}
	for _, tc := range cases {
		c := newDeniedCatalogue(t, Options{}, tc.deny...)
		fence := scene(c)
		args := strings.ReplaceAll(tc.args, "FENCE", fence)
		msg := callFails(t, c, tc.op, args, api.AccessDenied)
		for _, w := range []string{"could not read", tc.deny[0], "nothing was changed", "--allow-risky-policies"} {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: refusal does not say %q: %s", tc.op, w, msg)
			}
		}
		risky := newDeniedCatalogue(t, Options{AllowRiskyPolicies: true}, tc.deny...)
		fence = scene(risky)
		r := call[api.Result](t, risky, tc.op, strings.ReplaceAll(tc.args, "FENCE", fence))
		if !strings.Contains(strings.Join(r.Warnings, "\n"), "unchecked") {
			t.Errorf("%s allowed: warnings %q", tc.op, r.Warnings)
		}
	}
	// The shortcut: detaching a policy with no Deny reads nothing of the
	// user's, so it works even when those reads are refused.
	c := newDeniedCatalogue(t, Options{}, "ListGroupsForUser", "ListUserPolicies", "ListAttachedUserPolicies", "GetGroup", "ListEntitiesForPolicy")
	scene(c)
	if r := call[api.Result](t, c, "detach_user_policy", `{"user_name":"fay","policy_arn":"`+ro+`"}`); len(r.Warnings) != 0 {
		t.Errorf("shortcut: warnings %q", r.Warnings)
	}
	// It happened: a second detach finds nothing attached.
	callFails(t, c, "detach_user_policy", `{"user_name":"fay","policy_arn":"`+ro+`"}`, api.NoSuchEntity)
}

// TestRestrictsShortcut: the shortcut skips only documents of Allow
// statements; anything else, however spelled, is read as restricting.
func TestRestrictsShortcut(t *testing.T) {
	for doc, want := range map[string]bool{
		readS3Doc: false,
		adminDoc:  false,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::x","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`: false,
		denyIAMDoc: true,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}]}`: true,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}`:                                                        true,
	} {
		d, err := policy.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got := restricts(d); got != want {
			t.Errorf("restricts(%s) = %v, want %v", doc, got, want)
		}
	}
	if !restricts(nil) {
		t.Error("restricts(nil): a document that could not be read must count as restricting")
	}
}
