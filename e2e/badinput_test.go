package e2e

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestBadInput sends each family's tools what assistants get wrong: a
// missing required argument, a wrong type, a name that breaks IAM's
// pattern, an unknown argument, an out-of-range or out-of-enum value. Each
// must come back as an InvalidInput tool error, in a sentence that names
// the argument (not a Go decoding error), and the server must go on
// serving.
func TestBadInput(t *testing.T) {
	t.Parallel()
	// Writes allowed without asking: a bad argument, not the mode, must be
	// what stops each call.
	s := startWritable(t, "--toolsets", "all")
	cases := []struct {
		family, tool string
		args         string // raw JSON, sent as is
		mention      string // the message must name this
	}{
		{"users", "get_user", `{}`, "user_name"},
		{"users", "create_user", `{"user_name": 42}`, "user_name"},
		{"users", "create_user", `{"user_name": "bad name!"}`, "user_name"},
		{"users", "create_user", `{"user_name": "` + strings.Repeat("a", 65) + `"}`, "user_name"},
		{"users", "create_user", `{"user_name": "fine", "path": "no-slashes"}`, "path"},
		{"users", "get_user", `{"user_name": "alice.nguyen", "username": "alice.nguyen"}`, "username"},
		{"users", "list_users", `{"max_items": 5000}`, "max_items"},
		{"users", "delete_user", `{"user_name": "former.employee", "force": "yes"}`, "force"},

		{"groups", "get_group", `{}`, "group_name"},
		{"groups", "create_group", `{"group_name": true}`, "group_name"},
		{"groups", "create_group", `{"group_name": "a/b"}`, "group_name"},
		{"groups", "add_user_to_group", `{"group_name": "Admins"}`, "user_name"},
		{"groups", "list_groups", `{"max_items": "ten"}`, "max_items"},
		{"groups", "attach_group_policy", `{"group_name": "Admins", "policy_arn": "AdministratorAccess"}`, "policy_arn"},

		{"roles", "create_role", `{"role_name": "r1"}`, "assume_role_policy_document"},
		{"roles", "create_role", `{"role_name": "r1", "assume_role_policy_document": 42}`, "assume_role_policy_document"},
		{"roles", "create_role", `{"role_name": "r1", "assume_role_policy_document": "not json at all"}`, "assume_role_policy_document"},
		{"roles", "create_role", `{"role_name": "r1", "assume_role_policy_document": {"Version": "2012-10-17", "Statement": []}, "max_session_duration": 60}`, "max_session_duration"},
		{"roles", "get_role", `{"role_name": "bad*role"}`, "role_name"},
		{"roles", "update_role", `{"role_name": "lambda-exec", "max_session_duration": "long"}`, "max_session_duration"},
		{"roles", "add_role_to_instance_profile", `{"instance_profile_name": "ec2-app", "role_name": ""}`, "role_name"},

		{"policies", "get_policy", `{"policy_arn": "not-an-arn"}`, "policy_arn"},
		{"policies", "create_policy", `{"policy_name": "p1", "policy_document": "{not json"}`, "policy_document"},
		{"policies", "create_policy_version", `{"policy_arn": "arn:aws:iam::123456789012:policy/ops/SupportRead"}`, "policy_document"},
		{"policies", "list_policies", `{"scope": "Everything"}`, "scope"},
		{"policies", "attach_user_policy", `{"user_name": ["alice.nguyen"], "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}`, "user_name"},

		{"inline", "put_user_policy", `{"user_name": "alice.nguyen", "policy_name": "p", "policy_document": [1, 2]}`, "policy_document"},
		{"inline", "get_user_policy", `{"user_name": "quinn.taylor"}`, "policy_name"},
		{"inline", "put_role_policy", `{"role_name": "lambda-exec", "policy_name": "bad name", "policy_document": {"Version": "2012-10-17", "Statement": []}}`, "policy_name"},
		{"inline", "list_group_policies", `{"group_name": 7}`, "group_name"},

		{"credentials", "update_access_key", `{"user_name": "ci-deploy", "access_key_id": "AKIAIOSFODNN7EXAMPL1", "status": "Disabled"}`, "status"},
		{"credentials", "delete_access_key", `{"user_name": "ci-deploy", "access_key_id": "short"}`, "access_key_id"},
		{"credentials", "create_access_key", `{"user_name": ["ci-deploy"]}`, "user_name"},
		{"credentials", "create_login_profile", `{"user_name": "farid.haddad"}`, "password"},

		{"simulation", "simulate_principal_policy", `{"policy_source_arn": "arn:aws:iam::123456789012:user/eng/alice.nguyen", "action_names": "s3:GetObject"}`, "action_names"},
		{"simulation", "simulate_principal_policy", `{"policy_source_arn": "alice", "action_names": ["s3:GetObject"]}`, "policy_source_arn"},
		{"simulation", "simulate_principal_policy", `{"action_names": ["s3:GetObject"]}`, "policy_source_arn"},
		{"simulation", "simulate_principal_policy", `{"policy_source_arn": "arn:aws:iam::123456789012:user/eng/alice.nguyen", "action_names": ["s3:GetObject"], "context_entries": [{"context_key_name": "aws:SourceIp", "context_key_values": ["10.0.0.1"], "context_key_type": "weird"}]}`, "context_key_type"},

		{"policy", "validate_policy", `{"policy_document": {"Version": "2012-10-17"}, "policy_type": "SESSION_POLICY"}`, "policy_type"},
		{"policy", "simulate_custom_policy", `{"action_names": ["s3:GetObject"]}`, "policy_documents"},
		{"policy", "simulate_custom_policy", `{"policy_documents": [{"Statement": 7}], "action_names": ["s3:GetObject"]}`, "policy_documents[0]"},
		{"policy", "explain_access", `{"principal_arn": "alice", "action": "s3:GetObject"}`, "principal_arn"},

		{"account", "get_account_info", `{"verbose": true}`, "verbose"},
	}
	families := map[string]bool{}
	for _, c := range cases {
		families[c.family] = true
		t.Run(c.family+"/"+c.tool, func(t *testing.T) {
			s := s.in(t)
			msg := fails(s, c.tool, json.RawMessage(c.args), api.InvalidInput)
			if !strings.Contains(msg, c.mention) {
				t.Errorf("%s %s: the message does not name %s: %s", c.tool, c.args, c.mention, msg)
			}
		})
	}
	for _, ts := range catalogue.Toolsets() {
		if !families[string(ts)] {
			t.Errorf("no bad-input case for the %s family", ts)
		}
	}

	// An unknown tool: the JSON-RPC error the MCP specification names
	// (-32602, invalid params), in a sentence that names the tool — not a
	// crash, and not a tool result an assistant would take for the tool's
	// own answer.
	msg := unknownTool(t, s, "no_such_tool", map[string]any{"user_name": "alice.nguyen"})
	if !strings.Contains(msg, "no_such_tool") {
		t.Errorf("the unknown-tool error does not name the tool: %s", msg)
	}
	// A tool that exists in the catalogue but is not exposed is unknown too,
	// and the error says which toolset exposes it.
	narrow := start(t)
	if msg := unknownTool(t, narrow, "delete_role", map[string]any{"role_name": "lambda-exec"}); !strings.Contains(msg, "roles") {
		t.Errorf("delete_role is outside the default toolset: the error does not name the toolset that exposes it: %s", msg)
	}
	ok[api.GetRoleOutput](narrow, "get_role", map[string]any{"role_name": "lambda-exec"})

	// The server is still serving, and nothing changed.
	ok[api.AccountInfoOutput](s, "get_account_info", nil)
	ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "former.employee"})
	if l := ok[api.ListRolesOutput](s, "list_roles", map[string]any{"path_prefix": "/"}); len(l.Roles) != 9 {
		t.Errorf("the demo's 9 roles became %d", len(l.Roles))
	}
	if strings.Contains(s.stderr.String(), "panic") {
		t.Errorf("the server panicked:\n%s", s.stderr)
	}
}

