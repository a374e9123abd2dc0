package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// parse is parseConfig of command with env as the only environment.
func parse(t *testing.T, env map[string]string, command string, args ...string) (config, error) {
	t.Helper()
	c, _, err := parseConfig(command, args, lookupIn(env))
	return c, err
}

// usageErr checks that err is a usage error whose message says want.
func usageErr(t *testing.T, err error, want string) {
	t.Helper()
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Errorf("got %v, want a usage error saying %q", err, want)
		return
	}
	if !strings.Contains(ue.msg, want) {
		t.Errorf("usage error %q does not say %q", ue.msg, want)
	}
}

// TestReadOnlyUnlessAllowWrite: the mode from --allow-write and
// --readonly, wherever each comes from; --readonly always wins, with a
// warning.
func TestReadOnlyUnlessAllowWrite(t *testing.T) {
	for _, c := range []struct {
		env      map[string]string
		args     []string
		readOnly bool
		warns    bool
	}{
		{nil, nil, true, false},
		{nil, []string{"--allow-write"}, false, false},
		{nil, []string{"--allow-write=true"}, false, false},
		{nil, []string{"--allow-write", "--readonly"}, true, true},
		{nil, []string{"--readonly"}, true, false},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "true"}, nil, false, false},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "1"}, nil, false, false},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "0"}, nil, true, false},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "false"}, nil, true, false},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": ""}, nil, true, false}, // empty is unset
		// The flag wins over its variable, in both directions.
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "true"}, []string{"--allow-write=false"}, true, false},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "false"}, []string{"--allow-write"}, false, false},
		// --readonly wins over --allow-write whichever comes from where.
		{map[string]string{"IAM_MCP_READONLY": "true"}, []string{"--allow-write"}, true, true},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "1"}, []string{"--readonly"}, true, true},
		{map[string]string{"IAM_MCP_READONLY": "1", "IAM_MCP_ALLOW_WRITE": "1"}, nil, true, true},
		// A flag saying false beats a variable saying true.
		{map[string]string{"IAM_MCP_READONLY": "1"}, []string{"--allow-write", "--readonly=false"}, false, false},
	} {
		cfg, err := parse(t, c.env, "serve", c.args...)
		if err != nil {
			t.Errorf("%v %v: %v", c.env, c.args, err)
			continue
		}
		warned := slices.ContainsFunc(cfg.warnings, func(w string) bool { return strings.Contains(w, "wins over") })
		if cfg.readOnly != c.readOnly || warned != c.warns {
			t.Errorf("%v %v: read-only %v (warned %v), want %v (warned %v)", c.env, c.args, cfg.readOnly, warned, c.readOnly, c.warns)
		}
	}
}

// TestRefusedWriteSaysHow: a refused change says how to allow changes,
// in the words of how the server was started; the warning of --readonly
// winning reaches stderr.
func TestRefusedWriteSaysHow(t *testing.T) {
	create := []string{"call", "create_user", "--sandbox", "--args", `{"user_name": "x"}`}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, "Run the command again with --allow-write (or IAM_MCP_ALLOW_WRITE=true) to allow changes"},
		{nil, []string{"--readonly"}, "The server was started with --readonly; run the command again without it and with --allow-write"},
		{nil, []string{"--readonly", "--allow-write"}, "The server was started with --readonly, which wins over --allow-write; run the command again without it"},
		{map[string]string{"IAM_MCP_READONLY": "true"}, []string{"--allow-write"}, "The server was started with IAM_MCP_READONLY, which wins over --allow-write"},
	} {
		r := cliEnv(t, c.env, "", append(slices.Clone(create), c.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "ReadOnly: create_user changes IAM") || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v %v: exit %d, stderr:\n%s\nwant it to say %q", c.env, c.args, r.code, r.stderr, c.want)
		}
		if strings.Contains(c.want, "wins over") && !strings.Contains(r.stderr, "level=WARN") {
			t.Errorf("%v %v: no warning that --readonly wins:\n%s", c.env, c.args, r.stderr)
		}
	}
	// The server's own words.
	cfg, err := parse(t, nil, "serve")
	if err != nil || cfg.readOnlyAdvice() != "Restart the server with --allow-write (or IAM_MCP_ALLOW_WRITE=true) to allow changes" {
		t.Errorf("serve's advice: %q (%v)", cfg.readOnlyAdvice(), err)
	}
	cfg, _ = parse(t, nil, "serve", "--readonly", "--allow-write")
	if cfg.readOnlyAdvice() != "The server was started with --readonly, which wins over --allow-write; restart the server without it to allow changes" {
		t.Errorf("serve --readonly --allow-write advice: %q", cfg.readOnlyAdvice())
	}
	// With --allow-write, the change runs.
	if out := mustCall[api.UserOutput](t, "create_user", "--sandbox", "--allow-write", "--args", `{"user_name": "x"}`); out.User.UserName != "x" {
		t.Errorf("create_user --allow-write: %+v", out)
	}
}

