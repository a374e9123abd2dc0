// Command iam-mcp-demo is the scripted session `make demo` shows a
// newcomer: it starts the built server on the embedded sandbox with the demo
// organisation and --allow-write, exactly as an MCP client would (the
// official Go SDK's client, over stdio, with an elicitation handler standing
// in for the person), and narrates a few calls: the tools, the account, its
// users, an administrator without MFA, what principals may do; then changes:
// one that needs no yes, a dry run, a destructive change the person accepts
// and one they decline, each question shown as the client got it. A second
// server with the default flags refuses a write (read-only unless
// --allow-write) and runs the two shipped plugins (plugins.yaml): the access
// review's report and a key rotation plan. A third, on the sandbox's AWS
// Organization (--sandbox-seed org), lists the accounts it reaches, calls a
// tool in a member account, is refused one it does not reach, and reviews
// every account at once.
//
// It builds nothing: `make demo` builds the server and the plugins first
// (or pass --server PATH and --plugins FILE). It exits
// 0 when every step worked and 1, saying which step failed, otherwise.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func main() {
	server := flag.String("server", "bin/iam-mcp-server", "the iam-mcp-server `binary` to run")
	plugins := flag.String("plugins", "plugins.yaml", "the plugins `file` that loads access-review and key-rotation (built by make plugins)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: iam-mcp-demo [--server PATH]\n\nRuns a short scripted MCP session against iam-mcp-server on its embedded IAM sandbox.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, os.Stdout, *server, *plugins); err != nil {
		fmt.Fprintf(os.Stderr, "\niam-mcp-demo: FAILED: %v\n", err)
		os.Exit(1)
	}
}

// Demo account facts (host/sandbox/seed.go).
const (
	userArn = "arn:aws:iam::123456789012:user"
	admin   = "alice.nguyen"
)

