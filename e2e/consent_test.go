package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The protocol versions consent is tested at: the stateless generation
// (input-required results, the client retries the call) and the last one
// with initialize (the server sends elicitation/create within the call).
var consentVersions = []string{"2026-07-28", "2025-11-25"}

// person is the elicitation handler of a test client: it records each
// question and answers with what the test set.
type person struct {
	mu     sync.Mutex
	answer string
	asked  []string
}

func (p *person) say(answer string) {
	p.mu.Lock()
	p.answer = answer
	p.mu.Unlock()
}

func (p *person) questions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

func (p *person) handler(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, req.Params.Message)
	return &mcp.ElicitResult{Action: p.answer}, nil
}

// launchAsking starts a writable server under the default --confirm
// (destructive) with a client at protocol version that asks p.
func launchAsking(t *testing.T, version string, p *person, extra ...string) *server {
	t.Helper()
	s := launch(t, launchOptions{args: append([]string{"--allow-write"}, extra...), protocol: version,
		client: &mcp.ClientOptions{ElicitationHandler: p.handler}})
	if got := s.cs.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("the session runs protocol %s, want %s", got, version)
	}
	return s
}

// userExists reads the sandbox through the server.
func userExists(s *server, name string) bool {
	s.t.Helper()
	res := s.call("get_user", map[string]any{"user_name": name})
	if !res.IsError {
		return true
	}
	if !strings.HasPrefix(resultText(res), "NoSuchEntity: ") {
		s.t.Fatalf("get_user %s: %s", name, resultText(res))
	}
	return false
}

// TestConsentThroughTheClient: under the default --confirm, a destructive
// change is put to the person through the official client's elicitation
// handler, with its plan, at both protocol generations: accept runs it,
// decline and cancel change nothing and say so. A change the level does
// not cover (a create) is not asked about. The audit log records each
// answer.
func TestConsentThroughTheClient(t *testing.T) {
	t.Parallel()
	for _, version := range consentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			p := &person{}
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			s := launchAsking(t, version, p, "--audit-log", audit)
			for _, c := range []struct {
				answer, user string
				runs         bool
				say          string
			}{
				{"decline", "bob.martin", false, "Declined: the person declined delete_user; nothing was changed"},
				{"cancel", "carol.diaz", false, "Declined: the person closed the question about delete_user without answering; nothing was changed"},
				{"accept", "alice.nguyen", true, ""},
			} {
				p.say(c.answer)
				before := len(p.questions())
				res := s.call("delete_user", map[string]any{"user_name": c.user, "force": true})
				qs := p.questions()
				if len(qs) != before+1 {
					t.Fatalf("%s: the person was asked %d times", c.answer, len(qs)-before)
				}
				for _, want := range []string{"delete IAM user " + c.user, "IAM calls, in this order:", "iam:DeleteUser user/" + c.user, "Affected: ", "CANNOT be undone"} {
					if !strings.Contains(qs[len(qs)-1], want) {
						t.Errorf("the question does not show %q:\n%s", want, qs[len(qs)-1])
					}
				}
				switch {
				case c.runs && res.IsError:
					t.Errorf("accepted, the delete failed: %s", resultText(res))
				case !c.runs && (!res.IsError || resultText(res) != c.say):
					t.Errorf("%s: %s, want the tool error %q", c.answer, resultText(res), c.say)
				}
				if userExists(s, c.user) == c.runs {
					t.Errorf("%s: %s exists %v afterwards", c.answer, c.user, !c.runs)
				}
			}
			before := len(p.questions())
			ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "not.asked"})
			if len(p.questions()) != before {
				t.Errorf("a create was put to the person under --confirm destructive")
			}
			recs, _ := readAudit(t, audit)
			var answers []string
			for _, r := range recs {
				if r.Operation == "delete_user" {
					if r.Consent == nil || r.Consent.Level != "destructive" || r.Consent.Via != "elicitation" {
						t.Errorf("audit: %+v", r)
						continue
					}
					answers = append(answers, r.Consent.Answer+"/"+r.Outcome)
				}
			}
			if strings.Join(answers, " ") != "decline/refused cancel/refused accept/ok" {
				t.Errorf("audited answers: %v", answers)
			}
		})
	}
}