// TestConfirmFlags: --confirm, upstream's --no-confirmation, their
// variables, and contradictions between them.
func TestConfirmFlags(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want gate.Confirm
	}{
		{nil, nil, gate.ConfirmDestructive},
		{nil, []string{"--confirm", "writes"}, gate.ConfirmWrites},
		{nil, []string{"--confirm=none"}, gate.ConfirmNone},
		{nil, []string{"--no-confirmation"}, gate.ConfirmNone},
		{nil, []string{"--no-confirmation", "--confirm", "none"}, gate.ConfirmNone},
		{nil, []string{"--no-confirmation=false", "--confirm", "writes"}, gate.ConfirmWrites},
		{map[string]string{"IAM_MCP_CONFIRM": "writes"}, nil, gate.ConfirmWrites},
		{map[string]string{"IAM_MCP_NO_CONFIRMATION": "true"}, nil, gate.ConfirmNone},
		// Either flag on the command line decides the setting: neither
		// variable then counts, so none can contradict it.
		{map[string]string{"IAM_MCP_NO_CONFIRMATION": "true"}, []string{"--confirm", "destructive"}, gate.ConfirmDestructive},
		{map[string]string{"IAM_MCP_CONFIRM": "none"}, []string{"--confirm", "writes"}, gate.ConfirmWrites},
		{map[string]string{"IAM_MCP_CONFIRM": "writes"}, []string{"--no-confirmation"}, gate.ConfirmNone},
	} {
		cfg, err := parse(t, c.env, "serve", c.args...)
		if err != nil || cfg.confirm != c.want {
			t.Errorf("%v %v: %q (%v), want %q", c.env, c.args, cfg.confirm, err, c.want)
		}
	}
	_, err := parse(t, nil, "serve", "--confirm", "writes", "--no-confirmation")
	usageErr(t, err, "--no-confirmation means --confirm none, but --confirm says writes: give one of them")
	_, err = parse(t, map[string]string{"IAM_MCP_CONFIRM": "destructive", "IAM_MCP_NO_CONFIRMATION": "1"}, "serve")
	usageErr(t, err, "IAM_MCP_NO_CONFIRMATION means --confirm none, but IAM_MCP_CONFIRM says destructive")
	_, err = parse(t, nil, "serve", "--confirm", "always")
	usageErr(t, err, `--confirm: "always" is not a confirmation level`)
	_, err = parse(t, map[string]string{"IAM_MCP_CONFIRM": "None"}, "serve")
	usageErr(t, err, `IAM_MCP_CONFIRM: "None" is not a confirmation level`)
	usageFails(t, "give one of them", "call", "list_users", "--sandbox", "--confirm", "destructive", "--no-confirmation")

	// Changes without anyone's yes are said out loud, when changes can
	// happen at all.
	for _, c := range []struct {
		args  []string
		warns bool
	}{
		{[]string{"--confirm", "none", "--allow-write"}, true},
		{[]string{"--no-confirmation", "--allow-write"}, true},
		{[]string{"--confirm", "none"}, false},                                // read-only
		{[]string{"--confirm", "none", "--allow-write", "--readonly"}, false}, // read-only
		{[]string{"--confirm", "writes", "--allow-write"}, false},
	} {
		cfg, err := parse(t, nil, "serve", c.args...)
		warned := slices.ContainsFunc(cfg.warnings, func(w string) bool { return strings.Contains(w, "without a person's yes") })
		if err != nil || warned != c.warns {
			t.Errorf("%v: warned %v (%v), want %v: %q", c.args, warned, err, c.warns, cfg.warnings)
		}
	}
	r := cli(t, "", "call", "list_users", "--sandbox", "--no-confirmation", "--allow-write")
	if r.code != 0 || !strings.Contains(r.stderr, "--no-confirmation: changes, deletes included, run without a person's yes") {
		t.Errorf("--no-confirmation --allow-write: exit %d, no warning:\n%s", r.code, r.stderr)
	}
}