func run(ctx context.Context, w io.Writer, server, plugins string) error {
	if _, err := os.Stat(server); err != nil {
		return fmt.Errorf("cannot run the server %s: %v; run `make build` first, or pass --server PATH", server, err)
	}
	if _, err := os.Stat(plugins); err != nil {
		return fmt.Errorf("cannot read the plugins file %s: %v; run the demo from the repository root with `make demo` (it builds the plugins), or pass --plugins FILE", plugins, err)
	}
	p := &printer{w: w}
	p.title("IAM MCP server — a scripted session")
	p.para(fmt.Sprintf(`This demo talks to the server the way an MCP client (Claude Desktop, Cursor, VS Code, …)
does: it starts

    %s --sandbox --sandbox-seed demo --allow-write

and speaks MCP over the server's stdin and stdout. --sandbox runs an IAM sandbox inside the
server: no AWS account and no credentials are needed, and nothing leaves your machine.
--sandbox-seed demo fills it with Acme Corp, a small organisation with some security
problems planted for you to find. --allow-write lets the server change IAM at all (it is
read-only without it); destructive changes are still put to you, the person at the
client, before they run.`, server))

	you := &person{p: p}
	s, err := connect(ctx, server, you, "--allow-write")
	if err != nil {
		return err
	}
	defer s.close()

	// 1. Tools.
	init := s.cs.InitializeResult()
	var names []string
	for tool, err := range s.cs.Tools(ctx, nil) {
		if err != nil {
			return s.fail("tools/list", err)
		}
		names = append(names, tool.Name)
	}
	p.step(1, "What can the assistant do?", "tools/list")
	p.line("Connected to %s %s (MCP protocol %s).", init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion)
	p.line("It offers %d tools, among them:", len(names))
	for _, n := range []string{"list_users", "get_user", "create_role", "attach_user_policy", "simulate_principal_policy", "get_account_info"} {
		if contains(names, n) {
			p.line("  • %s", n)
		}
	}
	p.line("(--toolsets all exposes every operation; the default keeps the list short for clients that cap it.)")

	// 2. Account.
	acct, err := call[api.AccountInfoOutput](ctx, s, "get_account_info", nil)
	if err != nil {
		return err
	}
	p.step(2, "Which AWS account is this?", "get_account_info")
	p.line("Account %s (alias %q), acting as %s.", acct.AccountID, acct.AccountAlias, acct.CallerArn)
	p.line("An assistant should check this before changing anything.")

	// 3. Users.
	users, err := call[api.ListUsersOutput](ctx, s, "list_users", map[string]any{"max_items": 5})
	if err != nil {
		return err
	}
	p.step(3, "Who is in it?", `list_users {"max_items": 5}`)
	tw := p.table()
	for _, u := range users.Users {
		fmt.Fprintf(tw, "  %s\t%s\tcreated %s\n", u.UserName, u.Path, u.CreateDate.Format("2006-01-02"))
	}
	tw.flush()
	if users.IsTruncated {
		p.line("  … and more: the result says is_truncated, and its marker reads the next page.")
	}

	// 4. The planted administrator.
	alice, err := call[api.GetUserOutput](ctx, s, "get_user", map[string]any{"user_name": admin})
	if err != nil {
		return err
	}
	p.step(4, "A closer look at one user", `get_user {"user_name": "`+admin+`"}`)
	tw = p.table()
	fmt.Fprintf(tw, "  groups:\t%s\n", orNone(groupNames(alice.Groups)))
	fmt.Fprintf(tw, "  attached policies:\t%s\n", orNone(policyNames(alice.AttachedPolicies)))
	fmt.Fprintf(tw, "  inline policies:\t%s\n", orNone(alice.InlinePolicies))
	fmt.Fprintf(tw, "  access keys:\t%d\n", len(alice.AccessKeys))
	tw.flush()
	p.para(`Why it matters: the Admins group carries AdministratorAccess, so alice may do anything in
the account, and the demo organisation gave her a console password but no MFA device.
Whoever learns or phishes that one password owns the whole account. An access review should
flag her first: require MFA, or take her out of Admins. (list_mfa_devices, in the
credentials toolset, shows she has none.)`)

	// 5. Simulation.
	p.step(5, "What may they do? (nothing is changed)", "simulate_principal_policy")
	tw = p.table()
	for _, c := range []struct{ who, path, action, why string }{
		{admin, "/eng/", "iam:CreateUser", "AdministratorAccess allows everything"},
		{"grace.kim", "/data/", "s3:GetObject", "DataScience reads the data lake"},
		{"grace.kim", "/data/", "iam:CreateUser", "no policy allows it: implicit deny"},
		{"carol.diaz", "/eng/", "iam:CreateUser", "her permissions boundary has an explicit Deny"},
	} {
		resource := "*"
		if strings.HasPrefix(c.action, "s3:") {
			resource = "arn:aws:s3:::acme-data-lake/reports/q3.csv"
		}
		sim, err := call[api.SimulateOutput](ctx, s, "simulate_principal_policy", map[string]any{
			"policy_source_arn": userArn + c.path + c.who, "action_names": []string{c.action}, "resource_arns": []string{resource},
		})
		if err != nil {
			return err
		}
		if len(sim.EvaluationResults) != 1 {
			return fmt.Errorf("simulate_principal_policy %s %s: %d results, want 1", c.who, c.action, len(sim.EvaluationResults))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t(%s)\n", c.who, c.action, sim.EvaluationResults[0].Decision, c.why)
	}
	tw.flush()

	if err := changeSteps(ctx, p, s, you); err != nil {
		return err
	}
	if err := s.close(); err != nil {
		return fmt.Errorf("the server did not exit cleanly: %v%s", err, s.stderrTail())
	}

	// 9. Read-only, the default.
	ro, err := connect(ctx, server, nil, "--plugins", plugins)
	if err != nil {
		return err
	}
	defer ro.close()
	p.step(9, "Without --allow-write, the server is read-only", `restart without it (and with --plugins), then create_user {"user_name": "mallory"}`)
	res, err := ro.callTool(ctx, "create_user", map[string]any{"user_name": "mallory"})
	if err != nil {
		return err
	}
	text := resultText(res)
	if !res.IsError || !strings.HasPrefix(text, string(api.ReadOnly)+":") || !strings.Contains(text, "--allow-write") {
		return fmt.Errorf("create_user on a server started without --allow-write was not refused with ReadOnly naming --allow-write: %s", text)
	}
	p.line("Refused, before any call to IAM:")
	p.line("  %s", text)
	if _, err := call[api.GetUserOutput](ctx, ro, "get_user", map[string]any{"user_name": "mallory"}); err == nil {
		return errors.New("mallory exists after a refused create_user")
	}
	if _, err := call[api.AccountInfoOutput](ctx, ro, "get_account_info", nil); err != nil {
		return err
	}
	p.para(`This is how the server starts unless the operator adds --allow-write: the tools stay listed,
their descriptions saying they are disabled, so the assistant can tell you why it cannot
act; reads and dry runs work as before. Every caller passes the same gate.`)

	if err := pluginSteps(ctx, p, ro, plugins); err != nil {
		return err
	}
	if err := ro.close(); err != nil {
		return fmt.Errorf("the read-only server did not exit cleanly: %v%s", err, ro.stderrTail())
	}

	if err := orgSteps(ctx, p, server, plugins); err != nil {
		return err
	}

	p.title("Done")
	p.para(`The sandbox lived in memory and is gone. Next: "make test" runs every test; the README
shows how to add the server to your MCP client, with --sandbox or with your AWS profile.`)
	return nil
}

// changeSteps shows the server changing IAM: a change that needs nobody's
// yes, the plan of a destructive one (a dry run), then that change put to
// the person, who accepts, and another, which they decline.
func changeSteps(ctx context.Context, p *printer, s *session, you *person) error {
	const tester = "demo.tester"
	p.step(6, "A change, planned before it is made", `create_user and add_user_to_group for `+tester+`, then delete_user {..., "dry_run": true}`)
	asked := you.count()
	if _, err := call[api.UserOutput](ctx, s, "create_user", map[string]any{"user_name": tester, "path": "/demo/"}); err != nil {
		return err
	}
	if _, err := call[api.Result](ctx, s, "add_user_to_group", map[string]any{"group_name": "Support", "user_name": tester}); err != nil {
		return err
	}
	if you.count() != asked {
		return errors.New("the server asked before a change that is not destructive; with the default --confirm destructive it should not")
	}
	p.line("Created %s in the Support group: changes that destroy nothing run without a question", tester)
	p.line("(--confirm writes would ask before those too; --confirm none never asks).")
	p.line("")
	del := map[string]any{"user_name": tester, "force": true}
	dry, err := call[api.DryRunOutput](ctx, s, "delete_user", withArg(del, api.ArgDryRun, true))
	if err != nil {
		return err
	}
	if !dry.DryRun || len(dry.Plan.Steps) == 0 {
		return fmt.Errorf("delete_user with dry_run: true did not answer a plan: %+v", dry)
	}
	p.line("The dry run's answer: %s", dry.Message)
	p.plan(dry.Plan)
	if _, err := call[api.GetUserOutput](ctx, s, "get_user", map[string]any{"user_name": tester}); err != nil {
		return fmt.Errorf("%s is gone after a dry run: %v", tester, err)
	}
	p.para(`Any tool that changes IAM takes dry_run: true: the server checks the change with reads and
the guardrails and answers its plan, changing nothing — even on a read-only server.`)

	p.step(7, "A destructive change: you are asked, and say yes", `delete_user {"user_name": "`+tester+`", "force": true}`)
	you.next("accept")
	res, err := s.callTool(ctx, "delete_user", del)
	if err != nil {
		return err
	}
	if you.count() != asked+1 {
		return fmt.Errorf("delete_user ran without asking the person (%d questions)", you.count()-asked)
	}
	if res.IsError {
		return fmt.Errorf("delete_user, accepted: %s", resultText(res))
	}
	var deleted api.DeleteOutput
	if err := structured(res, &deleted); err != nil {
		return err
	}
	if _, err := call[api.GetUserOutput](ctx, s, "get_user", map[string]any{"user_name": tester}); err == nil {
		return fmt.Errorf("%s still exists after an accepted delete_user", tester)
	}
	p.line("Outcome: %s", deleted.Message)
	p.para(`The question comes from the server, through the client, to you: the model cannot answer it
(the AWS Labs server's "confirmed" argument, which the model can set, is accepted and
ignored). What runs is exactly the plan you saw.`)

	keys, err := call[api.ListAccessKeysOutput](ctx, s, "list_access_keys", map[string]any{"user_name": "ci-deploy"})
	if err != nil {
		return err
	}
	if len(keys.AccessKeys) != 1 {
		return fmt.Errorf("ci-deploy has %d access keys, the demo organisation gives it one", len(keys.AccessKeys))
	}
	key := keys.AccessKeys[0].AccessKeyID
	p.step(8, "Another: you say no", `delete_access_key {"user_name": "ci-deploy", "access_key_id": "`+key+`"}`)
	p.line("ci-deploy's key is 420 days old, but the CI pipeline signs with it every day.")
	you.next("decline")
	res, err = s.callTool(ctx, "delete_access_key", map[string]any{"user_name": "ci-deploy", "access_key_id": key})
	if err != nil {
		return err
	}
	text := resultText(res)
	if you.count() != asked+2 || !res.IsError || !strings.HasPrefix(text, string(api.Declined)+":") {
		return fmt.Errorf("delete_access_key, declined: %d questions, result %s", you.count()-asked-1, text)
	}
	after, err := call[api.ListAccessKeysOutput](ctx, s, "list_access_keys", map[string]any{"user_name": "ci-deploy"})
	if err != nil {
		return err
	}
	if len(after.AccessKeys) != 1 || after.AccessKeys[0].AccessKeyID != key {
		return errors.New("ci-deploy's key changed after the person declined its deletion")
	}
	p.line("Outcome: %s", text)
	p.line("The key is still there. A rotation (step 11) replaces it without breaking the pipeline.")
	return nil
}

func withArg(args map[string]any, key string, v any) map[string]any {
	out := map[string]any{key: v}
	for k, x := range args {
		out[k] = x
	}
	return out
}

// person stands in for the person at the client: it shows each question
// the server asks through MCP elicitation, as a client would, and gives
// the answer the script chose.
type person struct {
	p      *printer
	mu     sync.Mutex
	answer string // the next answer: accept or decline; "" expects none
	asked  int
}

func (y *person) next(answer string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.answer = answer
}

func (y *person) count() int {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.asked
}

// ask is the client's elicitation handler.
func (y *person) ask(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.asked++
	a := y.answer
	y.answer = ""
	if a == "" {
		// A question the script did not expect: no is the safe answer.
		a = "decline"
	}
	y.p.line("The client shows you the server's question (MCP elicitation):")
	y.p.excerpt(req.Params.Message, 30)
	y.p.line("You answer: %s", a)
	return &mcp.ElicitResult{Action: a}, nil
}

// pluginSteps shows the shipped plugins on the read-only server: they are
// Wasm modules the operator loaded with --plugins, granted only what
// plugins.yaml lists, and they reach IAM through the same gate.
func pluginSteps(ctx context.Context, p *printer, ro *session, plugins string) error {
	p.step(10, "An access review, from a plugin", "access_review {}  (plugin access-review, loaded from "+plugins+")")
	res, err := ro.callTool(ctx, "access_review", map[string]any{})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("access_review failed: %s%s", resultText(res), ro.stderrTail())
	}
	var review struct {
		Header struct {
			IAMCalls int `json:"iam_calls"`
			Reviewed struct {
				Users, Groups, Roles int
				Policies             int `json:"managed_policies"`
			} `json:"reviewed"`
		} `json:"header"`
		Summary struct {
			Total int `json:"total"`
		} `json:"summary"`
		Markdown string `json:"markdown"`
	}
	if err := structured(res, &review); err != nil {
		return err
	}
	h := review.Header
	p.line("It reviewed %d users, %d groups, %d roles and %d managed policies with %d IAM calls (bulk reads,",
		h.Reviewed.Users, h.Reviewed.Groups, h.Reviewed.Roles, h.Reviewed.Policies, h.IAMCalls)
	p.line("not one per principal), and found %d problems. The start of its report:", review.Summary.Total)
	p.excerpt(review.Markdown, 40)

	p.step(11, "Keys due for rotation, and a rotation plan", "plan_key_rotation {}, then rotate_access_key {... \"step\": \"plan\"}")
	res, err = ro.callTool(ctx, "plan_key_rotation", map[string]any{})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("plan_key_rotation failed: %s%s", resultText(res), ro.stderrTail())
	}
	p.excerpt(resultText(res), 20)
	keys, err := call[api.ListAccessKeysOutput](ctx, ro, "list_access_keys", map[string]any{"user_name": "ci-deploy"})
	if err != nil {
		return err
	}
	if len(keys.AccessKeys) == 0 {
		return errors.New("ci-deploy has no access key to plan a rotation for")
	}
	res, err = ro.callTool(ctx, "rotate_access_key", map[string]any{"user_name": "ci-deploy", "access_key_id": keys.AccessKeys[0].AccessKeyID, "step": "plan"})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("rotate_access_key plan failed: %s%s", resultText(res), ro.stderrTail())
	}
	p.line("")
	p.excerpt(resultText(res), 30)
	p.para(`The server is read-only, so the rotation stops at its plan: each step is a separate call
that checks its preconditions first, and the new secret would go to a 0600 file, never into
the conversation. With --allow-write, "rotate_access_key ... step: create" takes the next
step once you approve the plan it puts to you.`)
	return nil
}