// unknownTool calls a tool the server does not list and returns the message
// of the JSON-RPC error it must answer with (-32602).
func unknownTool(t *testing.T, s *server, name string, args any) string {
	t.Helper()
	res, err := s.tryCall(name, args)
	var rpcErr *jsonrpc.Error
	switch {
	case err == nil && res.IsError:
		t.Errorf("tools/call %s (not listed): a tool error, want the JSON-RPC error -32602: %s", name, resultText(res))
	case err == nil:
		t.Errorf("tools/call %s (not listed) succeeded: %s", name, resultText(res))
	case !errors.As(err, &rpcErr):
		t.Errorf("tools/call %s (not listed): %v, want the JSON-RPC error -32602", name, err)
	case rpcErr.Code != jsonrpc.CodeInvalidParams:
		t.Errorf("tools/call %s (not listed): JSON-RPC error %d %q, want -32602", name, rpcErr.Code, rpcErr.Message)
	default:
		checkSentence(t, "tools/call "+name, rpcErr.Message)
		return rpcErr.Message
	}
	return ""
}

// TestNoSuchEntity: IAM's own errors reach the assistant as a sentence
// with the code, for each family.
func TestNoSuchEntity(t *testing.T) {
	t.Parallel()
	s := start(t, "--toolsets", "all")
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_user", map[string]any{"user_name": "nobody"}},
		{"get_group", map[string]any{"group_name": "Nobody"}},
		{"get_role", map[string]any{"role_name": "nobody"}},
		{"get_policy", map[string]any{"policy_arn": localPol + "/Nothing"}},
		{"get_user_policy", map[string]any{"user_name": "alice.nguyen", "policy_name": "nothing"}},
		{"list_access_keys", map[string]any{"user_name": "nobody"}},
		{"simulate_principal_policy", map[string]any{"policy_source_arn": roleArn + "/nobody", "action_names": []string{"s3:GetObject"}}},
	} {
		msg := fails(s, c.tool, c.args, api.NoSuchEntity)
		if strings.Contains(msg, "StatusCode") || strings.Contains(msg, "RequestID") {
			t.Errorf("%s: the error carries SDK transport details: %s", c.tool, msg)
		}
	}
}