// TestEnvironmentEveryFlag: every flag but --version, --args and --yes is
// read from its variable, named by the rule, and nothing else is read.
func TestEnvironmentEveryFlag(t *testing.T) {
	// A valid value for each flag, so that the parse gets past it; the
	// flags a variable must not set get one too, to show it is ignored.
	values := map[string]string{
		"allow-write": "1", "readonly": "1", "confirm": "writes", "no-confirmation": "0", "toolsets": "users",
		"tools": "list_users", "exclude-tools": "delete_user", "region": "eu-west-1", "profile": "p",
		"endpoint-url": "http://127.0.0.1:1", "expect-account": "123456789012", "sandbox": "0", "sandbox-seed": "none",
		"sandbox-state": "s.json", "secrets-dir": "d", "return-secrets": "1", "allow-risky-policies": "1",
		"audit-log": "a.log", "plugins": "p.yaml", "cache-dir": "c", "log-level": "debug", "accounts": "accounts.yaml",
		"version": "1", "args": "{}", "yes": "1",
	}
	for _, name := range flagNames("call") {
		v, ok := values[name]
		if !ok {
			t.Errorf("no test value for --%s", name)
			continue
		}
		env := map[string]string{envName(name): v}
		switch name {
		case "sandbox-seed", "sandbox-state":
			env["IAM_MCP_SANDBOX"] = "1" // they only apply with --sandbox
		case "cache-dir":
			env["IAM_MCP_PLUGINS"] = "p.yaml"
		}
		cfg, err := parse(t, env, "call")
		if err != nil {
			t.Errorf("%s=%s: %v", envName(name), v, err)
			continue
		}
		got := cfg.from[name]
		if notFromEnvironment[name] {
			if got != "" || cfg.version || cfg.args != "" || cfg.yes {
				t.Errorf("%s was read (from %q): a variable must not set --%s", envName(name), got, name)
			}
			continue
		}
		if got != envName(name) {
			t.Errorf("--%s: from %q, want its variable %s", name, got, envName(name))
		}
	}
	if envName("allow-risky-policies") != "IAM_MCP_ALLOW_RISKY_POLICIES" || envName("exclude-tools") != "IAM_MCP_EXCLUDE_TOOLS" {
		t.Errorf("envName: %s, %s", envName("allow-risky-policies"), envName("exclude-tools"))
	}

	cfg, err := parse(t, map[string]string{"IAM_MCP_TOOLSETS": "all", "IAM_MCP_LOG_LEVEL": "error", "IAM_MCP_SANDBOX": "true"}, "tools", "--toolsets", "users")
	if err != nil || cfg.toolsets != "users" || cfg.logLevel.String() != "ERROR" || !cfg.sandbox {
		t.Errorf("flag over variable: toolsets %q, level %v, sandbox %v (%v)", cfg.toolsets, cfg.logLevel, cfg.sandbox, err)
	}
	// Lowercase, misspelt or foreign names are not read.
	cfg, err = parse(t, map[string]string{"iam_mcp_allow_write": "1", "IAM_MCP_ALLOW_WRITES": "1", "IAM_MCP_ALLOW-WRITE": "1", "ALLOW_WRITE": "1"}, "serve")
	if err != nil || !cfg.readOnly {
		t.Errorf("a variable not named by the rule was read: read-only %v (%v)", cfg.readOnly, err)
	}
}