// orgSteps shows one server for an AWS Organization: the sandbox's org
// seed, whose members the server reaches by discovery with no accounts
// file, every tool's account argument, the allowlist, and the access
// review of every account at once.
func orgSteps(ctx context.Context, p *printer, server, plugins string) error {
	org, err := connect(ctx, server, nil, "--sandbox-seed", "org", "--plugins", plugins)
	if err != nil {
		return err
	}
	defer org.close()
	p.step(12, "An AWS Organization: many accounts, one server", "restart with --sandbox-seed org, then get_account_info")
	info, err := call[api.AccountInfoOutput](ctx, org, "get_account_info", nil)
	if err != nil {
		return err
	}
	if len(info.Accounts) < 2 {
		return fmt.Errorf("get_account_info on the organisation lists %d accounts, want the management account and its members", len(info.Accounts))
	}
	p.line("The server's credentials are the management account's; it reaches each member through")
	p.line("the role every member has (discovery), each with its own mode:")
	tw := p.table()
	for _, a := range info.Accounts {
		mode, via := "read-only", a.Via
		if !a.ReadOnly {
			mode = "writes allowed"
		}
		if a.Self {
			via = "the server's own credentials"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s, confirm %s\t%s\n", a.ID, a.Alias, mode, a.Confirm, via)
	}
	tw.flush()
	p.para(`With real AWS the operator lists the accounts in a file (--accounts FILE: a role to assume or
a profile per account, and its mode), or asks for discovery with include and exclude lists.`)

	p.step(13, "Every tool takes an account", `list_users {"account": "acme-dev"}, then {"account": "999999999999"}`)
	users, err := call[api.ListUsersOutput](ctx, org, "list_users", map[string]any{"account": "acme-dev"})
	if err != nil {
		return err
	}
	var names []string
	for _, u := range users.Users {
		names = append(names, u.UserName)
	}
	p.line("acme-dev's users: %s", strings.Join(names, ", "))
	res, err := org.callTool(ctx, "list_users", map[string]any{"account": "999999999999"})
	if err != nil {
		return err
	}
	if text := resultText(res); !res.IsError || !strings.HasPrefix(text, string(api.AccountNotAllowed)+":") {
		return fmt.Errorf("list_users in an account the server does not reach was not refused with AccountNotAllowed: %s", text)
	}
	p.line("An account the operator did not list is refused before any call:")
	p.excerpt(resultText(res), 4)
	p.line("The audit log names the account and the role session (iam-mcp.list_users) of every call.")

	p.step(14, "An access review of the whole organisation", `access_review {"accounts": ["*"]}`)
	res, err = org.callTool(ctx, "access_review", map[string]any{"accounts": []string{"*"}})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("access_review over the organisation failed: %s%s", resultText(res), org.stderrTail())
	}
	var review struct {
		Header struct {
			IAMCalls int `json:"iam_calls"`
		} `json:"header"`
		Accounts []struct {
			ID string `json:"account_id"`
		} `json:"accounts"`
		Findings []struct {
			RuleID    string `json:"rule_id"`
			Severity  string `json:"severity"`
			Principal string `json:"principal"`
			Title     string `json:"title"`
		} `json:"findings"`
	}
	if err := structured(res, &review); err != nil {
		return err
	}
	if len(review.Findings) == 0 {
		return errors.New("the organisation review found nothing across accounts; the org seed plants a chain dev → shared → prod")
	}
	p.line("It reviewed %d accounts with %d IAM calls in all (a handful per account, the accounts read",
		len(review.Accounts), review.Header.IAMCalls)
	p.line("side by side), applied each account's SCPs, and found across accounts:")
	tw = p.table()
	for _, f := range review.Findings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Severity, f.Principal, f.Title)
	}
	tw.flush()
	p.para(`The chain from a dev user through a shared-services role to prod's administrator is found by
evaluating each sts:AssumeRole hop (trust policy, the caller's own policies, its account's
SCPs). The same escalation is planted in two accounts; only the one no SCP blocks is reported.`)
	if err := org.close(); err != nil {
		return fmt.Errorf("the organisation's server did not exit cleanly: %v%s", err, org.stderrTail())
	}
	return nil
}

