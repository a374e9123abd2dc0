package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// FuzzParseConfig: any command line and environment parse to a usage
// error, help, or a config whose derived settings hold their invariants;
// the usage error as printed is one escaped, bounded line.
//
// args holds one argument per line; env one NAME=VALUE per line.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range [][2]string{
		{"--allow-write\n--readonly", ""},
		{"--confirm\nnone\n--no-confirmation", "IAM_MCP_CONFIRM=writes"},
		{"--tools\nlist_*,get_user\n--exclude-tools\nlist_users", "IAM_MCP_TOOLSETS=all"},
		{"--toolsets=users\n--tools=delete_role", ""},
		{"--exclude-tools=list_[!u]*", "IAM_MCP_ALLOW_WRITE=TRUE"},
		{"--\x1b[31m", "IAM_MCP_EXPECT_ACCOUNT="},
		{"list_users\n--sandbox\n--sandbox-seed\ndemo", "IAM_MCP_SANDBOX=1\nIAM_MCP_PROFILE=x"},
		// The old spellings, alone, mixed with the new, and misspelt.
		{"list_users\n--local\n--local-seed\ndemo", "IAM_MCP_LOCAL=1\nIAM_MCP_PROFILE=x"},
		{"--local=false\n--sandbox-state=s", "IAM_MCP_SANDBOX=1\nIAM_MCP_LOCAL_STATE=t"},
		{"--local-x", "IAM_MCP_LOCAL_SEED=demo\nIAM_MCP_SANDBOX_SEED=none"},
		{"--accounts=\n--sandbox\n--sandbox-seed=org", "IAM_MCP_ACCOUNTS=a.yaml"},
		{"--yes", "IAM_MCP_YES=1\nIAM_MCP_ARGS={}"},
		// serve --http and its flags.
		{"--http\n0.0.0.0:8443\n--public-url\nhttps://iam.example.com/\n--http-token-file\nt", "IAM_MCP_RETURN_SECRETS=1"},
		{"--http=[::1]:0\n--oauth-issuer=http://127.0.0.1:9\n--oauth-audience=,", "IAM_MCP_HTTP_ALLOWED_ORIGINS=https://a.example,x"},
		{"--tls-cert\nc.pem", "IAM_MCP_HTTP=127.0.0.1:0\nIAM_MCP_SECRET_LINK_TTL=2h"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, argLines, envLines string) {
		if len(argLines)+len(envLines) > 1<<16 {
			return
		}
		var args []string
		if argLines != "" {
			args = strings.Split(argLines, "\n")
		}
		env := map[string]string{}
		for _, l := range strings.Split(envLines, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				env[k] = v
			}
		}
		for _, command := range []string{"call", "serve"} {
			cfg, _, err := parseConfig(command, args, lookupIn(env))
			var ue *usageError
			switch {
			case errors.Is(err, flag.ErrHelp) || (err == nil && cfg.version):
				continue
			case errors.As(err, &ue):
				var out bytes.Buffer
				usageFailure(&out, command, err)
				first, _, _ := strings.Cut(out.String(), "\n")
				if utf8.RuneCountInString(first) > maxMessage+100 || !printableLine(first) {
					t.Fatalf("usage error line of %d characters, or not printable: %q", utf8.RuneCountInString(first), first)
				}
				continue
			case err != nil:
				t.Fatalf("%s: not a usage error: %v", command, err)
			}
			if cfg.readOnly != (!cfg.allowWrite || cfg.readOnlyFlag) {
				t.Fatalf("read-only %v with --allow-write %v --readonly %v", cfg.readOnly, cfg.allowWrite, cfg.readOnlyFlag)
			}
			if c, err := gate.ParseConfirm(string(cfg.confirm)); err != nil || c != cfg.confirm || (cfg.noConfirmation && c != gate.ConfirmNone) {
				t.Fatalf("confirm %q, --no-confirmation %v", cfg.confirm, cfg.noConfirmation)
			}
			if cfg.tools == nil || (cfg.plugins == "" && len(cfg.tools) == 0) {
				t.Fatalf("no tools selected: %v", cfg.tools)
			}
			offered, _ := resolveForTest(cfg.toolsets)
			for _, op := range cfg.tools {
				if !offered[op.Name] || !cfg.filter.Shows(op.Name) || cfg.excluded[op.Name] {
					t.Fatalf("%s exposed outside the selection", op.Name)
				}
			}
			for name := range cfg.excluded {
				if !cfg.filter.Excludes(name) {
					t.Fatalf("%s excluded without a pattern", name)
				}
			}
			for name, from := range cfg.from {
				if notFromEnvironment[name] && !strings.HasPrefix(from, "--") {
					t.Fatalf("--%s came from %s", name, from)
				}
			}
			for old, name := range oldSpellings {
				if cfg.set(old) {
					t.Fatalf("--%s filed under its old name, not --%s", old, name)
				}
			}
			if len(cfg.renamed) > 0 && !strings.Contains(argLines+envLines, "local") && !strings.Contains(argLines+envLines, "LOCAL") {
				t.Fatalf("warned of an old spelling not used: %q", cfg.renamed)
			}
			if cfg.yes && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(strings.TrimLeft(a, "-"), "yes") }) {
				t.Fatalf("--yes set without being on the command line: %q", args)
			}
			if h := cfg.http; h.on() {
				// Over HTTP: never beyond loopback without authentication,
				// never a secret inline, bounded durations.
				if command != "serve" || (!h.loopback && h.authName() == "none") || cfg.returnSecrets ||
					(h.tokenFile != "" && h.oauthIssuer != "") || h.secretLinkTTL <= 0 || h.secretLinkTTL > maxSecretLinkTTL ||
					h.shutdownTimeout <= 0 || h.shutdownTimeout > maxShutdownTimeout || (h.tlsCert == "") != (h.tlsKey == "") {
					t.Fatalf("an HTTP configuration that must be refused was accepted: %+v", h)
				}
			} else if cfg.set("tls-cert") || cfg.set("http-token-file") || cfg.set("oauth-issuer") || cfg.set("public-url") {
				t.Fatalf("an HTTP flag was accepted without --http: %v", cfg.from)
			}
		}
	})
}

