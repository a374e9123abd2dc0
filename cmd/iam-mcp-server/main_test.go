package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestMain points the user's home, config and cache directories at a
// temporary directory, so that no default (secrets, sandbox keys) ever
// touches the real ones.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "iam-mcp-server-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"), "XDG_CACHE_HOME": filepath.Join(home, ".cache")} {
		os.Setenv(k, v)
	}
	// No AWS configuration from the machine running the tests.
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		os.Unsetenv(k)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// result is one command line's outcome.
type result struct {
	code           int
	stdout, stderr string
}

func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return cliEnv(t, nil, stdin, args...)
}

// cliEnv runs a command line with env as its only environment variables.
func cliEnv(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(process{lookupEnv: lookupIn(env)}, args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// lookupIn is os.LookupEnv over env alone.
func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// mustCall runs `call` and decodes its JSON output.
func mustCall[T any](t *testing.T, args ...string) T {
	t.Helper()
	r := cli(t, "", append([]string{"call"}, args...)...)
	if r.code != 0 {
		t.Fatalf("call %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("call %v: output is not the JSON result: %v\n%s", args, err, r.stdout)
	}
	return v
}

// usageFails checks a usage error: exit 2, one line saying what is wrong,
// then the synopsis; nothing on stdout and no Go trace.
func usageFails(t *testing.T, want string, args ...string) {
	t.Helper()
	r := cli(t, "", args...)
	if r.code != 2 {
		t.Errorf("%v: exit %d, want 2 (usage error)\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
		return
	}
	first, rest, _ := strings.Cut(r.stderr, "\n")
	if !strings.Contains(first, want) {
		t.Errorf("%v: first line %q does not say %q", args, first, want)
	}
	if !strings.Contains(rest, "Usage: iam-mcp-server") {
		t.Errorf("%v: no usage after the error:\n%s", args, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("%v: a usage error printed on stdout: %s", args, r.stdout)
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		t.Errorf("%v: a trace on stderr:\n%s", args, r.stderr)
	}
}

func TestCallListUsers(t *testing.T) {
	out := mustCall[api.ListUsersOutput](t, "list_users", "--sandbox", "--sandbox-seed", "demo")
	if len(out.Users) == 0 {
		t.Fatal("list_users on the demo seed printed no users")
	}
	r := cli(t, "", "call", "list_users", "--sandbox", "--sandbox-seed", "demo")
	if !strings.HasPrefix(r.stdout, "{\n  \"users\": [") {
		t.Errorf("the result is not indented JSON:\n%.200s", r.stdout)
	}
	if empty := mustCall[api.ListUsersOutput](t, "list_users", "--sandbox"); len(empty.Users) != 0 {
		t.Errorf("--sandbox without a seed starts with %d users, want an empty account", len(empty.Users))
	}
}

// TestCallFlagsAnywhere: flags before and after the tool name.
func TestCallFlagsAnywhere(t *testing.T) {
	for _, args := range [][]string{
		{"list_users", "--sandbox", "--args", `{"max_items": 2}`, "--sandbox-seed", "demo"},
		{"--sandbox", "list_users", "--sandbox-seed=demo", "--args={\"max_items\": 2}"},
		{"--sandbox", "--sandbox-seed", "demo", "--args", `{"max_items": 2}`, "list_users"},
		{"--sandbox", "--sandbox-seed", "demo", "--args", `{"max_items": 2}`, "--", "list_users"},
	} {
		out := mustCall[api.ListUsersOutput](t, args...)
		if len(out.Users) != 2 || !out.IsTruncated {
			t.Errorf("%v: %d users (truncated %v), want 2 of more", args, len(out.Users), out.IsTruncated)
		}
	}
}

func TestCallArgsFromFileAndStdin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "args.json")
	if err := os.WriteFile(file, []byte(`{"max_items": 1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustCall[api.ListUsersOutput](t, "list_users", "--sandbox", "--sandbox-seed", "demo", "--args", "@"+file); len(out.Users) != 1 {
		t.Errorf("--args @file: %d users, want 1", len(out.Users))
	}
	r := cli(t, `{"max_items": 3}`, "call", "list_users", "--args", "-", "--sandbox", "--sandbox-seed", "demo")
	var out api.ListUsersOutput
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || len(out.Users) != 3 {
		t.Errorf("--args -: exit %d, %d users\n%s%s", r.code, len(out.Users), r.stdout, r.stderr)
	}
	usageFails(t, "no-such-file.json", "call", "list_users", "--sandbox", "--args", "@"+filepath.Join(t.TempDir(), "no-such-file.json"))
}

// TestCallToolError: an operation's failure is "<Code>: <message>" on
// stderr and exit status 1.
func TestCallToolError(t *testing.T) {
	for _, c := range []struct {
		code api.ErrorCode
		args []string
	}{
		{api.NoSuchEntity, []string{"call", "get_user", "--sandbox", "--args", `{"user_name": "nobody"}`}},
		{api.InvalidInput, []string{"call", "get_user", "--sandbox"}},
		{api.ReadOnly, []string{"call", "create_user", "--sandbox", "--readonly", "--args", `{"user_name": "x"}`}},
		{api.WrongAccount, []string{"call", "list_users", "--sandbox", "--expect-account", "000000000000"}},
	} {
		r := cli(t, "", c.args...)
		if r.code != 1 {
			t.Errorf("%v: exit %d, want 1\n%s", c.args, r.code, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, string(c.code)+": ") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: stderr %q, want one line starting %s: ", c.args, r.stderr, c.code)
		}
		if r.stdout != "" {
			t.Errorf("%v: a failure printed on stdout: %s", c.args, r.stdout)
		}
	}
	// The right account passes.
	mustCall[api.ListUsersOutput](t, "list_users", "--sandbox", "--expect-account", "123456789012")
}

func TestUsageErrors(t *testing.T) {
	usageFails(t, "which tool", "call", "--sandbox")
	usageFails(t, `unknown tool "list_user"`, "call", "list_user", "--sandbox")
	usageFails(t, `unexpected argument "extra"`, "call", "list_users", "extra", "--sandbox")
	usageFails(t, "unknown flag --bogus", "call", "list_users", "--bogus")
	usageFails(t, "unknown flag --bogus", "--bogus")
	usageFails(t, "unknown flag --args", "tools", "--args", "{}")
	usageFails(t, "flag needs an argument: --toolsets", "tools", "--toolsets")
	usageFails(t, `unknown toolset "bogus"`, "tools", "--toolsets", "users,bogus")
	usageFails(t, `unknown toolset "bogus"`, "--toolsets", "bogus")
	usageFails(t, "--profile cannot be used with --sandbox", "call", "list_users", "--sandbox", "--profile", "prod")
	usageFails(t, "--region and --endpoint-url cannot be used with --sandbox", "call", "list_users", "--sandbox", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:1")
	usageFails(t, "--sandbox-seed only applies with --sandbox", "call", "list_users", "--sandbox-seed", "demo")
	usageFails(t, "--sandbox-state only applies with --sandbox", "tools", "--sandbox-state", "x.json")
	usageFails(t, `--sandbox-seed "big"`, "call", "list_users", "--sandbox", "--sandbox-seed", "big")
	usageFails(t, "12 digits", "call", "list_users", "--sandbox", "--expect-account", "12345")
	usageFails(t, "--endpoint-url", "call", "list_users", "--endpoint-url", "localhost:4599")
	usageFails(t, "--log-level", "call", "list_users", "--sandbox", "--log-level", "loud")
	usageFails(t, "not valid JSON", "call", "list_users", "--sandbox", "--args", "{user_name: x}")
	usageFails(t, "must be a JSON object", "call", "list_users", "--sandbox", "--args", "[]")
	usageFails(t, "--audit-log needs a path", "call", "list_users", "--sandbox", "--audit-log", "")
	usageFails(t, `unexpected argument "now"`, "policy", "now")
	usageFails(t, `unexpected argument "x"`, "serve", "x")

	r := cli(t, "", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d\n%s", r.code, r.stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := cli(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "iam-mcp-server call TOOL") || !strings.Contains(r.stdout, "--readonly") {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stdout)
		}
	}
	for _, cmd := range []string{"serve", "call", "tools", "policy"} {
		r := cli(t, "", cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, commandUsage[cmd]) || !strings.Contains(r.stdout, "--toolsets") {
			t.Errorf("%s --help: exit %d\n%s", cmd, r.code, r.stdout)
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}, {"call", "list_users", "--version"}, {"tools", "--version"}} {
		r := cli(t, "", args...)
		if r.code != 0 || r.stdout != "iam-mcp-server "+version+"\n" {
			t.Errorf("%v: exit %d, %q", args, r.code, r.stdout)
		}
	}
}

// TestUsageListsEveryFlag: the hand-written help names every flag the
// parser accepts, and nothing it does not.
func TestUsageListsEveryFlag(t *testing.T) {
	help := flagsHelp + commandUsage["call"]
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z-]+)`).FindAllStringSubmatch(help, -1) {
		documented[m[1]] = true
	}
	for _, cmd := range []string{"serve", "call"} {
		_, _, err := parseConfig(cmd, []string{"--help"}, nil)
		if err == nil {
			t.Fatalf("%s --help: no ErrHelp", cmd)
		}
	}
	names := flagNames("call")
	if len(names) < 24 {
		t.Fatalf("call has %d flags: %v", len(names), names)
	}
	for _, name := range names {
		if !documented[name] {
			t.Errorf("--%s is accepted but not in the usage text", name)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("--%s is in the usage text but not accepted", name)
	}
}

// flagNames lists a command's flags, as its parser declares them, but
// the old spellings (oldSpellings), which the help does not show.
func flagNames(command string) []string {
	c := config{command: command}
	fs, _, _ := c.flagSet()
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if _, old := oldSpellings[f.Name]; !old {
			names = append(names, f.Name)
		}
	})
	return names
}

func TestTools(t *testing.T) {
	r := cli(t, "", "tools")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 35 {
		t.Fatalf("tools: exit %d, %d lines, want 35\n%s", r.code, len(lines), r.stdout)
	}
	if f := strings.Fields(lines[0]); !slices.Equal(f, []string{"list_users", "users", "read"}) {
		t.Errorf("first line %q, want list_users users read", lines[0])
	}
	r = cli(t, "", "tools", "--toolsets", "all", "--readonly")
	lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(catalogue.Tools()) {
		t.Fatalf("tools --toolsets all: %d lines, want %d", len(lines), len(catalogue.Tools()))
	}
	for i, op := range catalogue.Tools() {
		f := strings.Fields(lines[i])
		kind := "read"
		if op.Mutates {
			kind = "write"
		}
		if !slices.Equal(f, []string{op.Name, string(op.Toolset), kind}) {
			t.Errorf("line %d %q, want %s %s %s", i, lines[i], op.Name, op.Toolset, kind)
		}
	}
	r = cli(t, "", "tools", "--toolsets", "simulation,account")
	want := `simulate_principal_policy               simulation  read
get_account_authorization_details       account     read
get_account_password_policy             account     read
get_account_summary                     account     read
generate_service_last_accessed_details  account     read
get_service_last_accessed_details       account     read
list_entities_for_policy                account     read
get_policy_version                      account     read
get_account_info                        account     read
describe_organization                   account     read
`
	if r.stdout != want {
		t.Errorf("tools --toolsets simulation,account:\n%s", r.stdout)
	}
}

func TestPolicy(t *testing.T) {
	decode := func(args ...string) iamPolicy {
		t.Helper()
		r := cli(t, "", append([]string{"policy"}, args...)...)
		var p iamPolicy
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil {
			t.Fatalf("policy %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		if p.Version != "2012-10-17" || len(p.Statement) != 1 || p.Statement[0].Effect != "Allow" || p.Statement[0].Resource != "*" {
			t.Fatalf("policy %v: not one Allow statement on *: %+v", args, p)
		}
		a := p.Statement[0].Action
		if !slices.IsSorted(a) || len(slices.Compact(slices.Clone(a))) != len(a) {
			t.Errorf("policy %v: actions not sorted and unique: %v", args, a)
		}
		return p
	}
	readActions := map[string]bool{}
	for _, op := range catalogue.Tools() {
		if !op.Mutates {
			for _, a := range op.IAMActions {
				readActions[a] = true
			}
		}
	}

	full := decode("--toolsets", "all", "--allow-write")
	for _, op := range catalogue.Tools() {
		for _, a := range op.IAMActions {
			if !slices.Contains(full.Statement[0].Action, a) {
				t.Errorf("policy --toolsets all lacks %s (%s)", a, op.Name)
			}
		}
	}
	ro := decode("--readonly", "--toolsets", "all", "--allow-write")
	for _, a := range ro.Statement[0].Action {
		// A read-only server still plans changes (dry_run): the reads a
		// planner makes are allowed, never a write.
		if !readActions[a] && !reads(a) {
			t.Errorf("policy --readonly allows %s, which only mutating operations use, and which is no read", a)
		}
	}
	for _, a := range []string{"iam:ListSigningCertificates", "iam:GetLoginProfile", "iam:ListMFADevices"} {
		if !slices.Contains(ro.Statement[0].Action, a) {
			t.Errorf("policy --readonly lacks %s, which a dry run of delete_user makes", a)
		}
	}
	for _, a := range []string{"iam:CreateUser", "iam:DeleteRole", "iam:PutUserPolicy", "iam:CreateAccessKey"} {
		if slices.Contains(ro.Statement[0].Action, a) {
			t.Errorf("policy --readonly allows %s", a)
		}
	}
	if !slices.Contains(ro.Statement[0].Action, "iam:ListUsers") || !slices.Contains(ro.Statement[0].Action, "sts:GetCallerIdentity") {
		t.Errorf("policy --readonly lacks iam:ListUsers or sts:GetCallerIdentity: %v", ro.Statement[0].Action)
	}
	def := decode()
	if slices.Contains(def.Statement[0].Action, "iam:DeleteRole") {
		t.Error("the default policy allows iam:DeleteRole, but delete_role is not a default tool")
	}
	// Read-only by default: no write action unless writes are allowed.
	if slices.Contains(def.Statement[0].Action, "iam:CreateUser") {
		t.Error("the default policy allows iam:CreateUser, but the server is read-only without --allow-write")
	}
	if w := decode("--allow-write"); !slices.Contains(w.Statement[0].Action, "iam:CreateUser") {
		t.Error("policy --allow-write lacks iam:CreateUser")
	}
	r := cli(t, "", "policy")
	if !strings.HasPrefix(r.stdout, "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",") {
		t.Errorf("policy layout:\n%.200s", r.stdout)
	}
}

// TestSandboxStateAndAudit: --sandbox-state keeps the sandbox between runs;
// --audit-log appends one 0600 line per decided call, refusals included.
func TestSandboxStateAndAudit(t *testing.T) {
	dir := t.TempDir()
	state, audit := filepath.Join(dir, "state.json"), filepath.Join(dir, "audit.log")
	common := []string{"--sandbox", "--sandbox-state", state, "--audit-log", audit, "--allow-write"}
	mustCall[api.UserOutput](t, append([]string{"create_user", "--args", `{"user_name": "kept"}`}, common...)...)
	mustCall[api.GetUserOutput](t, append([]string{"get_user", "--args", `{"user_name": "kept"}`}, common...)...)
	if r := cli(t, "", append([]string{"call", "delete_user", "--readonly", "--args", `{"user_name": "kept"}`}, common...)...); r.code != 1 {
		t.Errorf("delete_user --readonly: exit %d", r.code)
	}
	mustCall[api.GetUserOutput](t, append([]string{"get_user", "--args", `{"user_name": "kept"}`}, common...)...)

	st, err := os.Stat(audit)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(audit)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 {
		t.Fatalf("audit log: %d lines, want 4\n%s", len(lines), b)
	}
	var rec struct{ Caller, Tool, Operation, Outcome string }
	if err := json.Unmarshal([]byte(lines[2]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Caller != "cli" || rec.Operation != "delete_user" || rec.Outcome != "refused" {
		t.Errorf("audit line for the refusal: %+v", rec)
	}
}

// TestSecrets: a new key's secret goes to --secrets-dir, not stdout; the
// sandbox's default directory is apart from the real one.
func TestSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	state := filepath.Join(t.TempDir(), "state.json")
	common := []string{"--sandbox", "--sandbox-state", state, "--secrets-dir", dir, "--allow-write"}
	mustCall[api.UserOutput](t, append([]string{"create_user", "--args", `{"user_name": "keyed"}`}, common...)...)
	r := cli(t, "", append([]string{"call", "create_access_key", "--args", `{"user_name": "keyed"}`}, common...)...)
	if r.code != 0 {
		t.Fatalf("create_access_key: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(strings.ToLower(r.stdout), "secret_access_key\": \"") {
		t.Errorf("the secret reached stdout:\n%s", r.stdout)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("secrets dir holds %v, want one file", files)
	}
	if !strings.Contains(r.stdout, files[0]) {
		t.Errorf("the result does not give the secret's path %s:\n%s", files[0], r.stdout)
	}

	real, err := config{}.secretsDirectory()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := config{sandbox: true}.secretsDirectory()
	if err != nil {
		t.Fatal(err)
	}
	if real == sb || !strings.Contains(sb, "local-secrets") {
		t.Errorf("secrets dirs: AWS %s, sandbox %s", real, sb)
	}
}

// TestServe: the default command serves MCP on the streams it is given, to
// mcp-go's client, and exits 0 when its input closes.
func TestServe(t *testing.T) {
	s := startServe(t, mcp.LATEST_PROTOCOL_VERSION, "--sandbox", "--sandbox-seed", "demo", "--readonly", "--log-level", "info")
	c, ctx, stderr, res := s.Client, s.ctx, s.stderr, s.init
	if res.ServerInfo.Name != "iam-mcp-server" || res.ServerInfo.Version != version {
		t.Errorf("serverInfo %+v", res.ServerInfo)
	}
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil || len(tools.Tools) != 35 {
		t.Fatalf("tools/list: %v, %d tools", err, len(tools.Tools))
	}
	call := mcp.CallToolRequest{}
	call.Params.Name = "create_user"
	call.Params.Arguments = map[string]any{"user_name": "x"}
	out, err := c.CallTool(ctx, call)
	if err != nil || !out.IsError {
		t.Fatalf("create_user --readonly: %v %+v", err, out)
	}
	if tc, _ := out.Content[0].(mcp.TextContent); !strings.HasPrefix(tc.Text, "ReadOnly: ") {
		t.Errorf("create_user --readonly: %q", tc.Text)
	}
	call.Params.Name = "list_users"
	call.Params.Arguments = nil
	if out, err = c.CallTool(ctx, call); err != nil || out.IsError {
		t.Fatalf("list_users: %v %+v", err, out)
	}
	s.stop(t)
	if !strings.Contains(stderr.String(), "serving MCP on stdio") {
		t.Errorf("no start-up log at --log-level info:\n%s", stderr)
	}
}

// TestPluginsUsage: the plugins subcommands and flags refuse what they
// cannot do, as usage errors (status 2); a plugins file that cannot be read
// stops with status 1 and says which. (Loading real plugins is tested end
// to end, in e2e, where they are built.)
func TestPluginsUsage(t *testing.T) {
	usageFails(t, "which one? plugins list or plugins inspect", "plugins")
	usageFails(t, `unknown subcommand "remove"`, "plugins", "remove")
	usageFails(t, "Name the plugins file with --plugins FILE", "plugins", "list")
	usageFails(t, "which module?", "plugins", "inspect")
	usageFails(t, "--cache-dir only applies with --plugins", "tools", "--cache-dir", t.TempDir())
	usageFails(t, "--plugins needs a path", "call", "list_users", "--plugins", "")
	usageFails(t, "plugin tools need --plugins FILE", "call", "hello_users_per_path")
	for _, args := range [][]string{{"plugins", "--help"}, {"plugins", "list", "--help"}, {"plugins", "inspect", "--help"}} {
		r := cli(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: iam-mcp-server plugins") {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stdout)
		}
	}

	missing := filepath.Join(t.TempDir(), "nope.yaml")
	for _, args := range [][]string{
		{"plugins", "list", "--plugins", missing},
		{"tools", "--plugins", missing},
		{"call", "list_users", "--sandbox", "--plugins", missing},
		{"serve", "--sandbox", "--plugins", missing},
		{"policy", "--plugins", missing},
	} {
		r := cli(t, "", args...)
		if r.code != 1 || !strings.Contains(r.stderr, missing) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, want 1 and one line naming the file:\n%s", args, r.code, r.stderr)
		}
	}
	bad := filepath.Join(t.TempDir(), "plugins.yaml")
	os.WriteFile(bad, []byte("plugins:\n  - name: x\n    path: x.wasm\n    sha256: "+strings.Repeat("0", 64)+"\n    grant: [read]\n"), 0o600)
	if r := cli(t, "", "plugins", "list", "--plugins", bad); r.code != 1 || !strings.Contains(r.stderr, `"grant"`) {
		t.Errorf("a misspelt key: exit %d\n%s", r.code, r.stderr)
	}
	if r := cli(t, "", "plugins", "inspect", missing); r.code != 1 || !strings.Contains(r.stderr, missing) {
		t.Errorf("inspect of a missing module: exit %d\n%s", r.code, r.stderr)
	}
}

// TestPolicyWithPlugins: the operations granted to plugins count in the
// least-privilege policy ("read" for every read-only operation).
func TestPolicyWithPlugins(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plugins.yaml")
	os.WriteFile(file, []byte("plugins:\n  - name: x\n    path: x.wasm\n    sha256: "+strings.Repeat("0", 64)+"\n    grants: [create_user, list_users]\n"), 0o600)
	r := cli(t, "", "policy", "--toolsets", "account", "--plugins", file, "--allow-write")
	if r.code != 0 || !strings.Contains(r.stdout, `"iam:CreateUser"`) || !strings.Contains(r.stdout, `"iam:ListUsers"`) {
		t.Errorf("policy --plugins: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "", "policy", "--toolsets", "account", "--plugins", file, "--allow-write", "--readonly")
	if r.code != 0 || strings.Contains(r.stdout, `"iam:CreateUser"`) || !strings.Contains(r.stdout, `"iam:ListUsers"`) {
		t.Errorf("policy --plugins --readonly: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