// TestConsentClientWithoutElicitation: a client that cannot ask the person
// is refused a destructive change, with the flag that lets it run without
// asking; nothing changes. With --confirm none the same client runs it.
func TestConsentClientWithoutElicitation(t *testing.T) {
	t.Parallel()
	for _, version := range consentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			s := launch(t, launchOptions{args: []string{"--allow-write"}, protocol: version})
			msg := fails(s, "delete_user", map[string]any{"user_name": "dan.okafor", "force": true}, api.ConsentRequired)
			for _, want := range []string{"does not support MCP elicitation", "--confirm none", "IAM_MCP_CONFIRM=none", "Nothing was changed"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the refusal does not say %q: %s", want, msg)
				}
			}
			if !userExists(s, "dan.okafor") {
				t.Error("a refused delete ran")
			}
			none := launch(t, launchOptions{args: []string{"--allow-write", "--confirm", "none"}, protocol: version})
			ok[api.DeleteOutput](none, "delete_user", map[string]any{"user_name": "dan.okafor", "force": true})
		})
	}
}

// TestConsentRequestStateTampering: a client that retries the call itself
// (the official client's automatic retry turned off) cannot approve a
// change with a requestState the server did not issue for that very call:
// forged, altered, empty, issued for another user or another tool, or
// already used. Each is asked again; the user stays. The genuine answer
// then runs the change.
func TestConsentRequestStateTampering(t *testing.T) {
	t.Parallel()
	p := &person{}
	s := launch(t, launchOptions{args: []string{"--allow-write", "--toolsets", "all"}, protocol: "2026-07-28",
		client: &mcp.ClientOptions{ElicitationHandler: p.handler, MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true}}})
	ask := func(name string, args map[string]any, state string, answer string) *mcp.CallToolResult {
		t.Helper()
		ctx, cancel := ctxT()
		defer cancel()
		params := &mcp.CallToolParams{Name: name, Arguments: args, RequestState: state}
		if answer != "" {
			params.InputResponses = mcp.InputResponseMap{"consent": &mcp.ElicitResult{Action: answer}}
		}
		res, err := s.cs.CallTool(ctx, params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	question := func(res *mcp.CallToolResult) string {
		t.Helper()
		q, isElicit := res.InputRequests["consent"].(*mcp.ElicitParams)
		if !res.NeedsInput() || !isElicit || res.RequestState == "" {
			t.Fatalf("want the consent question, got needs-input %v, requests %v, error %v: %s", res.NeedsInput(), res.InputRequests, res.IsError, resultText(res))
		}
		if !strings.Contains(q.Message, "iam:DeleteUser") && !strings.Contains(q.Message, "iam:DeleteUserPermissionsBoundary") {
			t.Errorf("the question: %s", q.Message)
		}
		return res.RequestState
	}
	alice := map[string]any{"user_name": "alice.nguyen", "force": true}
	token := question(ask("delete_user", alice, "", ""))
	other := question(ask("delete_user", map[string]any{"user_name": "bob.martin", "force": true}, "", ""))
	boundary := question(ask("delete_user_permissions_boundary", map[string]any{"user_name": "alice.nguyen"}, "", ""))
	for name, state := range map[string]string{
		"forged":             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"altered":            token[:len(token)-2] + "xy",
		"empty":              "",
		"another user's":     other,
		"another tool's":     boundary,
		"with a suffix":      token + "=",
		"in another case":    strings.ToUpper(token),
		"as a JSON document": `{"token":"` + token + `","approved":true}`,
	} {
		if res := ask("delete_user", alice, state, "accept"); !res.NeedsInput() {
			t.Errorf("a retry with %s requestState was not asked again: %s", name, resultText(res))
		}
	}
	if !userExists(s, "alice.nguyen") {
		t.Fatal("a change ran on a requestState the server did not issue for it")
	}
	if len(p.questions()) != 0 {
		t.Errorf("the client's handler was called though its retries are its own")
	}
	token = question(ask("delete_user", alice, "", ""))
	if res := ask("delete_user", alice, token, "accept"); res.IsError || res.NeedsInput() {
		t.Fatalf("the genuine answer: %s", resultText(res))
	}
	if userExists(s, "alice.nguyen") {
		t.Fatal("accepted, the user is still there")
	}
	// The used token approves nothing more, not even the same call.
	bob := map[string]any{"user_name": "bob.martin", "force": true}
	if res := ask("delete_user", bob, token, "accept"); !res.NeedsInput() {
		t.Errorf("a used requestState approved another change: %s", resultText(res))
	}
	if !userExists(s, "bob.martin") {
		t.Fatal("a replayed answer ran a change")
	}
}

// TestConsentDryRun: a dry run of a destructive tool returns its plan,
// which the official client validates against the tool's output schema
// (call checks it), changes nothing, asks nobody, and works read-only.
func TestConsentDryRun(t *testing.T) {
	t.Parallel()
	p := &person{}
	for _, s := range []*server{launchAsking(t, "2026-07-28", p), launch(t, launchOptions{protocol: "2025-11-25"})} {
		dry := ok[api.DryRunOutput](s, "delete_user", map[string]any{"user_name": "alice.nguyen", "force": true, "dry_run": true})
		if !dry.DryRun || dry.Plan.Operation != "delete_user" || len(dry.Plan.Steps) < 2 || dry.Plan.Reversible || len(dry.Plan.Affected) == 0 {
			t.Errorf("the dry run's plan: %+v", dry)
		}
		if last := dry.Plan.Steps[len(dry.Plan.Steps)-1]; last.Action != "iam:DeleteUser" {
			t.Errorf("the plan does not end with the delete: %+v", dry.Plan.Steps)
		}
		if !userExists(s, "alice.nguyen") {
			t.Fatal("a dry run deleted the user")
		}
	}
	if len(p.questions()) != 0 {
		t.Errorf("a dry run asked the person")
	}
}

// TestUnknownToolIsInvalidParams: a call to a tool the server does not
// serve is a JSON-RPC error -32602 that says what to do, as the spec says;
// the official client surfaces it as an error.
func TestUnknownToolIsInvalidParams(t *testing.T) {
	t.Parallel()
	s := start(t)
	for name, want := range map[string]string{
		"no_such_tool": `unknown tool "no_such_tool"`,
		"delete_role":  "--toolsets roles",
	} {
		_, err := s.tryCall(name, map[string]any{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "-32602") && !strings.Contains(strings.ToLower(err.Error()), "invalid params") {
			t.Errorf("calling %s: %v, want invalid params saying %s", name, err, want)
		}
	}
}

// TestClientLogNotifications: the server declares logging; after
// logging/setLevel, server log records reach the client as
// notifications/message (and stderr keeps them).
func TestClientLogNotifications(t *testing.T) {
	t.Parallel()
	got := make(chan *mcp.LoggingMessageParams, 100)
	s := launch(t, launchOptions{args: []string{"--log-level", "debug"}, protocol: "2025-11-25",
		client: &mcp.ClientOptions{LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			select {
			case got <- req.Params:
			default:
			}
		}}})
	if s.cs.InitializeResult().Capabilities.Logging == nil {
		t.Fatal("the server does not declare logging")
	}
	ctx, cancel := ctxT()
	defer cancel()
	if err := s.cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
		t.Fatal(err)
	}
	s.call("list_users", map[string]any{})
	for {
		select {
		case m := <-got:
			if d, _ := m.Data.(map[string]any); d != nil && d["message"] == "tool call" && d["tool"] == "list_users" {
				// stderr reaches the test through another pipe: wait.
				for !strings.Contains(s.stderr.String(), "tool call") {
					select {
					case <-ctx.Done():
						t.Fatal("stderr did not keep the record")
					case <-time.After(10 * time.Millisecond):
					}
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no notifications/message for the call")
		}
	}
}

// TestConsentPluginPlan: the shipped key rotation states a step's changes
// before making them; under --confirm writes the person is asked through
// the client, at both protocol generations (at 2026-07-28 the tool call
// runs again with the answer, and states the same plan), and sees the
// plugin's plan: its words marked as the plugin's, then each change. A no
// changes nothing; yes runs the step.
func TestConsentPluginPlan(t *testing.T) {
	t.Parallel()
	for _, version := range consentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			p := &person{}
			s := launchPluginsAsking(t, version, p, "--allow-write", "--confirm", "writes", "--plugins", shippedPlugins, "--cache-dir", wasmCache)
			keys := ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "ci-deploy"})
			if len(keys.AccessKeys) != 1 {
				t.Fatalf("ci-deploy's keys: %+v", keys)
			}
			rotate := func() (outcome string) {
				t.Helper()
				ctx, cancel := ctxT()
				defer cancel()
				res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "rotate_access_key", Arguments: map[string]any{
					"user_name": "ci-deploy", "access_key_id": keys.AccessKeys[0].AccessKeyID, "step": "create"}})
				if err != nil {
					t.Fatalf("rotate_access_key create: %v", err)
				}
				var answer struct {
					Outcome string `json:"outcome"`
				}
				b, _ := json.Marshal(res.StructuredContent)
				if err := json.Unmarshal(b, &answer); err != nil || res.IsError {
					t.Fatalf("rotate_access_key create: %s", resultText(res))
				}
				return answer.Outcome
			}
			p.say("decline")
			if got := rotate(); got != "declined" {
				t.Errorf("declined, the step's outcome is %q", got)
			}
			if n := len(ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "ci-deploy"}).AccessKeys); n != 1 {
				t.Errorf("declined, ci-deploy has %d keys", n)
			}
			if len(p.questions()) != 1 {
				t.Errorf("declined, the person was asked %d times", len(p.questions()))
			}
			p.say("accept")
			if got := rotate(); got != "advanced" {
				t.Errorf("accepted, the step's outcome is %q", got)
			}
			if n := len(ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "ci-deploy"}).AccessKeys); n != 2 {
				t.Errorf("accepted, ci-deploy has %d keys, want the new one beside the old", n)
			}
			qs := p.questions()
			for _, q := range qs[:2] {
				for _, want := range []string{"Plugin key-rotation (tool rotate_access_key) asks to make these 2 changes", "Purpose (the plugin's words): Rotation of",
					"Change 1 of 2: ", "iam:TagUser user/ci-deploy", "Change 2 of 2: ", "iam:CreateAccessKey user/ci-deploy"} {
					if !strings.Contains(q, want) {
						t.Errorf("the question does not show %q:\n%s", want, q)
					}
				}
			}
			// The create step's plan does not list the tag it writes once
			// the key exists (its value names the new key), so under
			// --confirm writes that change is asked about on its own.
			t.Logf("protocol %s: the person was asked %d times for one declined and one accepted create step", version, len(qs))
		})
	}
}