// structured decodes a tool result's structured content.
func structured(res *mcp.CallToolResult, v any) error {
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// ---- the MCP session ----

type session struct {
	args   []string
	cs     *mcp.ClientSession
	stderr *syncio.Buffer
	closed bool
}

// connect starts the server with extra flags and opens a session with it;
// with a person, the client declares elicitation and the person answers
// the server's questions.
func connect(ctx context.Context, server string, you *person, extra ...string) (*session, error) {
	s := &session{args: append([]string{"--sandbox", "--sandbox-seed", "demo"}, extra...), stderr: &syncio.Buffer{}}
	cmd := exec.Command(server, s.args...)
	cmd.Env = withoutServerEnv(os.Environ())
	cmd.Stderr = s.stderr
	var opts *mcp.ClientOptions
	if you != nil {
		opts = &mcp.ClientOptions{ElicitationHandler: you.ask}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-demo", Version: "1.0.0"}, opts)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 3 * time.Second}, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot start an MCP session with %s %s: %v%s", server, strings.Join(s.args, " "), err, s.stderrTail())
	}
	s.cs = cs
	return s, nil
}

// withoutServerEnv drops the IAM_MCP_* variables, which the server reads as
// flags: the demo shows the defaults and the flags it names, whatever the
// shell running it has set.
func withoutServerEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "IAM_MCP_") {
			out = append(out, kv)
		}
	}
	return out
}