// TestEnvironmentRefusals: a bad value from a variable is a usage error
// naming the variable, with at most a short prefix of the value.
func TestEnvironmentRefusals(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "yes"}, `IAM_MCP_ALLOW_WRITE="yes": use true, false, 1 or 0`},
		{map[string]string{"IAM_MCP_ALLOW_WRITE": "TRUE"}, `IAM_MCP_ALLOW_WRITE="TRUE": use true, false, 1 or 0`},
		{map[string]string{"IAM_MCP_READONLY": "t"}, `IAM_MCP_READONLY="t"`},
		{map[string]string{"IAM_MCP_READONLY": " true"}, `IAM_MCP_READONLY=" true"`},
		{map[string]string{"IAM_MCP_SANDBOX": "on"}, `IAM_MCP_SANDBOX="on"`},
		{map[string]string{"IAM_MCP_TOOLSETS": "bogus"}, `IAM_MCP_TOOLSETS: unknown toolset "bogus"`},
		{map[string]string{"IAM_MCP_LOG_LEVEL": "loud"}, "IAM_MCP_LOG_LEVEL"},
		{map[string]string{"IAM_MCP_EXPECT_ACCOUNT": ""}, "IAM_MCP_EXPECT_ACCOUNT is set but empty"},
		{map[string]string{"IAM_MCP_EXPECT_ACCOUNT": " "}, "IAM_MCP_EXPECT_ACCOUNT needs the 12-digit account id"},
		{map[string]string{"IAM_MCP_EXPECT_ACCOUNT": "12345"}, `IAM_MCP_EXPECT_ACCOUNT "12345": an AWS account id is 12 digits`},
		{map[string]string{"IAM_MCP_SANDBOX": "1", "IAM_MCP_PROFILE": "prod"}, "IAM_MCP_PROFILE cannot be used with IAM_MCP_SANDBOX"},
		{map[string]string{"IAM_MCP_SANDBOX_SEED": "demo"}, "IAM_MCP_SANDBOX_SEED only applies with --sandbox"},
		{map[string]string{"IAM_MCP_AUDIT_LOG": " "}, "IAM_MCP_AUDIT_LOG needs a path"},
		{map[string]string{"IAM_MCP_TOOLS": "lst_users"}, `IAM_MCP_TOOLS: "lst_users" matches no tool`},
		{map[string]string{"IAM_MCP_EXCLUDE_TOOLS": ",,"}, "(set by IAM_MCP_EXCLUDE_TOOLS)"},
		{map[string]string{"IAM_MCP_ENDPOINT_URL": "\x1b[31m" + strings.Repeat("x", 500)}, "IAM_MCP_ENDPOINT_URL"},
	} {
		_, err := parse(t, c.env, "call")
		usageErr(t, err, c.want)
		if err != nil && (len(err.Error()) > 400 || strings.Contains(err.Error(), "\x1b")) {
			t.Errorf("%v: the message echoes too much of the value: %q", c.env, err)
		}
	}
	// Through run: status 2, the variable named.
	r := cliEnv(t, map[string]string{"IAM_MCP_ALLOW_WRITE": "yes"}, "", "call", "list_users", "--sandbox")
	if r.code != 2 || !strings.Contains(r.stderr, "IAM_MCP_ALLOW_WRITE") {
		t.Errorf("a bad boolean variable: exit %d\n%s", r.code, r.stderr)
	}
	// A variable's empty value is unset, so the flag's default holds.
	cfg, err := parse(t, map[string]string{"IAM_MCP_TOOLSETS": "", "IAM_MCP_CONFIRM": "", "IAM_MCP_AUDIT_LOG": ""}, "serve")
	if err != nil || cfg.toolsets != "default" || cfg.confirm != gate.ConfirmDestructive || cfg.auditLog != "" || cfg.set("audit-log") {
		t.Errorf("empty variables: %+v (%v)", cfg, err)
	}
}

