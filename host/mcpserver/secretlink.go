package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// One-time secret links (host/secretlink) over MCP.
//
// Over HTTP a new key's secret waits on the server behind a one-time link
// for the caller, and create_access_key's result names the link (never the
// secret). A link is not a secret by itself (it needs the caller's
// credentials too), but it is still better handed to the person than to
// the model: when the client declared URL elicitation at initialize, the
// server sends it the link in an elicitation/create of mode "url", and the
// result the model sees then has no link, only the word that the person
// got it. Otherwise — stdio, a 2026-07-28 request (which has no server
// requests), a client without URL elicitation, or a person who declined —
// the link stays in the result, whose message says how to fetch it.
// Plugin tool results keep the link: the plugin's own result is its
// author's to shape.

// SecretLinkElicitTimeout bounds how long a create_access_key call waits
// for the client to answer the URL elicitation; past it, the link stays in
// the result. A guard against a client that never answers, not a
// measure of speed.
const SecretLinkElicitTimeout = 2 * time.Minute

// canElicitURL reports whether the client of the request in ctx declared
// URL elicitation at initialize (protocol versions before 2026-07-28; a
// 2026-07-28 request cannot be sent a server request at all).
func (cc *clientCaps) canElicitURL(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return false
	}
	caps, ok := cc.ofSession(ctx)
	return ok && caps.Elicitation != nil && caps.Elicitation.URL != nil
}

// handOverSecretLink is called with a built-in tool's result: when it is
// a new key whose secret waits behind a link and the client can show the
// person a URL, it sends the link there and returns the result without
// it; otherwise it returns out as it is.
func (s *Server) handOverSecretLink(ctx context.Context, out any) any {
	k, ok := out.(*api.CreateAccessKeyOutput)
	if !ok || k.SecretLink == "" || !s.clients.canElicitURL(ctx) {
		return out
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return out
	}
	ectx, cancel := context.WithTimeout(ctx, SecretLinkElicitTimeout)
	defer cancel()
	msg := "The secret of new access key " + k.AccessKey.AccessKeyID + " (IAM user " + k.AccessKey.UserName + ") can be fetched once, until " + k.SecretLinkExpires +
		", with the same credentials as this MCP connection (a browser without them is refused): curl -H \"Authorization: Bearer $TOKEN\" " + k.SecretLink
	res, err := s.mcp.RequestURLElicitation(ectx, server.ClientSessionFromContext(ctx), base64.RawURLEncoding.EncodeToString(raw), k.SecretLink, msg)
	if err != nil {
		s.logger.InfoContext(ctx, "the client was not shown the secret link; it stays in the result", "access_key_id", k.AccessKey.AccessKeyID, "err", err)
		return out
	}
	if res.Action != mcp.ElicitationResponseActionAccept {
		s.logger.InfoContext(ctx, "the person did not take the secret link; it stays in the result", "access_key_id", k.AccessKey.AccessKeyID, "action", res.Action)
		return out
	}
	c := *k
	c.SecretLink = ""
	c.Message = "created access key " + c.AccessKey.AccessKeyID + " for " + c.AccessKey.UserName + "; its secret is not in this result: the one-time link to it (working until " + c.SecretLinkExpires +
		", for this caller only) was given to the person directly, not to the assistant"
	return &c
}
