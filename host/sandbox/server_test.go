package sandbox

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

// post sends a raw Query request, the way a hand-written client would.
func post(t *testing.T, base string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(base, form)
	ok(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ok(t, err)
	return resp.StatusCode, string(body)
}

func TestProtocolEnvelope(t *testing.T) {
	sb := newSandbox(t, Options{})
	status, body := post(t, sb.url, url.Values{"Action": {"CreateUser"}, "Version": {"2010-05-08"}, "UserName": {"raw"}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var env struct {
		XMLName xml.Name
		Result  struct {
			User struct{ UserName, Arn string }
		} `xml:"CreateUserResult"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	ok(t, xml.Unmarshal([]byte(body), &env))
	if env.XMLName.Local != "CreateUserResponse" || env.XMLName.Space != iamNamespace {
		t.Fatalf("envelope %v", env.XMLName)
	}
	if env.Result.User.UserName != "raw" || len(env.RequestID) != 36 {
		t.Fatalf("result %+v request id %q", env.Result, env.RequestID)
	}

	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"missing action", url.Values{"Version": {"2010-05-08"}}, 400, "MissingAction"},
		{"unknown action", url.Values{"Action": {"LaunchRockets"}, "Version": {"2010-05-08"}}, 400, "InvalidAction"},
		{"wrong version", url.Values{"Action": {"ListUsers"}, "Version": {"2099-01-01"}}, 400, "InvalidAction"},
		{"missing parameter", url.Values{"Action": {"GetGroup"}, "Version": {"2010-05-08"}}, 400, "ValidationError"},
		{"bad integer", url.Values{"Action": {"ListUsers"}, "Version": {"2010-05-08"}, "MaxItems": {"ten"}}, 400, "ValidationError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, sb.url, tc.form)
			var e struct {
				XMLName xml.Name
				Type    string `xml:"Error>Type"`
				Code    string `xml:"Error>Code"`
				Message string `xml:"Error>Message"`
			}
			ok(t, xml.Unmarshal([]byte(body), &e))
			if status != tc.status || e.XMLName.Local != "ErrorResponse" || e.Code != tc.code || e.Type != "Sender" || e.Message == "" {
				t.Fatalf("got %d %+v", status, e)
			}
		})
	}
}

func TestBodyCapAndGarbage(t *testing.T) {
	sb := newSandbox(t, Options{})
	big := strings.Repeat("a", maxBodyBytes+10)
	status, body := post(t, sb.url, url.Values{"Action": {"ListUsers"}, "Version": {"2010-05-08"}, "Pad": {big}})
	if status != 413 || !strings.Contains(body, "RequestEntityTooLarge") {
		t.Fatalf("oversized body: %d %s", status, body)
	}
	resp, err := http.Post(sb.url, "application/x-www-form-urlencoded", strings.NewReader("%zz=%%%"))
	ok(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<ErrorResponse") {
		t.Fatalf("garbage body: %d %s", resp.StatusCode, b)
	}
	// The server is still fine afterwards.
	must[*iam.ListUsersOutput](t)(sb.iam.ListUsers(ctx, &iam.ListUsersInput{}))
}

func TestInProcessTransport(t *testing.T) {
	srv, err := New(Options{})
	ok(t, err)
	cfg := awsConfig(testKeyID, 1)
	cfg.HTTPClient = srv.Client()
	c := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") })
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("inproc")}))
	out := must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{}))
	if len(out.Users) != 1 {
		t.Fatalf("users %d", len(out.Users))
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")
}

func TestConcurrentRequests(t *testing.T) {
	sb := newSandbox(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				name := fmt.Sprintf("w%d-u%d", w, i)
				if _, err := sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
					errs <- err
				}
				if _, err := sb.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}); err != nil {
					errs <- err
				}
				if _, err := sb.iam.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(5)}); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n := 0
	p := iam.NewListUsersPaginator(sb.iam, &iam.ListUsersInput{})
	for p.HasMorePages() {
		out := must[*iam.ListUsersOutput](t)(p.NextPage(ctx))
		n += len(out.Users)
	}
	if n != 200 {
		t.Fatalf("want 200 users, got %d", n)
	}
}

func TestPersistenceRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iam.json")
	sb := newSandbox(t, Options{StateFile: path})
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("keeper"), Path: aws.String("/p/")}))
	must[*iam.CreateGroupOutput](t)(sb.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("team")}))
	ok(t, second(sb.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("team"), UserName: aws.String("keeper")})))
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	ok(t, second(sb.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("keeper"), PolicyName: aws.String("read"), PolicyDocument: aws.String(doc)})))

	// No temp files are left beside the state file.
	entries, err := os.ReadDir(filepath.Dir(path))
	ok(t, err)
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d entries, want only the state file", len(entries))
	}

	again := newSandbox(t, Options{StateFile: path})
	u := must[*iam.GetUserOutput](t)(again.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("keeper")}))
	if *u.User.Path != "/p/" {
		t.Fatalf("path %s", *u.User.Path)
	}
	gp := must[*iam.GetUserPolicyOutput](t)(again.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("keeper"), PolicyName: aws.String("read")}))
	if got, _ := url.QueryUnescape(*gp.PolicyDocument); got != doc {
		t.Fatalf("document after restart: %s", got)
	}
	g := must[*iam.GetGroupOutput](t)(again.iam.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("team")}))
	if len(g.Users) != 1 {
		t.Fatal("membership lost across restart")
	}
}

func TestPersistenceRefusesCorruptFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage":      "{not json",
		"wrong format": `{"format":99,"account":{}}`,
		"no account":   `{"format":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
			ok(t, os.WriteFile(path, []byte(content), 0o600))
			_, err := New(Options{StateFile: path})
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("want an error naming %s, got %v", path, err)
			}
			// The damaged file is left as it was.
			b, _ := os.ReadFile(path)
			if string(b) != content {
				t.Fatal("corrupt state file was modified")
			}
		})
	}
	unreadable := filepath.Join(dir, "dir.json")
	ok(t, os.Mkdir(unreadable, 0o700))
	if _, err := New(Options{StateFile: unreadable}); err == nil || !strings.Contains(err.Error(), unreadable) {
		t.Fatalf("want an error naming %s, got %v", unreadable, err)
	}
}

func TestFaultInjection(t *testing.T) {
	t.Run("throttling", func(t *testing.T) {
		sb := newSandbox(t, Options{Faults: Faults{ThrottleRate: 1}})
		_, err := sb.iam.ListUsers(ctx, &iam.ListUsersInput{})
		wantCode(t, err, "Throttling")
		wantStatus(t, err, 400)
	})
	t.Run("server errors", func(t *testing.T) {
		sb := newSandbox(t, Options{Faults: Faults{ErrorRate: 1}})
		_, err := sb.iam.ListUsers(ctx, &iam.ListUsersInput{})
		wantCode(t, err, "ServiceFailure")
		wantStatus(t, err, 500)
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorFault() != smithy.FaultServer {
			t.Fatalf("fault %v", ae.ErrorFault())
		}
	})
	t.Run("reproducible", func(t *testing.T) {
		pattern := func() string {
			sb := newSandbox(t, Options{Faults: Faults{ThrottleRate: 0.3, ErrorRate: 0.2, Seed: 7}})
			var b strings.Builder
			for i := 0; i < 40; i++ {
				_, err := sb.iam.ListUsers(ctx, &iam.ListUsersInput{})
				var ae smithy.APIError
				switch {
				case err == nil:
					b.WriteByte('.')
				case errors.As(err, &ae):
					b.WriteByte(ae.ErrorCode()[0])
				}
			}
			return b.String()
		}
		a, b := pattern(), pattern()
		if a != b || !strings.Contains(a, "T") || !strings.Contains(a, "S") || !strings.Contains(a, ".") {
			t.Fatalf("patterns %q %q", a, b)
		}
	})
	t.Run("sdk retries through throttling", func(t *testing.T) {
		srv, err := New(Options{Faults: Faults{ThrottleRate: 0.5, Seed: 3}})
		ok(t, err)
		cfg := awsConfig(testKeyID, 10)
		cfg.HTTPClient = srv.Client()
		c := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") })
		for i := 0; i < 5; i++ {
			must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{}))
		}
	})
	t.Run("latency", func(t *testing.T) {
		// Not a timing assertion: a request that is cancelled during the
		// injected latency returns promptly with the context's error.
		sb := newSandbox(t, Options{Faults: Faults{Latency: time.Hour}})
		cctx, cancel := contextWithTimeout(50 * time.Millisecond)
		defer cancel()
		_, err := sb.iam.ListUsers(cctx, &iam.ListUsersInput{})
		if err == nil {
			t.Fatal("want a cancelled request")
		}
	})
}