// TestEnvironmentEndToEnd: variables drive a real run — writes allowed,
// the audit log, the sandbox's state — and a flag overrides them.
func TestEnvironmentEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"IAM_MCP_ALLOW_WRITE": "true", "IAM_MCP_SANDBOX": "1",
		"IAM_MCP_SANDBOX_STATE": filepath.Join(dir, "state.json"), "IAM_MCP_AUDIT_LOG": filepath.Join(dir, "audit.log"),
	}
	if r := cliEnv(t, env, "", "call", "create_user", "--args", `{"user_name": "envy"}`); r.code != 0 {
		t.Fatalf("create_user from the environment: exit %d\n%s", r.code, r.stderr)
	}
	if r := cliEnv(t, env, "", "call", "get_user", "--args", `{"user_name": "envy"}`); r.code != 0 || !strings.Contains(r.stdout, `"envy"`) {
		t.Fatalf("get_user: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cliEnv(t, env, "", "call", "create_user", "--allow-write=false", "--args", `{"user_name": "flag"}`); r.code != 1 || !strings.HasPrefix(r.stderr, "ReadOnly: ") {
		t.Errorf("--allow-write=false over IAM_MCP_ALLOW_WRITE=true: exit %d\n%s", r.code, r.stderr)
	}
	r := cliEnv(t, env, "", "tools", "--sandbox=false", "--sandbox-state=x")
	if r.code != 2 || !strings.Contains(r.stderr, "--sandbox-state only applies with --sandbox") {
		t.Errorf("--sandbox=false over IAM_MCP_SANDBOX: exit %d\n%s", r.code, r.stderr)
	}
}

