package sandbox

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// TestAWSCLIOrganization drives the org seed with the AWS CLI as an
// operator would: `aws sts assume-role` with the operator's key, and a
// profile with role_arn and source_profile, whose commands act in the
// member account as the assumed role. The endpoint is AWS_ENDPOINT_URL,
// which the CLI applies to every client it makes, the assume-role
// credential provider's STS client included (--endpoint-url would reach
// the command's own client only).
func TestAWSCLIOrganization(t *testing.T) {
	awsBin := testenv.LookTool(t, "aws", "the machine image ships it; or apt-get install awscli")
	srv, err := New(Options{Seed: "org"})
	ok(t, err)
	// A listener like `iam-mcp-server sandbox --seed org`'s.
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	home := t.TempDir()
	config := "[profile operator]\nregion = us-east-1\n\n" +
		"[profile dev-admin]\nrole_arn = arn:aws:iam::" + OrgDevID + ":role/" + OrgAccessRoleName + "\nsource_profile = operator\nrole_session_name = cli-test\nregion = us-east-1\n"
	creds := "[operator]\naws_access_key_id = " + OrgOperatorKeyID + "\naws_secret_access_key = " + OrgOperatorSecretKey + "\n"
	ok(t, os.WriteFile(filepath.Join(home, "config"), []byte(config), 0o600))
	ok(t, os.WriteFile(filepath.Join(home, "credentials"), []byte(creds), 0o600))
	cli := func(profile string, args ...string) (map[string]any, string, error) {
		cmd := exec.Command(awsBin, append(args, "--profile", profile, "--output", "json")...)
		cmd.Env = append(withoutAWSEnv(os.Environ()),
			"HOME="+home,
			"AWS_ENDPOINT_URL="+hs.URL,
			"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
			"AWS_PAGER=",
		)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return nil, errb.String(), err
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out.String()), &v); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return v, errb.String(), nil
	}
	run := func(profile string, args ...string) map[string]any {
		t.Helper()
		v, stderr, err := cli(profile, args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return v
	}

	out := run("operator", "sts", "assume-role", "--role-arn", "arn:aws:iam::"+OrgProdID+":role/"+OrgAccessRoleName, "--role-session-name", "by-hand")
	user := out["AssumedRoleUser"].(map[string]any)
	if user["Arn"] != "arn:aws:sts::444444444444:assumed-role/"+OrgAccessRoleName+"/by-hand" {
		t.Fatalf("assume-role: %v", out)
	}
	if id, _ := out["Credentials"].(map[string]any)["AccessKeyId"].(string); !strings.HasPrefix(id, "ASIA") {
		t.Fatalf("assume-role credentials: %v", out["Credentials"])
	}

	// The profile with role_arn: the CLI assumes the role itself.
	who := run("dev-admin", "sts", "get-caller-identity")
	if who["Account"] != OrgDevID || who["Arn"] != "arn:aws:sts::333333333333:assumed-role/"+OrgAccessRoleName+"/cli-test" {
		t.Fatalf("get-caller-identity through the profile: %v", who)
	}
	users := run("dev-admin", "iam", "list-users")
	var names []string
	for _, u := range users["Users"].([]any) {
		names = append(names, u.(map[string]any)["UserName"].(string))
	}
	if strings.Join(names, ",") != "dev-ci,dev-engineer,dev-intern,dev-reader" {
		t.Fatalf("list-users in dev: %v", names)
	}

	// A refusal reaches the CLI as STS words it.
	_, stderr, err := cli("operator", "sts", "assume-role", "--role-arn", "arn:aws:iam::"+OrgProdID+":role/prod-admin", "--role-session-name", "x1")
	if err == nil || !strings.Contains(stderr, "AccessDenied") || !strings.Contains(stderr, "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444444444444:role/prod-admin") {
		t.Fatalf("refused assume-role: err=%v stderr=%s", err, stderr)
	}
}
