package mcpserver

import (
	"net"
	"net/http"
	"time"

	"github.com/iammcp/iam-mcp-server/host/httpauth"
)

// The request headers with which a client narrows, for its own requests,
// what the operator's flags and rules allow it (never widens): as
// github-mcp-server's HTTP mode reads them.
const (
	HeaderReadOnly = "X-MCP-Readonly" // "true" (or "1"): no change may run
	HeaderToolsets = "X-MCP-Toolsets" // comma-separated toolsets
	HeaderTools    = "X-MCP-Tools"    // comma-separated tool names
	HeaderAccounts = "X-MCP-Accounts" // comma-separated account ids or aliases
)

// The paths served besides the MCP endpoint.
const (
	EndpointPath = "/mcp"
	HealthPath   = "/healthz"
	// MetadataPath is the protected-resource metadata document (RFC 9728),
	// served when the Authenticator has one (OAuth); also at
	// MetadataPath+EndpointPath, where clients derive it from the
	// endpoint's URL.
	MetadataPath = "/.well-known/oauth-protected-resource"
	// SecretPath prefixes the one-time secret links (HTTPOptions.Secrets).
	SecretPath = "/secrets/"
)

// HTTPOptions configures ServeStreamableHTTP and HTTPHandler.
type HTTPOptions struct {
	// Addr is where to listen (host:port). A host that is not loopback is
	// refused unless Auth is set.
	Addr string
	// Listener, when set, is served instead of listening on Addr (tests;
	// its address decides the loopback rule).
	Listener net.Listener
	// Auth authenticates every request but /healthz and the metadata
	// document; nil serves without authentication, on loopback only.
	Auth httpauth.Authenticator
	// Rules narrow the server per authenticated subject or claim; nil
	// narrows nothing. Checked at start against the toolsets, tools and
	// accounts the server has.
	Rules *httpauth.Rules
	// AllowedHosts are the Host header values accepted (host, or
	// host:port), against DNS rebinding. The loopback names with the
	// port listened on, and PublicURL's host, are always accepted.
	AllowedHosts []string
	// AllowedOrigins are the Origin header values accepted
	// (scheme://host[:port]). A request without Origin is accepted (it
	// is no browser's); PublicURL's origin and the loopback origins of
	// the port listened on are always accepted.
	AllowedOrigins []string
	// PublicURL is the server's base URL as its clients reach it
	// (https://iam.example.com): the resource in the metadata document
	// and the base of secret links. Empty: http(s)://Addr.
	PublicURL string
	// TLSCert and TLSKey are PEM files; both or neither. Without them the
	// server speaks plain HTTP (behind a TLS proxy, or on loopback).
	TLSCert, TLSKey string
	// ShutdownTimeout bounds how long calls in flight may finish once
	// the context ends (SIGTERM); new requests are refused meanwhile.
	// Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Secrets, when set, serves the one-time secret links under
	// SecretPath, behind the same authentication as the MCP endpoint.
	Secrets http.Handler
	// Ready, when set, is called with the address listened on, once the
	// server accepts connections.
	Ready func(net.Addr)
}

// DefaultShutdownTimeout is how long calls in flight may finish after
// SIGTERM unless HTTPOptions says otherwise.
const DefaultShutdownTimeout = 30 * time.Second

// Bounds of the HTTP server: a request's headers (a JWT is a few KB), how
// long a client may take to send them, and how long an idle keep-alive
// connection is kept. There is no write timeout: a response may be an SSE
// stream that lasts as long as the call (a plugin's progress, a consent
// question awaiting the person).
const (
	MaxHeaderBytes    = 64 << 10
	ReadHeaderTimeout = 10 * time.Second
	IdleTimeout       = 2 * time.Minute
)
