package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// httpConfig is serve's HTTP mode: --http ADDR and the flags that only
// apply with it. Validated by validateHTTP; servehttp.go serves it.
type httpConfig struct {
	addr            string // --http host:port; "" serves stdio
	tlsCert         string
	tlsKey          string
	tokenFile       string // --http-token-file: never a token as a flag value
	oauthIssuer     string
	oauthAudience   string // comma-separated; "" for the public URL + /mcp
	oauthJWKSURL    string // "" to discover it from the issuer
	rules           string // --http-rules FILE
	allowedHosts    string // comma-separated
	allowedOrigins  string // comma-separated
	publicURL       string // without a trailing slash; "" for scheme://the address listened on
	secretLinkTTL   time.Duration
	shutdownTimeout time.Duration

	// Derived by validateHTTP from the lists above.
	audience, hosts, origins []string
	loopback                 bool // addr's host is a loopback name or address

	// base is the public URL resolved once the server listens: --public-url,
	// or scheme://the address listened on. Set by runServeHTTP before open.
	base string
}

// Bounds of the durations: a secret link lives minutes, not a day (the
// secret waits in memory the whole time), and a shutdown that waits longer
// than a load balancer's patience helps no call.
const (
	defaultSecretLinkTTL   = 10 * time.Minute
	maxSecretLinkTTL       = time.Hour
	defaultShutdownTimeout = 30 * time.Second
	maxShutdownTimeout     = 10 * time.Minute
)

// httpOnlyFlags are the flags that mean nothing without --http, in the
// order the help lists them.
var httpOnlyFlags = []string{"tls-cert", "tls-key", "http-token-file", "oauth-issuer", "oauth-audience", "oauth-jwks-url",
	"http-rules", "http-allowed-hosts", "http-allowed-origins", "public-url", "secret-link-ttl", "shutdown-timeout"}

// flags declares serve's HTTP flags, bound to h.
func (h *httpConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&h.addr, "http", "", "")
	fs.StringVar(&h.tlsCert, "tls-cert", "", "")
	fs.StringVar(&h.tlsKey, "tls-key", "", "")
	fs.StringVar(&h.tokenFile, "http-token-file", "", "")
	fs.StringVar(&h.oauthIssuer, "oauth-issuer", "", "")
	fs.StringVar(&h.oauthAudience, "oauth-audience", "", "")
	fs.StringVar(&h.oauthJWKSURL, "oauth-jwks-url", "", "")
	fs.StringVar(&h.rules, "http-rules", "", "")
	fs.StringVar(&h.allowedHosts, "http-allowed-hosts", "", "")
	fs.StringVar(&h.allowedOrigins, "http-allowed-origins", "", "")
	fs.StringVar(&h.publicURL, "public-url", "", "")
	fs.DurationVar(&h.secretLinkTTL, "secret-link-ttl", defaultSecretLinkTTL, "")
	fs.DurationVar(&h.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "")
}

// on reports whether serve serves HTTP.
func (h *httpConfig) on() bool { return h.addr != "" }

// authName is how the ready line and the logs name the authentication.
func (h *httpConfig) authName() string {
	switch {
	case h.tokenFile != "":
		return "token"
	case h.oauthIssuer != "":
		return "oauth"
	}
	return "none"
}

