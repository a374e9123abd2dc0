package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"time"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// secret_file_remove: the secret file of a new key goes once the key has
// been used.
//
// A key created on a plugin's behalf has its secret written to a file in
// the secrets directory (the plugin never sees it); someone hands it to
// whatever will use the key. Once IAM shows the key used, the secret has
// reached its user, and the file is only a copy waiting to leak. The
// plugin that made the key knows when that is, and asks; the host decides:
//
//   - only a tool granted (and declaring) create_access_key may: it
//     removes what that call creates;
//   - only on a server that allows writes: the file is the server's own
//     artifact, not IAM state, but the rotation that made it needed writes,
//     and a read-only server changes nothing on anyone's behalf;
//   - only a key id AKIA… (SecretFiles.AccessKeyFile decides) names a
//     file, and only a regular file is removed (never a symbolic link or
//     what it points to);
//   - only once get_access_key_last_used, made through the gate as the
//     plugin (granted, audited and counted like any call), shows a last
//     use: a secret is never removed before anything could pick it up.
//
// Each request counts once against max_iam_calls (refused or not, as an
// iam_call), and its IAM call once more.
//
// No file (removed already, or never written here) is not an error: the
// answer says so. Each removal is logged (info) with the plugin, the key
// and the path. Refusals are audited as the gate's other refusals.

// SecretFiles are where the plugins' catalogue keeps each new key's
// secret: the files of the server's secrets directory
// (catalogue.SecretFiles), or, over HTTP, one-time links for the caller
// (secretlink.Store), whose "removal" withdraws a link not fetched yet.
// The runtime declares what it needs of them rather than import the
// catalogue, which would tie the plugin runtime to the AWS SDK. ctx is
// the request's, with its principal: a link is its creator's alone.
type SecretFiles interface {
	// StoreAccessKey keeps a new key's secret and returns where it went.
	StoreAccessKey(ctx context.Context, userName, keyID, secret string, created time.Time) (location string, err error)
	// HeldAccessKey names where keyID's secret is still held (a file's
	// path; a link's description, never its URL), or "" when nowhere; an
	// error when keyID is not an access key id, before any look, or when
	// what is there is not something this server wrote.
	HeldAccessKey(ctx context.Context, keyID string) (string, error)
	// RemoveAccessKey drops keyID's secret (removes its regular file,
	// withdraws its link) and names what was dropped, or "" when there
	// was nothing.
	RemoveAccessKey(ctx context.Context, keyID string) (string, error)
}

// secretLinker is a SecretFiles that hands out links
// (catalogue.SecretLinker): a secret the runtime keeps for a plugin's
// key is then named as a link in the result.
type secretLinker interface {
	StoreAccessKeyLink(ctx context.Context, userName, keyID, secret string, created time.Time) (link string, expires time.Time, err error)
}

// accessKeyIDPattern is what a plugin may name as a key id: AWS's
// access key ids (catalogue.AccessKeyIDPattern, repeated so as not to
// import the catalogue), checked here before any SecretFiles sees it.
var accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// MaxSecretFileRemoveInputBytes caps secret_file_remove's input: a key id
// of at most 128 characters, in an object.
const MaxSecretFileRemoveInputBytes = 1 << 10

// lastUsedOp is the operation whose answer decides whether a key has been
// used.
const lastUsedOp = "get_access_key_last_used"

// grantOfSecretFiles is the grant that lets a tool remove secret files:
// the one that lets it create them.
const grantOfSecretFiles = "create_access_key"

// secretFileRemoveFunc is secret_file_remove: SecretFileRemoveRequest →
// SecretFileRemoveAnswer.
func (p *loaded) secretFileRemoveFunc(ctx context.Context, st *callState, in []byte) []byte {
	return mustJSON(p.secretFileRemove(ctx, st, in))
}

func (p *loaded) secretFileRemove(ctx context.Context, st *callState, in []byte) api.SecretFileRemoveAnswer {
	refuse := func(e *api.Error) api.SecretFileRemoveAnswer {
		p.refused(ctx, st, "", api.HostSecretFileRemove, nil, e)
		return api.SecretFileRemoveAnswer{Error: e}
	}
	switch {
	case st.tool == "":
		return api.SecretFileRemoveAnswer{Error: api.Errorf(api.InvalidInput, "plugin %s called secret_file_remove outside a tool call (in describe); it works only while serving a tool", p.name)}
	case st.stopping():
		return api.SecretFileRemoveAnswer{Error: p.pendingError()}
	case p.gate == nil:
		return api.SecretFileRemoveAnswer{Error: api.Errorf(api.NotGranted, "plugin %s is being inspected, with no grants and no IAM", p.name)}
	}
	// Each request counts against max_iam_calls, as a refused iam_call
	// does: its refusals are audited, and a plugin must not write audit
	// lines without limit. Its IAM call counts once more.
	if e := p.admit(st, api.HostSecretFileRemove); e != nil {
		return refuse(e)
	}
	var req api.SecretFileRemoveRequest
	if err := decodeObject(in, &req); err != nil {
		return refuse(api.Errorf(api.InvalidInput, "plugin %s: secret_file_remove takes one JSON object {\"access_key_id\": \"AKIA…\"}, with exactly that key, once: %v; nothing was removed", p.name, err))
	}
	if p.grants[grantOfSecretFiles] && !p.toolGrants[st.tool][grantOfSecretFiles] {
		return refuse(api.Errorf(api.NotGranted, "tool %s of plugin %s called secret_file_remove, which needs %s: the plugin is granted it but the tool does not declare it; the plugin's author must list it among the tool's operations. Nothing was removed",
			st.tool, p.name, grantOfSecretFiles))
	}
	return RemoveSecretFile(ctx, p.gate, p.caller(st), p.secrets, req.AccessKeyID, p.logger, func(op string) *api.Error {
		if e := p.admit(st, op); e != nil {
			return e
		}
		return p.undeclared(st, op)
	})
}

