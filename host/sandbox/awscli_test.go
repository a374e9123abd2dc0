package sandbox

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// TestAWSCLI drives the sandbox with the AWS CLI, a client written by
// someone else in another language, as a user following the README would.
func TestAWSCLI(t *testing.T) {
	awsBin := testenv.LookTool(t, "aws", "the machine image ships it; or apt-get install awscli")
	sb := newSandbox(t, Options{})
	home := t.TempDir()
	cli := func(args ...string) (string, string, error) {
		cmd := exec.Command(awsBin, append(args, "--endpoint-url", sb.url, "--region", "us-east-1", "--output", "json")...)
		cmd.Env = append(withoutAWSEnv(os.Environ()),
			"HOME="+home,
			"AWS_ACCESS_KEY_ID="+testKeyID,
			"AWS_SECRET_ACCESS_KEY=sandbox-secret",
			"AWS_CONFIG_FILE="+home+"/config",
			"AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials",
			"AWS_PAGER=",
		)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		out, stderr, err := cli(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return v
	}

	created := run("iam", "create-user", "--user-name", "cli-user", "--path", "/cli/")
	if created["User"].(map[string]any)["Arn"] != "arn:aws:iam::123456789012:user/cli/cli-user" {
		t.Fatalf("create-user: %v", created)
	}
	for i := 0; i < 3; i++ {
		run("iam", "create-group", "--group-name", "g"+string(rune('a'+i)))
	}
	// The CLI paginates on its own across MaxItems-sized pages.
	groups := run("iam", "list-groups", "--page-size", "1")
	if n := len(groups["Groups"].([]any)); n != 3 {
		t.Fatalf("list-groups across pages: %d groups", n)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my bucket+1"}]}`
	run("iam", "put-user-policy", "--user-name", "cli-user", "--policy-name", "p", "--policy-document", doc)
	// The CLI decodes IAM's URL-encoded documents into JSON objects.
	got := run("iam", "get-user-policy", "--user-name", "cli-user", "--policy-name", "p")
	stmt := got["PolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
	if stmt["Resource"] != "arn:aws:s3:::my bucket+1" {
		t.Fatalf("document did not round-trip: %v", got["PolicyDocument"])
	}

	// STS answers for the signing key: a key of no user is the root.
	who := run("sts", "get-caller-identity")
	if who["Account"] != "123456789012" || who["Arn"] != "arn:aws:iam::123456789012:root" {
		t.Fatalf("sts get-caller-identity: %v", who)
	}

	_, stderr, err := cli("iam", "get-user", "--user-name", "nobody")
	if err == nil || !strings.Contains(stderr, "NoSuchEntity") {
		t.Fatalf("get-user of a missing user: err=%v stderr=%s", err, stderr)
	}
}

// withoutAWSEnv drops the caller's AWS settings so the test never reads a
// real profile or credentials.
func withoutAWSEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
