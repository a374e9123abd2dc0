// Package httpauth decides who is calling a server that serves MCP over
// HTTP, and what the operator lets each caller do there.
//
// Two ways to authenticate, chosen by the operator:
//
//   - bearer tokens from a file (TokenFile): each line names a subject and
//     its token; a request's token is compared with every token in
//     constant time;
//   - OAuth 2.1, as a resource server (JWTVerifier): a JWT from the
//     operator's issuer, its signature checked against the issuer's JWKS
//     (cached; a key id not seen before refetches it, at most once every
//     30 s), its audience bound to this server, its expiry honoured.
//     The protected-resource metadata document (RFC 9728) tells MCP
//     clients which issuer to ask.
//
// The operator's rules file (Rules) then narrows the server per subject,
// or per value of a claim: read-only, toolsets, tools, accounts. Rules
// only narrow; nothing in them widens what the server's flags allow.
package httpauth

import "net/http"

// Identity is an authenticated caller.
type Identity struct {
	// Subject is the token's name in the token file, or the JWT's sub.
	Subject string
	// Via is "token" or "oauth".
	Via string
	// Claims are the JWT's claims as decoded (strings, numbers as
	// json.Number, arrays, objects); nil for a bearer token. Rules match
	// claim values from here.
	Claims map[string]any
}

// Refusal is why a request was not authenticated: the HTTP status (401
// when credentials are missing or bad, 403 when they are good but not
// enough), the error code for the WWW-Authenticate challenge
// ("invalid_request", "invalid_token", "insufficient_scope"), and a
// message for the person, which never repeats the token.
type Refusal struct {
	Status  int
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Authenticator authenticates requests.
type Authenticator interface {
	// Authenticate reads r's Authorization header (and nothing of its
	// body) and returns who sent it, or why not.
	Authenticate(r *http.Request) (*Identity, *Refusal)
	// Challenge is the WWW-Authenticate header for a refusal: the
	// scheme, the realm, the error, and for OAuth the
	// resource_metadata URL (RFC 9728 §5.1).
	Challenge(ref *Refusal) string
}

// Narrowing is what the operator's rules leave a caller of what the
// server allows. The zero value narrows nothing.
type Narrowing struct {
	// ReadOnly: the caller may not change anything.
	ReadOnly bool
	// Toolsets and Tools, when either is not nil, are the only tools the
	// caller may list and call: those of the toolsets plus the tools
	// named (a tool name may be a pattern ending in '*', as --tools
	// allows). Names are checked by the server at start (Rules.All).
	Toolsets []string
	Tools    []string
	// Accounts, when not nil, are the only accounts (ids or aliases) the
	// caller may act in.
	Accounts []string
	// Why names the rules that applied, for refusals: "the operator's
	// rules for subject alice", "… for claim groups=sec-team".
	Why string
}

// ResourceMetadata is the OAuth 2.0 Protected Resource Metadata document
// (RFC 9728) that MCP clients read to find the authorization server to
// get a token from for this server.
type ResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// MetadataProvider is an Authenticator that has a protected-resource
// metadata document to publish (the OAuth one; bearer tokens have none).
type MetadataProvider interface {
	Metadata() ResourceMetadata
}
