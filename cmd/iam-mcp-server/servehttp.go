package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/iammcp/iam-mcp-server/host/httpauth"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
)

// runServeHTTP is serve --http: MCP over Streamable HTTP until ctx ends
// (SIGINT, SIGTERM), when the server stops accepting, lets the calls in
// flight finish within --shutdown-timeout, and exits 0.
//
// It listens before anything else: with port 0, or without --public-url,
// the address listened on is the public URL, and the OAuth audience, the
// metadata document and the secret links are all made from it. Clients
// that connect meanwhile wait in the backlog until the server is ready.
func runServeHTTP(ctx context.Context, cfg config, logger *slog.Logger, clientLog *mcpserver.ClientLog, stderr io.Writer) int {
	h := &cfg.http
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "iam-mcp-server: "+format+"\n", args...)
		return 1
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", h.addr)
	if err != nil {
		return fail("cannot listen on %s (%s): %v", quoted(h.addr), cfg.source("http"), err)
	}
	// ServeStreamableHTTP closes it once it serves; until then, here.
	serving := false
	defer func() {
		if !serving {
			ln.Close()
		}
	}()
	scheme := "http"
	if h.tlsCert != "" {
		scheme = "https"
	}
	h.base = cmp.Or(h.publicURL, scheme+"://"+ln.Addr().String())
	resource := h.base + mcpserver.EndpointPath

	var auth httpauth.Authenticator // stays a nil interface without authentication
	switch {
	case h.tokenFile != "":
		tf, err := httpauth.LoadTokenFile(h.tokenFile)
		if err != nil {
			return fail("%s: %v", cfg.source("http-token-file"), err)
		}
		auth = tf
	case h.oauthIssuer != "":
		audience := h.audience
		if len(audience) == 0 {
			audience = []string{resource}
		}
		v, err := httpauth.NewJWTVerifier(ctx, httpauth.OAuthOptions{Issuer: h.oauthIssuer, Audience: audience, JWKSURL: h.oauthJWKSURL,
			ResourceURL: resource, MetadataURL: h.base + mcpserver.MetadataPath + mcpserver.EndpointPath,
			Logger: logger.With("component", "oauth")})
		if err != nil {
			return fail("%s %s: %v", cfg.source("oauth-issuer"), quoted(h.oauthIssuer), err)
		}
		auth = v
	}
	var rules *httpauth.Rules
	if h.rules != "" {
		if rules, err = httpauth.LoadRules(h.rules); err != nil {
			return fail("%s: %v", cfg.source("http-rules"), err)
		}
	}

	w, err := cfg.open(ctx, logger)
	if err != nil {
		return openFailure(stderr, cfg.command, err)
	}
	defer w.close()
	srv, pluginTools, err := cfg.newServer(w, logger, clientLog)
	if err != nil {
		return fail("%v", err)
	}
	opts := mcpserver.HTTPOptions{Addr: h.addr, Listener: ln, Auth: auth, Rules: rules, AllowedHosts: h.hosts, AllowedOrigins: h.origins,
		PublicURL: h.base, TLSCert: h.tlsCert, TLSKey: h.tlsKey, ShutdownTimeout: h.shutdownTimeout, Secrets: w.links,
		Ready: func(a net.Addr) {
			// One line on stderr whatever --log-level says: the operator
			// (and a test started on port 0) learns where to connect.
			fmt.Fprintf(stderr, "iam-mcp-server: serving MCP on %s://%s%s (auth: %s)\n", scheme, a, mcpserver.EndpointPath, h.authName())
		}}
	logger.Info("HTTP mode", "version", version, "public_url", h.base, "auth", h.authName(), "rules", h.rules != "",
		"tools", len(cfg.tools), "toolsets", cfg.toolsets, "plugin_tools", pluginTools, "readonly", cfg.readOnly, "confirm", cfg.confirm,
		"excluded", len(cfg.excluded), "sandbox", cfg.sandbox, "secret_link_ttl", h.secretLinkTTL)
	serving = true
	stopReloads := startReloads(ctx, cfg, w, srv, logger) // before w.close, deferred above
	defer stopReloads()
	if err := srv.ServeStreamableHTTP(ctx, opts); err != nil {
		return fail("%v", err)
	}
	logger.Info("HTTP server stopped")
	return 0
}
