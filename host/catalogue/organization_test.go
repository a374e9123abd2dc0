package catalogue

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestDescribeOrganization reads the org seed's organization through the
// real SDK: the tree, the accounts where they are, and the SCPs with
// their documents and targets.
func TestDescribeOrganization(t *testing.T) {
	sb := newSandbox(t, sandbox.Options{Seed: "org"})
	rec := &targets{next: sb.Transport()}
	c := catalogueOver(t, sb, rec, Options{})
	org := call[api.OrganizationOutput](t, c, "describe_organization", `{}`)
	if org.ManagementAccountID != sandbox.OrgManagementID || org.FeatureSet != "ALL" || !org.SCPsEnabled || !strings.HasPrefix(org.ID, "o-") {
		t.Fatalf("organization: %+v", org)
	}
	if len(org.Roots) != 1 || org.Roots[0].ParentID != "" {
		t.Fatalf("roots: %+v", org.Roots)
	}
	root := org.Roots[0].ID
	ous := map[string]api.OrgUnit{}
	for _, u := range org.OrganizationalUnits {
		ous[u.Name] = u
	}
	if len(ous) != 2 || ous["Infrastructure"].ParentID != root || ous["Workloads"].ParentID != root {
		t.Fatalf("OUs: %+v", org.OrganizationalUnits)
	}
	parents := map[string]string{}
	for _, a := range org.Accounts {
		if a.Status != "ACTIVE" {
			t.Errorf("account %s is %s", a.ID, a.Status)
		}
		parents[a.ID] = a.ParentID
	}
	want := map[string]string{
		sandbox.OrgManagementID: root,
		sandbox.OrgSharedID:     ous["Infrastructure"].ID,
		sandbox.OrgDevID:        ous["Workloads"].ID,
		sandbox.OrgProdID:       ous["Workloads"].ID,
	}
	if len(parents) != len(want) {
		t.Fatalf("accounts: %+v", org.Accounts)
	}
	for id, p := range want {
		if parents[id] != p {
			t.Errorf("account %s is under %q, want %q", id, parents[id], p)
		}
	}
	var deny *api.SCP
	for i, p := range org.Policies {
		if p.Name == "DenyIAMPolicyRewrites" {
			deny = &org.Policies[i]
		}
		if p.Name == "FullAWSAccess" && (!p.AWSManaged || !slices.Contains(p.Targets, root)) {
			t.Errorf("FullAWSAccess: %+v", p)
		}
	}
	if deny == nil || len(deny.Targets) != 1 || deny.Targets[0] != sandbox.OrgDevID || !strings.Contains(deny.Document, "iam:CreatePolicyVersion") || deny.AWSManaged {
		t.Fatalf("the dev SCP: %+v in %+v", deny, org.Policies)
	}
	// Every listing went through Organizations' paginated calls, and
	// nothing else was called.
	seen := map[string]int{}
	for _, op := range rec.seen {
		seen[op]++
	}
	for _, op := range []string{"DescribeOrganization", "ListRoots", "ListOrganizationalUnitsForParent", "ListAccountsForParent", "ListPolicies", "DescribePolicy", "ListTargetsForPolicy"} {
		if seen[op] == 0 {
			t.Errorf("%s was not called: %v", op, seen)
		}
		delete(seen, op)
	}
	if len(seen) > 0 {
		t.Errorf("describe_organization also called %v", seen)
	}
	// One root and two OUs: three parents listed, once each for OUs and
	// for accounts (a page holds 20).
	if n := rec.count("ListAccountsForParent"); n != 3 {
		t.Errorf("ListAccountsForParent called %d times, want 3", n)
	}
}

// targets is an http.RoundTripper in front of the sandbox that notes the
// Organizations operation (X-Amz-Target) of each request, or IAM's Action
// as "iam:" when there is none.
type targets struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (r *targets) RoundTrip(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	if _, after, ok := strings.Cut(op, "."); ok {
		op = after
	} else {
		op = "iam-or-sts"
	}
	r.mu.Lock()
	r.seen = append(r.seen, op)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *targets) count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.seen {
		if s == op {
			n++
		}
	}
	return n
}

// TestDescribeOrganizationCaps: beyond what it gathers, it refuses with
// a clear error instead of growing.
func TestDescribeOrganizationCaps(t *testing.T) {
	c := newTestCatalogue(t, "org")
	for _, cap := range []struct {
		v    *int
		to   int
		what string
	}{{&maxOrgAccounts, 3, "more than 3 accounts"}, {&maxOrgUnits, 1, "more than 1 organizational units"}, {&maxOrgPolicies, 1, "more than 1 service control policies"}} {
		old := *cap.v
		*cap.v = cap.to
		msg := callFails(t, c, "describe_organization", `{}`, api.LimitExceeded)
		*cap.v = old
		if !strings.Contains(msg, cap.what) {
			t.Errorf("cap %s: %s", cap.what, msg)
		}
	}
}

// TestDescribeOrganizationRefusals: a lone account and a member account
// are told what is wrong and what to do.
func TestDescribeOrganizationRefusals(t *testing.T) {
	lone := newTestCatalogue(t, "")
	if msg := callFails(t, lone, "describe_organization", `{}`, api.NoSuchEntity); !strings.Contains(msg, "not in an AWS Organization") {
		t.Errorf("lone account: %s", msg)
	}

	// A member account, as its OrganizationAccountAccessRole.
	sb := newSandbox(t, sandbox.Options{Seed: "org"})
	// The operator, not the root: a root cannot assume roles.
	clients, err := NewClients(ctx, ClientOptions{Sandbox: sb.Transport(), SandboxKeyID: sandbox.OrgOperatorKeyID, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	mgmt, err := New(clients, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := mgmt.clients.STS.GetCallerIdentity(ctx, nil); err != nil || *id.Arn != "arn:aws:iam::"+sandbox.OrgManagementID+":user/"+sandbox.OrgOperatorUser {
		t.Fatalf("SandboxKeyID does not sign as the operator: %v %v", id, err)
	}
	creds, err := mgmt.clients.STS.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + sandbox.OrgDevID + ":role/" + sandbox.OrgAccessRoleName),
		RoleSessionName: aws.String("test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := mgmt.clients.Config.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*creds.Credentials.AccessKeyId, *creds.Credentials.SecretAccessKey, *creds.Credentials.SessionToken)
	member := mgmt.With(ClientsFromConfig(cfg, mgmt.clients.Endpoint))
	_, err = member.Run(context.Background(), "describe_organization", &api.Empty{})
	ae, ok := err.(*api.Error)
	if !ok || ae.Code != api.AccessDenied || !strings.Contains(ae.Message, "management account") || !strings.Contains(ae.Message, "account argument") {
		t.Fatalf("member account: %v", err)
	}
}
