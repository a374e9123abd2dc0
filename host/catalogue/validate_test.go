package catalogue

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestNamesAgree holds the catalogue and the sandbox to one verdict on
// every name, path, ARN and id in the table: the catalogue refuses what
// IAM would refuse before any request leaves, and lets through what IAM
// takes; the sandbox, reached over HTTP by the real SDK, refuses the same
// with IAM's ValidationError or InvalidInput and takes the rest. Each side
// once had its own patterns, and they drifted: a policy ARN whose path held
// a space, or a caller ARN with an empty path segment, was refused by the
// catalogue and taken by the sandbox.
func TestNamesAgree(t *testing.T) {
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int64 // requests that reached the sandbox
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	clients, err := NewClients(ctx, ClientOptions{Sandbox: http.DefaultTransport, EndpointURL: hs.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := New(clients, Options{Secrets: SecretFiles{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	raw := clients.IAM
	if _, err := raw.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("source")}); err != nil {
		t.Fatal(err)
	}
	const source = "arn:aws:iam::123456789012:user/source"
	readOnly := "arn:aws:iam::aws:policy/ReadOnlyAccess"

	// probe is one argument, asked of both: op and args for the catalogue
	// (the value JSON-encoded for $V, a fresh number for $N), and the same
	// request through the SDK.
	type probe struct {
		op, args string
		sdk      func(v string) error
	}
	n := 0
	unique := func() string { n++; return fmt.Sprint(n) }
	probes := map[string]probe{
		"user_name": {"get_user", `{"user_name":$V}`, func(v string) error {
			_, err := raw.GetUser(ctx, &iam.GetUserInput{UserName: &v})
			return err
		}},
		"group_name": {"get_group", `{"group_name":$V}`, func(v string) error {
			_, err := raw.GetGroup(ctx, &iam.GetGroupInput{GroupName: &v})
			return err
		}},
		"role_name": {"get_role", `{"role_name":$V}`, func(v string) error {
			_, err := raw.GetRole(ctx, &iam.GetRoleInput{RoleName: &v})
			return err
		}},
		"path": {"create_user", `{"user_name":"c$N","path":$V}`, func(v string) error {
			_, err := raw.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("s" + unique()), Path: &v})
			return err
		}},
		"path_prefix": {"list_users", `{"path_prefix":$V}`, func(v string) error {
			_, err := raw.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: &v})
			return err
		}},
		"policy_arn": {"get_policy", `{"policy_arn":$V}`, func(v string) error {
			_, err := raw.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &v})
			return err
		}},
		"caller_arn": {"simulate_principal_policy", `{"policy_source_arn":"` + source + `","action_names":["s3:GetObject"],"caller_arn":$V}`, func(v string) error {
			_, err := raw.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(source), ActionNames: []string{"s3:GetObject"}, CallerArn: &v})
			return err
		}},
		"version_id": {"get_policy_version", `{"policy_arn":"` + readOnly + `","version_id":$V}`, func(v string) error {
			_, err := raw.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &readOnly, VersionId: &v})
			return err
		}},
		"access_key_id": {"get_access_key_last_used", `{"access_key_id":$V}`, func(v string) error {
			_, err := raw.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: &v})
			return err
		}},
		"serial_number": {"deactivate_mfa_device", `{"user_name":"source","serial_number":$V}`, func(v string) error {
			_, err := raw.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("source"), SerialNumber: &v})
			return err
		}},
	}
	r := strings.Repeat
	for _, c := range []struct {
		arg, value string
		ok         bool
	}{
		{"user_name", "alice", true},
		{"user_name", "a+b=c,d.e@f_g-h", true},
		{"user_name", r("n", 64), true},
		{"user_name", r("n", 65), false},
		{"user_name", "has space", false},
		{"user_name", "ünï", false},
		{"user_name", "a/b", false},
		{"group_name", r("g", 128), true},
		{"group_name", r("g", 129), false},
		{"role_name", r("r", 64), true},
		{"role_name", r("r", 65), false},

		{"path", "/", true},
		{"path", "/a/b/", true},
		{"path", "///", true},
		{"path", "/" + r("p", 510) + "/", true},
		{"path", "/" + r("p", 511) + "/", false},
		{"path", "//", false},
		{"path", "/a", false},
		{"path", "a/", false},
		{"path", "/a b/", false},
		{"path", "/ä/", false},
		{"path_prefix", "/", true},
		{"path_prefix", "/a", true},
		{"path_prefix", "/a\x7f", true}, // DEL, which IAM's prefix pattern takes
		{"path_prefix", "/" + r("p", 512), false},
		{"path_prefix", "a", false},
		{"path_prefix", "/a b", false},

		{"policy_arn", readOnly, true},
		{"policy_arn", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", true},
		{"policy_arn", "arn:aws:iam::123456789012:policy/a/b/P", true},
		{"policy_arn", "arn:aws-us-gov:iam::123456789012:policy/P", true},
		{"policy_arn", "arn:aws:iam::123456789012:policy/a b/P", false}, // the drift: a path with a space
		{"policy_arn", "arn:aws:iam::123456789012:policy/ä/P", false},
		{"policy_arn", "arn:aws:iam::123456789012:policy//P", false},
		{"policy_arn", "arn:aws:iam::12345678901:policy/P", false},
		{"policy_arn", "arn:aws:iam::123456789012:user/P", false},
		{"policy_arn", "arn:aws:iam::aws:policy/" + r("z", 2030), false},
		{"policy_arn", "not an arn at all", false},
		{"caller_arn", "arn:aws:iam::123456789012:user/alice", true},
		{"caller_arn", "arn:aws:iam::111122223333:role/a/b/deploy", true},
		{"caller_arn", "arn:aws:iam::123456789012:group/g", true},
		{"caller_arn", "arn:aws:iam::123456789012:user//bob", false}, // the drift: an empty path segment
		{"caller_arn", "arn:aws:iam::123456789012:user/" + r("u", 65), false},
		{"caller_arn", "arn:aws:iam::123456789012:root", false},
		{"caller_arn", "arn:aws:sts::123456789012:assumed-role/r/s", false},
		{"caller_arn", readOnly, false},

		{"version_id", "v1", true},
		{"version_id", "v12.beta-1", true},
		{"version_id", "v0", false},
		{"version_id", "1", false},
		{"access_key_id", "AKIAIOSFODNN7EXAMPLE", true},
		{"access_key_id", "AKIA_bad-key-id-xxxx", false},
		{"access_key_id", "AKIA", false},
		{"serial_number", "arn:aws:iam::123456789012:mfa/alice", true},
		{"serial_number", "short", false},
		{"serial_number", "has a space here", false},
	} {
		p := probes[c.arg]
		name := c.value
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		t.Run(c.arg+"="+name, func(t *testing.T) {
			v, _ := json.Marshal(c.value)
			before := served.Load()
			args := strings.NewReplacer("$V", string(v), "$N", unique()).Replace(p.args)
			_, err := cat.Call(ctx, p.op, json.RawMessage(args))
			var ae *api.Error
			refused := errors.As(err, &ae) && ae.Code == api.InvalidInput && strings.Contains(ae.Message, c.arg) && served.Load() == before
			if refused == c.ok {
				t.Errorf("catalogue %s: refused before any request = %v, want %v (err %v)", p.op, refused, !c.ok, err)
			}
			err = p.sdk(c.value)
			var se smithy.APIError
			refused = errors.As(err, &se) && (se.ErrorCode() == "ValidationError" || se.ErrorCode() == "InvalidInput")
			if refused == c.ok {
				t.Errorf("sandbox: refused as invalid = %v, want %v (err %v)", refused, !c.ok, err)
			}
		})
	}
}
