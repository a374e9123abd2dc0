package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
)

// startSandbox runs the sandbox subcommand on a free loopback port and
// returns its URL; it stops when the test ends.
func startSandbox(t *testing.T, args ...string) (string, *syncio.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan int, 1)
	stderr := &syncio.Buffer{}
	go func() {
		done <- serveSandbox(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), stderr, func(u string) { urls <- u })
	}()
	select {
	case u := <-urls:
		t.Cleanup(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("sandbox exited %d: %s", code, stderr.String())
			}
		})
		return u, stderr
	case code := <-done:
		cancel()
		t.Fatalf("sandbox exited %d before listening: %s", code, stderr.String())
	}
	return "", nil
}

func sandboxClient(u string) *iam.Client {
	return iam.New(iam.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "x", ""),
		BaseEndpoint: aws.String(u),
	})
}

func TestSandboxCommandServesAndPersists(t *testing.T) {
	state := filepath.Join(t.TempDir(), "iam.json")
	u, stderr := startSandbox(t, "--seed", "demo", "--state", state)
	if !strings.Contains(stderr.String(), "aws iam list-users --endpoint-url "+u) {
		t.Errorf("no AWS CLI hint in: %s", stderr.String())
	}
	c := sandboxClient(u)
	out, err := c.ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil || len(out.Users) < 20 {
		t.Fatalf("demo users: %v %d", err, len(out.Users))
	}
	if _, err := c.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("persisted")}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(data), "persisted") {
		t.Fatalf("state file after a change: %v", err)
	}
}

func TestSandboxCommandRefusals(t *testing.T) {
	corrupt := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(corrupt, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--listen", "0.0.0.0:4599"}, 2, "not a loopback address"},
		{[]string{"--listen", "nonsense"}, 2, "not host:port"},
		{[]string{"--throttle-rate", "2"}, 2, "between 0 and 1"},
		{[]string{"--seed", "big"}, 1, "unknown seed"},
		{[]string{"--state", corrupt, "--listen", "127.0.0.1:0"}, 1, corrupt},
		{[]string{"--log-level", "loud"}, 2, "--log-level"},
		{[]string{"extra"}, 2, "unexpected argument"},
	}
	for _, tc := range cases {
		var stderr syncio.Buffer
		code := serveSandbox(context.Background(), tc.args, &stderr, nil)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
	// The corrupt file is left as it was.
	if b, _ := os.ReadFile(corrupt); string(b) != "{" {
		t.Error("a corrupt state file was overwritten")
	}
}

func TestSandboxCommandFaults(t *testing.T) {
	u, _ := startSandbox(t, "--throttle-rate", "1")
	c := iam.New(iam.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "x", ""),
		BaseEndpoint: aws.String(u), RetryMaxAttempts: 1,
	})
	_, err := c.ListUsers(context.Background(), &iam.ListUsersInput{})
	if err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("want Throttling, got %v", err)
	}
}

// rawPost sends a form POST exactly as written (Host and headers included,
// as a browser or an attacker's tool would send them) and returns the
// status and body.
func rawPost(t *testing.T, base, host string, headers []string, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang guard only
	req := "POST / HTTP/1.1\r\nHost: " + host + "\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	req += fmt.Sprintf("Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSandboxCommandRefusesWebPages: the sandbox command answers requests
// addressed to its listener (and to names allowed with --allow-host), and
// refuses what a web page can send it: a rebinding page's Host, an Origin,
// a GET that changes the account.
func TestSandboxCommandRefusesWebPages(t *testing.T) {
	u, _ := startSandbox(t, "--allow-host", "sandbox.test,alias.test", "--allow-host", "mapped.test:8080")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	form := "Content-Type: application/x-www-form-urlencoded"
	create := func(name string) string { return "Action=CreateUser&Version=2010-05-08&UserName=" + name }
	for _, tc := range []struct {
		host    string
		headers []string
		body    string
		status  int
		code    string
	}{
		{"evil.example:" + port, []string{form}, create("rebound"), 403, "InvalidHost"},
		{"127.0.0.1:" + port, []string{form, "Origin: http://evil.example"}, create("csrf"), 403, "BrowserRequestRefused"},
		{"127.0.0.1:" + port, []string{"Content-Type: text/plain"}, create("plain"), 415, "UnsupportedMediaType"},
		{"sandbox.test:" + port, []string{form}, create("named"), 200, ""},
		{"alias.test:" + port, []string{form}, create("alias"), 200, ""},
		{"mapped.test:8080", []string{form}, create("mapped"), 200, ""},
		{"localhost:" + port, []string{form}, create("local"), 200, ""},
	} {
		status, body := rawPost(t, u, tc.host, tc.headers, tc.body)
		if status != tc.status || !strings.Contains(body, tc.code) {
			t.Errorf("Host %s %v: %d %s", tc.host, tc.headers, status, body)
		}
	}
	resp, err := http.Get(u + "/?" + create("viaget"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET of CreateUser: %d", resp.StatusCode)
	}
	// The SDK works, and sees only the users the allowed requests made.
	out, err := sandboxClient(u).ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, usr := range out.Users {
		names = append(names, *usr.UserName)
	}
	if strings.Join(names, ",") != "alias,local,mapped,named" {
		t.Fatalf("users %v", names)
	}
}

func TestSandboxCommandAllowHostRefusals(t *testing.T) {
	for _, tc := range []struct {
		value string
		code  int
		want  string
	}{
		{"", 2, "empty host name"},
		{"a.test,", 2, "empty host name"},
		{"*", 1, "allowed host"},
		{"http://a.test", 1, "allowed host"},
		{"a.test:99999", 1, "port"},
	} {
		var stderr syncio.Buffer
		code := serveSandbox(context.Background(), []string{"--listen", "127.0.0.1:0", "--allow-host", tc.value}, &stderr, nil)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("--allow-host %q: exit %d, %q", tc.value, code, stderr.String())
		}
	}
}

// TestSandboxCommandOrganization serves the org seed: the startup lines
// say how to reach it (the operator's key, the accounts), the operator
// assumes a member's OrganizationAccountAccessRole over the network and
// acts in that member, and --state keeps every member beside the file.
func TestSandboxCommandOrganization(t *testing.T) {
	state := filepath.Join(t.TempDir(), "org.json")
	u, stderr := startSandbox(t, "--seed", "org", "--state", state)
	for _, want := range []string{sandbox.OrgOperatorKeyID, sandbox.OrgDevID, sandbox.OrgProdID, sandbox.OrgSharedID, sandbox.OrgAccessRoleName, "aws sts assume-role", "--endpoint-url " + u} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("startup lines do not say %s: %s", want, stderr.String())
		}
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.OrgOperatorKeyID, sandbox.OrgOperatorSecretKey, "")}
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(u) })
	out, err := stsc.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + sandbox.OrgDevID + ":role/" + sandbox.OrgAccessRoleName),
		RoleSessionName: aws.String("cmd-test"),
	})
	if err != nil {
		t.Fatalf("operator assumes into dev: %v", err)
	}
	c := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	users, err := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(u) }).ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 4 || aws.ToString(users.Users[0].Arn) != "arn:aws:iam::"+sandbox.OrgDevID+":user/dev-ci" {
		t.Fatalf("dev's users through the session: %v %+v", err, users)
	}
	for _, id := range []string{sandbox.OrgSharedID, sandbox.OrgDevID, sandbox.OrgProdID} {
		if _, err := os.Stat(state + "." + id); err != nil {
			t.Errorf("member state file: %v", err)
		}
	}
}