// launchPluginsAsking is launchAsking for a server with plugins, whose
// tools (unlike the built-in ones) may declare no output schema.
func launchPluginsAsking(t *testing.T, version string, p *person, args ...string) *server {
	t.Helper()
	s := &server{t: t, wire: &syncio.Buffer{}, stderr: &syncio.Buffer{}, secretsDir: filepath.Join(t.TempDir(), "secrets")}
	s.args = append([]string{"--sandbox", "--sandbox-seed", "demo", "--secrets-dir", s.secretsDir}, args...)
	cmd := exec.Command(serverBin, s.args...)
	cmd.Stderr = s.stderr
	transport := &mcp.LoggingTransport{Transport: &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, Writer: s.wire}
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-e2e", Version: "1.0.0"}, &mcp.ClientOptions{ElicitationHandler: p.handler})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard against a hang; plugins compile at start
	defer cancel()
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting to %s: %v\nserver stderr:\n%s", strings.Join(s.args, " "), err, s.stderr)
	}
	s.cs = cs
	t.Cleanup(s.close)
	if got := cs.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("the session runs protocol %s, want %s", got, version)
	}
	s.tools, s.inSchema, s.outSchema = map[string]*mcp.Tool{}, map[string]*jsonschema.Resolved{}, map[string]*jsonschema.Resolved{}
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		s.tools[tool.Name] = tool
		if _, builtIn := api.Lookup(tool.Name); !builtIn {
			continue
		}
		if rs, err := resolveSchema(tool.InputSchema); err == nil {
			s.inSchema[tool.Name] = rs
		}
		if rs, err := resolveSchema(tool.OutputSchema); err == nil {
			s.outSchema[tool.Name] = rs
		}
	}
	return s
}
