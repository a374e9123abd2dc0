package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// lockedBuffer collects a command's stderr safely across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSandbox runs the sandbox subcommand on a free loopback port and
// returns its URL; it stops when the test ends.
func startSandbox(t *testing.T, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan int, 1)
	stderr := &lockedBuffer{}
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
		var stderr lockedBuffer
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
