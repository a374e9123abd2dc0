package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHTTPFlags: serve's HTTP flags, from the command line and from
// their variables, with their defaults and what they derive.
func TestHTTPFlags(t *testing.T) {
	cfg, err := parse(t, nil, "serve", "--http", "127.0.0.1:0", "--sandbox")
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.http
	if !h.on() || !h.loopback || h.authName() != "none" || h.secretLinkTTL != 10*time.Minute || h.shutdownTimeout != 30*time.Second {
		t.Errorf("defaults: %+v", h)
	}

	cfg, err = parse(t, map[string]string{"IAM_MCP_HTTP": "0.0.0.0:8443", "IAM_MCP_OAUTH_ISSUER": "https://auth.example.com/",
		"IAM_MCP_PUBLIC_URL": "https://iam.example.com/", "IAM_MCP_SECRET_LINK_TTL": "5m"},
		"serve", "--oauth-audience", "https://iam.example.com/mcp, api://iam", "--http-allowed-origins", "https://chat.example.com/",
		"--http-allowed-hosts", "iam.example.com,iam.internal:8443", "--shutdown-timeout", "1m")
	if err != nil {
		t.Fatal(err)
	}
	h = cfg.http
	if h.loopback || h.authName() != "oauth" || h.oauthIssuer != "https://auth.example.com/" || h.publicURL != "https://iam.example.com" ||
		!slices.Equal(h.audience, []string{"https://iam.example.com/mcp", "api://iam"}) || !slices.Equal(h.origins, []string{"https://chat.example.com"}) ||
		!slices.Equal(h.hosts, []string{"iam.example.com", "iam.internal:8443"}) || h.secretLinkTTL != 5*time.Minute || h.shutdownTimeout != time.Minute {
		t.Errorf("parsed: %+v", h)
	}
	if cfg.from["http"] != "IAM_MCP_HTTP" {
		t.Errorf("--http from %q, want IAM_MCP_HTTP", cfg.from["http"])
	}

	// Without --http, serve is stdio as before, and the other commands
	// have no HTTP flag at all.
	if cfg, err := parse(t, nil, "serve"); err != nil || cfg.http.on() {
		t.Errorf("serve without --http: %+v %v", cfg.http, err)
	}
	for _, command := range []string{"call", "tools", "policy"} {
		if _, err := parse(t, nil, command, "--http", "127.0.0.1:0"); err == nil {
			t.Errorf("%s accepted --http", command)
		}
	}
}

// TestHTTPFlagRefusals: every combination serve --http refuses, with a
// message naming the flag (or variable) and what to do.
func TestHTTPFlagRefusals(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--tls-cert", "c.pem"}, "--tls-cert only applies with --http ADDR"},
		{nil, []string{"--watch"}, "--watch only applies with --plugins"},
		{map[string]string{"IAM_MCP_HTTP_TOKEN_FILE": "t"}, nil, "IAM_MCP_HTTP_TOKEN_FILE only applies with --http"},
		{nil, []string{"--http", "8080"}, "use host:port"},
		{nil, []string{"--http", "127.0.0.1:99999"}, "use host:port"},
		{nil, []string{"--http", "10.0.0.5:8080"}, "without authentication anyone who reaches it"},
		{nil, []string{"--http", ":8080", "--public-url", "https://iam.example.com"}, "without authentication"},
		{nil, []string{"--http", ":8080", "--http-token-file", "t"}, "add --public-url URL"},
		{nil, []string{"--http", "127.0.0.1:0", "--http-token-file", "t", "--oauth-issuer", "https://a.example"}, "give one"},
		{nil, []string{"--http", "127.0.0.1:0", "--oauth-audience", "x"}, "--oauth-audience only applies with --oauth-issuer"},
		{nil, []string{"--http", "127.0.0.1:0", "--oauth-issuer", "http://auth.example.com"}, "plain http is accepted on loopback only"},
		{nil, []string{"--http", "127.0.0.1:0", "--oauth-issuer", "https://a.example", "--oauth-jwks-url", "ftp://a.example/k"}, "--oauth-jwks-url"},
		{nil, []string{"--http", "127.0.0.1:0", "--oauth-issuer", "https://a.example", "--oauth-audience", " , "}, "needs the audiences"},
		{nil, []string{"--http", "127.0.0.1:0", "--tls-cert", "c.pem"}, "go together"},
		{nil, []string{"--http", "127.0.0.1:0", "--http-rules", "r.yaml"}, "there is none without authentication"},
		{nil, []string{"--http", "127.0.0.1:0", "--return-secrets"}, "would pass through the model to a remote person"},
		{nil, []string{"--http", "127.0.0.1:0", "--public-url", "https://iam.example.com/team"}, "scheme and host only"},
		{nil, []string{"--http", "127.0.0.1:0", "--public-url", "iam.example.com"}, "scheme and host only"},
		{nil, []string{"--http", "127.0.0.1:0", "--http-allowed-hosts", "https://iam.example.com"}, "no scheme, path or wildcard"},
		{nil, []string{"--http", "127.0.0.1:0", "--http-allowed-origins", "chat.example.com"}, "scheme://host[:port]"},
		{nil, []string{"--http", "127.0.0.1:0", "--secret-link-ttl", "2h"}, "at most"},
		{nil, []string{"--http", "127.0.0.1:0", "--secret-link-ttl", "0s"}, "from 1s"},
		{nil, []string{"--http", "127.0.0.1:0", "--shutdown-timeout", "-1s"}, "more than 0s"},
		{nil, []string{"--http", "127.0.0.1:0", "--http-token-file", ""}, "needs a path"},
	} {
		_, err := parse(t, c.env, "serve", c.args...)
		usageErr(t, err, c.want)
	}
}

// TestUsageListsEveryServeFlag: serve's help documents each of its flags,
// and no flag it does not have.
func TestUsageListsEveryServeFlag(t *testing.T) {
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z-]+)`).FindAllStringSubmatch(flagsHelp+commandUsage["serve"], -1) {
		documented[m[1]] = true
	}
	for _, name := range flagNames("serve") {
		if !documented[name] {
			t.Errorf("serve --%s is accepted but not in its usage text", name)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("--%s is in serve's usage text but not accepted", name)
	}
	for _, f := range httpOnlyFlags {
		if !strings.Contains(serveHTTPHelp, "--"+f+" ") {
			t.Errorf("serveHTTPHelp does not document --%s", f)
		}
	}
}