// TestToolFilter: --tools and --exclude-tools choose the tools listed and
// served, exclusion wins, and an excluded operation is refused to every
// caller, exposed or not.
func TestToolFilter(t *testing.T) {
	names := func(args ...string) []string {
		t.Helper()
		r := cli(t, "", append([]string{"tools"}, args...)...)
		if r.code != 0 {
			t.Fatalf("tools %v: exit %d\n%s", args, r.code, r.stderr)
		}
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			out = append(out, strings.Fields(l)[0])
		}
		return out
	}
	var wantList []string
	for _, op := range catalogue.Tools() {
		if op.Default && strings.HasPrefix(op.Name, "list_") {
			wantList = append(wantList, op.Name)
		}
	}
	if got := names("--tools", "list_*"); !slices.Equal(got, wantList) {
		t.Errorf("--tools list_*: %v, want %v", got, wantList)
	}
	got := names("--tools", "list_*, get_user", "--exclude-tools", "list_users,list_groups*")
	if slices.Contains(got, "list_users") || slices.Contains(got, "list_groups") || !slices.Contains(got, "get_user") || !slices.Contains(got, "list_roles") {
		t.Errorf("--tools list_*,get_user --exclude-tools list_users,list_groups*: %v", got)
	}
	if got := names("--toolsets", "all", "--exclude-tools", "delete_*,*_policy"); slices.ContainsFunc(got, func(n string) bool {
		return strings.HasPrefix(n, "delete_") || strings.HasSuffix(n, "_policy")
	}) || len(got) == 0 {
		t.Errorf("--exclude-tools delete_*,*_policy: %v", got)
	}
	if got := names("--tools", "list_users", "--tools", "get_user"); !slices.Equal(got, []string{"get_user"}) {
		t.Errorf("the last --tools counts, as for every flag: %v", got)
	}

	usageFails(t, `--tools: "lst_users" matches no tool`, "tools", "--tools", "lst_users")
	usageFails(t, `--exclude-tools: "delete_usr" matches no tool`, "tools", "--exclude-tools", "delete_usr")
	usageFails(t, `--tools: "nothing_*" matches no tool`, "tools", "--tools", "list_users,nothing_*,list_users") // the one that misses is named
	usageFails(t, "--tools picks from the toolsets, and what it matches is in roles, which --toolsets \"users\" does not expose: add it, as in --toolsets users,roles",
		"tools", "--toolsets", "users", "--tools", "list_users,delete_role")
	usageFails(t, "leave no tool to expose", "tools", "--tools", "list_users", "--exclude-tools", "list_*")
	usageFails(t, "leave no tool to expose", "tools", "--toolsets", "all", "--exclude-tools", "*")
	usageFails(t, "is not a valid name or glob", "tools", "--tools", "list_[")
	usageFails(t, "a class is negated with [^…] here, not [!…]", "tools", "--exclude-tools", "list_[!u]*")
	if got := names("--tools", "list_[^u]*"); slices.Contains(got, "list_users") || !slices.Contains(got, "list_roles") {
		t.Errorf("--tools list_[^u]*: %v", got)
	}
	usageFails(t, "names no tool", "tools", "--exclude-tools", " , ")
	// A pattern matching a tool outside the toolsets still counts for
	// --exclude-tools: it takes the operation away from plugins too.
	if got := names("--exclude-tools", "delete_role"); len(got) != 35 {
		t.Errorf("--exclude-tools of a tool not exposed: %d tools, want the 35 default", len(got))
	}

	// Only plugin tools selected: no built-in tool, and never nil, which
	// the MCP server would read as the default toolset.
	if cfg, err := parse(t, nil, "serve", "--tools", "hello_*", "--plugins", "p.yaml"); err != nil || cfg.tools == nil || len(cfg.tools) != 0 ||
		len(cfg.pluginPatterns) != 1 {
		t.Errorf("--tools hello_* with plugins: %d built-in tools (nil %v), %d patterns left for the plugins (%v)", len(cfg.tools), cfg.tools == nil, len(cfg.pluginPatterns), err)
	}

	// call runs whatever --toolsets and --tools expose, but never an
	// excluded operation, and the refusal is audited.
	mustCall[api.GetUserOutput](t, "get_user", "--sandbox", "--sandbox-seed", "demo", "--tools", "list_users", "--args", `{"user_name": "alice.nguyen"}`)
	audit := filepath.Join(t.TempDir(), "audit.log")
	for _, args := range [][]string{
		{"call", "list_users", "--sandbox", "--exclude-tools", "list_*"},
		{"call", "delete_role", "--sandbox", "--allow-write", "--yes", "--exclude-tools", "delete_role", "--args", `{"role_name": "r"}`},
		{"call", "delete_role", "--sandbox", "--allow-write", "--yes", "--exclude-tools", "delete_role", "--args", `{"role_name": "r", "dry_run": true}`},
	} {
		r := cli(t, "", append(args, "--audit-log", audit)...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "Excluded: ") || !strings.Contains(r.stderr, "--exclude-tools") {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	if b := readFile(t, audit); strings.Count(b, `"outcome":"refused","code":"Excluded"`) != 3 {
		t.Errorf("audit of the exclusions:\n%s", b)
	}

	// policy follows the selection.
	r := cli(t, "", "policy", "--tools", "list_users,get_user", "--allow-write")
	if r.code != 0 || !strings.Contains(r.stdout, `"iam:ListUsers"`) || strings.Contains(r.stdout, `"iam:ListRoles"`) {
		t.Errorf("policy --tools: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "", "policy", "--allow-write", "--exclude-tools", "create_user")
	if r.code != 0 || strings.Contains(r.stdout, `"iam:CreateUser"`) || !strings.Contains(r.stdout, `"iam:DeleteUser"`) {
		t.Errorf("policy --exclude-tools create_user: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHelpDocumentsEnvironment: the rule, not a list, is in the help.
func TestHelpDocumentsEnvironment(t *testing.T) {
	for _, want := range []string{"IAM_MCP_ and its name in upper", "A flag on the command line wins over its",
		"an empty variable counts as unset", "booleans take true, false, 1 or 0"} {
		if !strings.Contains(strings.Join(strings.Fields(flagsHelp), " "), want) {
			t.Errorf("flagsHelp does not say %q", want)
		}
	}
	// The help answers with status 0 whatever the environment says.
	var out, errOut strings.Builder
	if code := run(process{lookupEnv: lookupIn(map[string]string{"IAM_MCP_ALLOW_WRITE": "bogus"})}, []string{"call", "--help"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Errorf("call --help with a bad variable: exit %d\n%s", code, errOut.String())
	}
	if _, _, err := parseConfig("call", []string{"--help"}, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

// TestUsageErrorsEscaped: whatever a command line carries — an escape
// sequence in a flag's name, a huge value, a huge tool name — the usage
// error shows it escaped and cut short.
func TestUsageErrorsEscaped(t *testing.T) {
	huge := strings.Repeat("x", 100_000)
	for _, args := range [][]string{
		{"tools", "--\x1b]0;pwned\x07"},
		{"tools", "--allow-write=" + huge},
		{"tools", "--allow-write=\x1b[2J"},
		{"call", huge, "--sandbox"},
		{"call", "list_users", "\x1b[2J" + huge, "--sandbox"},
		{"tools", "--toolsets", "\x1b[2J" + huge},
		{"tools", "--tools", "\x1b[2J" + huge},
		{"plugins", "\x1b[2J" + huge},
		{"\x1b[2J" + huge},
	} {
		r := cli(t, "", args...)
		if r.code != 2 {
			t.Errorf("%.40q: exit %d", args, r.code)
		}
		if len(r.stderr) > 2000 || strings.ContainsAny(r.stderr, "\x1b\x07\r") {
			t.Errorf("%.40q: %d bytes of stderr, or raw control characters:\n%.300q", args, len(r.stderr), r.stderr)
		}
	}
}

// TestOldSandboxSpellings: --local, --local-seed and --local-state (and
// their variables), the sandbox flags' names before they were renamed,
// still work as --sandbox... do, as MCP client configurations written
// then say them; each command that uses them warns once, on stderr,
// naming the new flags; the help shows only the new; messages name what
// the operator wrote; both names of one flag at once are refused, as is
// an unknown --local-x, with the flags it may have meant.
func TestOldSandboxSpellings(t *testing.T) {
	const warning = "are deprecated"
	// The old spellings run the sandbox, with its seed, and say so once.
	r := cli(t, "", "call", "list_users", "--local", "--local-seed", "demo", "--args", `{"max_items": 2}`)
	if r.code != 0 || !strings.Contains(r.stdout, `"user_name"`) {
		t.Fatalf("call --local --local-seed demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stderr, warning); n != 1 || !strings.Contains(r.stderr, "--local is now --sandbox") || !strings.Contains(r.stderr, "--local-seed is now --sandbox-seed") {
		t.Errorf("call --local --local-seed demo: %d warnings, want one naming --sandbox and --sandbox-seed:\n%s", n, r.stderr)
	}
	state := filepath.Join(t.TempDir(), "state.json")
	if r := cli(t, "", "call", "create_user", "--local", "--local-state", state, "--allow-write", "--args", `{"user_name": "kept"}`); r.code != 0 {
		t.Fatalf("create_user --local-state: exit %d\n%s", r.code, r.stderr)
	}
	if r := cli(t, "", "call", "get_user", "--sandbox", "--sandbox-state", state, "--args", `{"user_name": "kept"}`); r.code != 0 || strings.Contains(r.stderr, warning) {
		t.Errorf("--sandbox-state reads what --local-state wrote, without a warning: exit %d\n%s", r.code, r.stderr)
	}
	r = cliEnv(t, map[string]string{"IAM_MCP_LOCAL": "1", "IAM_MCP_LOCAL_SEED": "demo"}, "", "tools")
	if r.code != 0 || strings.Count(r.stderr, warning) != 1 || !strings.Contains(r.stderr, "IAM_MCP_LOCAL is now IAM_MCP_SANDBOX") {
		t.Errorf("tools with IAM_MCP_LOCAL: exit %d, want one warning naming IAM_MCP_SANDBOX:\n%s", r.code, r.stderr)
	}

	// One setting under either name: the command line wins over either
	// variable, and a message names the spelling used.
	for _, c := range []struct {
		env  map[string]string
		args []string
		want bool
		from string
	}{
		{nil, []string{"--local"}, true, "--local"},
		{map[string]string{"IAM_MCP_SANDBOX": "1"}, []string{"--local=false"}, false, "--local"},
		{map[string]string{"IAM_MCP_LOCAL": "1"}, []string{"--sandbox=false"}, false, "--sandbox"},
		{map[string]string{"IAM_MCP_LOCAL": "true"}, nil, true, "IAM_MCP_LOCAL"},
		{map[string]string{"IAM_MCP_SANDBOX": "true", "IAM_MCP_LOCAL": ""}, nil, true, "IAM_MCP_SANDBOX"},
	} {
		cfg, err := parse(t, c.env, "serve", c.args...)
		if err != nil || cfg.sandbox != c.want || cfg.source("sandbox") != c.from || cfg.set("local") {
			t.Errorf("%v %v: sandbox %v from %q (%v), want %v from %q", c.env, c.args, cfg.sandbox, cfg.source("sandbox"), err, c.want, c.from)
		}
	}
	usageFails(t, "--profile cannot be used with --local", "call", "list_users", "--local", "--profile", "prod")
	usageFails(t, "--local-seed only applies with --sandbox", "tools", "--local-seed", "demo")
	usageFails(t, "--sandbox and --local are one flag", "tools", "--sandbox", "--local")
	usageFails(t, "--sandbox-seed and --local-seed are one flag", "tools", "--sandbox", "--local-seed", "demo", "--sandbox-seed", "none")
	_, err := parse(t, map[string]string{"IAM_MCP_SANDBOX_STATE": "a.json", "IAM_MCP_LOCAL_STATE": "b.json", "IAM_MCP_SANDBOX": "1"}, "serve")
	usageErr(t, err, "IAM_MCP_SANDBOX_STATE and IAM_MCP_LOCAL_STATE are one setting")

	// An unknown flag that looks like one of the sandbox's is refused,
	// naming the sandbox's flags.
	for _, bad := range []string{"--local-x", "--local-seeds=demo", "--sandbox-sead"} {
		usageFails(t, "unknown flag "+strings.SplitN(bad, "=", 2)[0]+"; the embedded sandbox's flags are --sandbox, --sandbox-seed NAME and --sandbox-state FILE", "call", "list_users", bad)
	}
	if r := cli(t, "", "call", "list_users", "--bogus"); r.code != 2 || strings.Contains(r.stderr, "sandbox") {
		t.Errorf("--bogus: exit %d, and the sandbox hint where it does not fit:\n%s", r.code, r.stderr)
	}

	// The help shows the new names only.
	help := cli(t, "", "--help").stdout
	for _, name := range []string{"--sandbox ", "--sandbox-seed NAME", "--sandbox-state FILE"} {
		if !strings.Contains(help, name) {
			t.Errorf("the help does not show %s", name)
		}
	}
	if strings.Contains(help+commandUsage["call"], "--local") {
		t.Errorf("the help shows an old spelling:\n%s", help)
	}
}