func (s *session) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.cs.Close()
}

func (s *session) fail(what string, err error) error {
	return fmt.Errorf("%s: %v%s", what, err, s.stderrTail())
}

func (s *session) stderrTail() string {
	t := strings.TrimSpace(s.stderr.String())
	if t == "" {
		return ""
	}
	if len(t) > 2000 {
		t = "…" + t[len(t)-2000:]
	}
	return "\nserver log:\n" + t
}

func (s *session) callTool(ctx context.Context, tool string, args any) (*mcp.CallToolResult, error) {
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return nil, s.fail(tool, err)
	}
	return res, nil
}

// call runs a tool that must succeed and decodes its structured result.
func call[T any](ctx context.Context, s *session, tool string, args any) (T, error) {
	var v T
	res, err := s.callTool(ctx, tool, args)
	if err != nil {
		return v, err
	}
	if res.IsError {
		return v, fmt.Errorf("%s: %s", tool, resultText(res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil || res.StructuredContent == nil {
		return v, fmt.Errorf("%s: no structured result", tool)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%s: unexpected result %s: %v", tool, b, err)
	}
	return v, nil
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// ---- output ----

type printer struct{ w io.Writer }

func (p *printer) title(s string) {
	fmt.Fprintf(p.w, "\n%s\n%s\n", s, strings.Repeat("=", len([]rune(s))))
}

func (p *printer) step(n int, title, call string) {
	fmt.Fprintf(p.w, "\n%d. %s\n   → %s\n", n, title, call)
}

func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p.w, "   "+format+"\n", args...)
}

// plan prints a change's plan.
func (p *printer) plan(pl api.Plan) {
	p.line("  %s:", pl.Summary)
	for i, st := range pl.Steps {
		p.line("    %d. %s %s", i+1, st.Action, st.Target)
	}
	p.line("  affected: %s", strings.Join(pl.Affected, ", "))
	for _, f := range pl.Findings {
		p.line("  guardrails: %s", f)
	}
	if pl.Reversible {
		p.line("  can be undone: %s", pl.Undo)
	} else {
		p.line("  cannot be undone: %s", pl.Undo)
	}
}

func (p *printer) para(s string) {
	for _, l := range strings.Split(s, "\n") {
		if l == "" {
			fmt.Fprintln(p.w)
			continue
		}
		fmt.Fprintf(p.w, "   %s\n", l)
	}
}

// excerpt prints the first max lines of a text, indented, saying how much
// was left out.
func (p *printer) excerpt(text string, max int) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if i == max {
			fmt.Fprintf(p.w, "   │ … (%d more lines)\n", len(lines)-max)
			break
		}
		fmt.Fprintf(p.w, "   │ %s\n", l)
	}
}

// table lines up rows; flush prints them indented like the step.
func (p *printer) table() *table {
	t := &table{p: p}
	t.Writer = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

type table struct {
	*tabwriter.Writer
	p   *printer
	buf bytes.Buffer
}

func (t *table) flush() {
	t.Writer.Flush()
	t.p.para(strings.TrimRight(t.buf.String(), "\n"))
	t.buf.Reset()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func groupNames(gs []api.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.GroupName)
	}
	return out
}

func policyNames(ps []api.AttachedPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.PolicyName)
	}
	return out
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	return strings.Join(list, ", ")
}