// secretFileRemoveTooBig answers an input over
// MaxSecretFileRemoveInputBytes, unread.
func (p *loaded) secretFileRemoveTooBig(ctx context.Context, st *callState, size uint64) []byte {
	st.calls.Add(1)
	e := api.Errorf(api.InvalidInput, "plugin %s: the secret_file_remove input is %d bytes; at most %d are read; nothing was removed", p.name, size, MaxSecretFileRemoveInputBytes)
	p.refused(ctx, st, "", api.HostSecretFileRemove, nil, e)
	return mustJSON(api.SecretFileRemoveAnswer{Error: e})
}

// RemoveSecretFile is secret_file_remove once decoded: it removes
// keyID's secret file from files (nil: the server has none) for caller, a
// plugin, through g, under the rules above. The runtime calls it for each request; a test
// kit that runs a plugin's workflow natively over the real gate
// (hostiamtest) calls it too, so that both decide alike. admit, when not
// nil, may refuse the IAM call first (the runtime's caps and declared
// operations). logger receives the line of each removal (nil: none).
func RemoveSecretFile(ctx context.Context, g *gate.Gate, caller gate.Caller, files SecretFiles, keyID string, logger *slog.Logger, admit func(op string) *api.Error) api.SecretFileRemoveAnswer {
	who := "plugin " + caller.Plugin
	refuse := func(e *api.Error) api.SecretFileRemoveAnswer {
		g.Refused(ctx, caller, api.HostSecretFileRemove, nil, e)
		return api.SecretFileRemoveAnswer{Error: e}
	}
	switch {
	case !caller.Grants[grantOfSecretFiles]:
		return refuse(api.Errorf(api.NotGranted, "%s may remove secret files only when granted %s (it removes the files that call creates); the operator grants it in the plugins file. Nothing was removed", who, grantOfSecretFiles))
	case g.ReadOnly():
		return refuse(api.Errorf(api.ReadOnly, "%s asked to remove a secret file, and the server is read-only: it removes nothing on anyone's behalf (the operator restarts it with --allow-write, and without --readonly). The file stays; whoever runs the server can delete it", who))
	case files == nil:
		return api.SecretFileRemoveAnswer{Note: "this server has no secrets directory, so it wrote no secret file for " + args.Quote(keyID) + "; nothing to remove"}
	}
	if !accessKeyIDPattern.MatchString(keyID) {
		return refuse(api.Errorf(api.InvalidInput, "%s: %s is not an access key id (16-128 upper-case letters and digits, AKIA…); nothing was removed", who, args.Quote(keyID)))
	}
	path, err := files.HeldAccessKey(ctx, keyID)
	switch {
	case err != nil:
		return refuse(api.Errorf(api.Unavailable, "%v; nothing was removed", err))
	case path == "":
		return api.SecretFileRemoveAnswer{Note: "there is no secret file of " + keyID + " on this server, nor an unfetched link to its secret: removed or fetched already, expired, or its secret was not kept by this server for this caller"}
	}

	// Used? Asked of IAM as the plugin, through the gate.
	if admit != nil {
		if e := admit(lastUsedOp); e != nil {
			g.Refused(ctx, caller, lastUsedOp, nil, e)
			return api.SecretFileRemoveAnswer{Error: &api.Error{Code: e.Code, Message: e.Message + "; the secret file of " + keyID + " was not removed"}}
		}
	}
	in, _ := json.Marshal(api.AccessKeyIDInput{AccessKeyID: keyID})
	out, err := g.Call(ctx, caller, lastUsedOp, in)
	if err != nil {
		ae := gate.AsAPIError(err)
		return api.SecretFileRemoveAnswer{Error: &api.Error{Code: ae.Code, Message: "the secret file of " + keyID + " was not removed: whether the key has been used could not be read (" + lastUsedOp + "): " + ae.Message}}
	}
	used, ok := out.(*api.AccessKeyLastUsedOutput)
	if !ok {
		return api.SecretFileRemoveAnswer{Error: api.Errorf(api.Internal, "%s answered %T; the secret file of %s was not removed. Report this bug", lastUsedOp, out, keyID)}
	}
	if used.LastUsedDate == nil {
		return api.SecretFileRemoveAnswer{Error: api.Errorf(api.InvalidInput, "%s has not been used yet (IAM shows no last use), so its secret may not have reached what will use it: %s stays. Ask again once the key has been used", keyID, path)}
	}

	removed, err := files.RemoveAccessKey(ctx, keyID)
	if err != nil {
		return refuse(api.Errorf(api.Unavailable, "the secret file of %s was not removed: %v", keyID, err))
	}
	when := used.LastUsedDate.UTC().Format(time.RFC3339)
	if removed == "" {
		return api.SecretFileRemoveAnswer{Note: "there is no secret file of " + keyID + " any more, nor an unfetched link: it was removed or fetched meanwhile"}
	}
	if logger != nil {
		logger.Info("removed the secret file of a used access key", "plugin", caller.Plugin, "tool", caller.Tool, "access_key_id", keyID, "path", removed, "last_used", when)
	}
	return api.SecretFileRemoveAnswer{Removed: removed, Note: fmt.Sprintf("%s was last used %s, so its secret has reached what uses it; %s was removed from the server", keyID, when, secretNoun(removed))}
}

// secretNoun names what RemoveAccessKey dropped: a file by its path, a
// link by its description.
func secretNoun(removed string) string {
	if filepath.IsAbs(removed) {
		return "its secret file " + removed
	}
	return removed
}