func resolveForTest(toolsets string) (map[string]bool, error) {
	c := config{toolsets: toolsets}
	if err := c.selectTools(); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, op := range api.All() {
		out[op.Name] = false
	}
	for _, op := range c.tools {
		out[op.Name] = true
	}
	return out, nil
}

// printableLine: no control, format or invalid bytes a terminal would act
// on.
func printableLine(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.Is(unicode.Bidi_Control, r) {
			return false
		}
	}
	return true
}

// FuzzTerminalQuestion: whatever a plan holds and whatever is typed, the
// question shows only printable lines of its own, bounded, and only a
// first line saying y or yes approves.
func FuzzTerminalQuestion(f *testing.F) {
	for _, seed := range [][2]string{
		{"delete IAM user alice", "y\n"},
		{"x\x1b[2J\r\nAffects: nothing\u202e", "yes\n"},
		{"\xff\xfe", "Y \r\n"},
		{strings.Repeat("a", 400), "n\ny\n"},
		{"", "y"},
		{"\u200b\x00", "\x1by\n"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, text, typed string) {
		if len(text) > 1<<16 || len(typed) > 1<<12 {
			return
		}
		plan := &api.Plan{Operation: text, Summary: text, Steps: []api.PlanStep{{Action: text, Target: text, Detail: text}},
			Affected: []string{text, text}, Findings: []string{text}, Undo: text}
		// An account's alias may come from the organization: as much
		// outside text as a plan's.
		q := gate.Question{Summary: text, Account: gate.Account{ID: "444444444444", Alias: text},
			Changes: []gate.Proposed{{Operation: text, Plan: plan}, {Operation: text, Account: gate.Account{ID: "555555555555", Alias: text}}}}
		a, shown, err := askWith(t, context.Background(), strings.NewReader(typed), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(shown, "\n") {
			if !printableLine(l) || utf8.RuneCountInString(l) > 3*(maxShown+30)+50 {
				t.Fatalf("the question shows a line of %d characters, or not printable: %q", utf8.RuneCountInString(l), l)
			}
		}
		if lines := strings.Count(shown, "\n"); lines > 30 {
			t.Fatalf("a plan of one step showed %d lines", lines)
		}
		first, _, complete := strings.Cut(typed, "\n")
		answer := strings.ToLower(strings.TrimSpace(first))
		approve := complete && len(first) <= maxAnswer && (answer == "y" || answer == "yes")
		if (a.Decision == gate.Accept) != approve {
			t.Fatalf("typed %q: %s", typed, a.Decision)
		}
	})
}