// validateHTTP checks serve's HTTP flags and their combinations with the
// others; a no-op for the commands without them.
func (c *config) validateHTTP() error {
	if c.command != "serve" {
		return nil
	}
	h := &c.http
	if !c.set("http") {
		for _, f := range httpOnlyFlags {
			if c.set(f) {
				return usagef("%s only applies with --http ADDR (serving MCP over HTTP); without --http the server serves stdio", c.source(f))
			}
		}
		return nil
	}
	h.addr = strings.TrimSpace(h.addr)
	host, port, err := net.SplitHostPort(h.addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return usagef("%s %s: use host:port, such as 127.0.0.1:8080 (port 0 picks a free one)", c.source("http"), quoted(h.addr))
	}
	ip := net.ParseIP(host)
	h.loopback = host == "localhost" || (ip != nil && ip.IsLoopback())

	for _, f := range []struct{ name, value string }{{"tls-cert", h.tlsCert}, {"tls-key", h.tlsKey},
		{"http-token-file", h.tokenFile}, {"http-rules", h.rules}} {
		if c.set(f.name) && strings.TrimSpace(f.value) == "" {
			return usagef("%s needs a path", c.source(f.name))
		}
	}
	if (h.tlsCert == "") != (h.tlsKey == "") {
		return usagef("%s and %s go together (the certificate and its private key, PEM files); give both, or neither to serve plain HTTP (behind a TLS proxy, or on loopback)",
			c.source("tls-cert"), c.source("tls-key"))
	}
	if h.tokenFile != "" && h.oauthIssuer != "" {
		return usagef("%s and %s are two ways to authenticate: give one (a file of bearer tokens, or the OAuth issuer whose JWTs are accepted)",
			c.source("http-token-file"), c.source("oauth-issuer"))
	}
	if h.oauthIssuer == "" {
		for _, f := range []string{"oauth-audience", "oauth-jwks-url"} {
			if c.set(f) {
				return usagef("%s only applies with --oauth-issuer URL", c.source(f))
			}
		}
	}
	if h.oauthIssuer != "" {
		if err := checkServiceURL(h.oauthIssuer); err != nil {
			return usagef("%s %s: %v", c.source("oauth-issuer"), quoted(h.oauthIssuer), err)
		}
	}
	if h.oauthJWKSURL != "" {
		if err := checkServiceURL(h.oauthJWKSURL); err != nil {
			return usagef("%s %s: %v", c.source("oauth-jwks-url"), quoted(h.oauthJWKSURL), err)
		}
	}
	if h.audience = commaList(h.oauthAudience); c.set("oauth-audience") && len(h.audience) == 0 {
		return usagef("%s needs the audiences a token must carry, comma-separated; leave it out for the public URL + /mcp", c.source("oauth-audience"))
	}
	if !h.loopback && h.authName() == "none" {
		return usagef("%s %s listens beyond this machine, and without authentication anyone who reaches it would act with the server's AWS credentials: add --http-token-file FILE or --oauth-issuer URL, or listen on loopback (127.0.0.1:PORT)",
			c.source("http"), quoted(h.addr))
	}
	if h.rules != "" && h.authName() == "none" {
		return usagef("%s narrows the server per authenticated subject, and there is none without authentication: add --http-token-file FILE or --oauth-issuer URL",
			c.source("http-rules"))
	}
	if c.returnSecrets {
		return usagef("%s cannot be used with %s: over HTTP a secret returned inline would pass through the model to a remote person; new secrets are given as one-time links on this server instead (--secret-link-ttl)",
			c.source("return-secrets"), c.source("http"))
	}

	if h.publicURL != "" {
		u, err := url.Parse(h.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return usagef("%s %s: use the server's base URL as its clients reach it, scheme and host only, such as https://iam.example.com", c.source("public-url"), quoted(h.publicURL))
		}
		h.publicURL = u.Scheme + "://" + u.Host
	}
	if (host == "" || (ip != nil && ip.IsUnspecified())) && h.publicURL == "" {
		return usagef("%s %s listens on every interface, so the server cannot tell the URL its clients reach it at, which the secret links and the OAuth resource are made of: add --public-url URL (https://iam.example.com)",
			c.source("http"), quoted(h.addr))
	}
	if h.hosts, err = hostList(h.allowedHosts); err != nil {
		return usagef("%s: %v", c.source("http-allowed-hosts"), err)
	}
	if h.origins, err = originList(h.allowedOrigins); err != nil {
		return usagef("%s: %v", c.source("http-allowed-origins"), err)
	}
	if h.secretLinkTTL < time.Second || h.secretLinkTTL > maxSecretLinkTTL {
		return usagef("%s %s: a secret link lives from 1s to at most 1h (default 10m): long enough to fetch it, short enough that the secret does not wait in memory", c.source("secret-link-ttl"), h.secretLinkTTL)
	}
	if h.shutdownTimeout <= 0 || h.shutdownTimeout > maxShutdownTimeout {
		return usagef("%s %s: give calls in flight more than 0s and at most 10m to finish (default 30s)", c.source("shutdown-timeout"), h.shutdownTimeout)
	}
	return nil
}

// checkServiceURL accepts the URL of a service the server fetches keys
// from: https, or http on loopback only (a test's issuer, a local proxy),
// since keys fetched in the clear could be swapped on the way.
func checkServiceURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("use an https:// URL")
	}
	ip := net.ParseIP(u.Hostname())
	loopback := u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback:
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("use https:// (plain http is accepted on loopback only: keys fetched in the clear could be replaced on the way)")
	}
	return fmt.Errorf("use an https:// URL")
}

// commaList splits a comma-separated flag value, dropping empty items.
func commaList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// hostList parses --http-allowed-hosts: Host header values, host or
// host:port, no scheme or path.
func hostList(s string) ([]string, error) {
	out := commaList(s)
	for _, h := range out {
		if strings.ContainsAny(h, "/@?#* \t") || strings.HasPrefix(h, ":") {
			return nil, fmt.Errorf("%s: list Host header values, host or host:port, such as iam.example.com (no scheme, path or wildcard)", quoted(h))
		}
	}
	return out, nil
}

// originList parses --http-allowed-origins: scheme://host[:port] each.
func originList(s string) ([]string, error) {
	out := commaList(s)
	for i, o := range out {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%s: list origins, scheme://host[:port] each, such as https://chat.example.com", quoted(o))
		}
		out[i] = u.Scheme + "://" + u.Host
	}
	return out, nil
}
