package e2e

import (
	"encoding/json"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// opsWhere lists the built-in tools that satisfy keep, sorted.
func opsWhere(keep func(catalogue.Tool) bool) []string {
	var out []string
	for _, op := range catalogue.Tools() {
		if keep(op) {
			out = append(out, op.Name)
		}
	}
	sort.Strings(out)
	return out
}

func (s *server) toolNames() []string {
	var out []string
	for name := range s.tools {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func TestInitialize(t *testing.T) {
	t.Parallel()
	s := start(t)
	init := s.cs.InitializeResult()
	if init == nil || init.ServerInfo == nil || init.ServerInfo.Name == "" {
		t.Fatalf("initialize result without server info: %+v", init)
	}
	if init.Capabilities == nil || init.Capabilities.Tools == nil {
		t.Errorf("the server does not declare the tools capability: %+v", init.Capabilities)
	}
	t.Logf("server %s %s, protocol %s", init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion)
}

func TestDefaultToolsList(t *testing.T) {
	t.Parallel()
	s := start(t)
	want := opsWhere(func(op catalogue.Tool) bool { return op.Default })
	if len(want) != 35 {
		t.Errorf("the catalogue marks %d operations Default, the issue asks for 35", len(want))
	}
	if got := s.toolNames(); !slices.Equal(got, want) {
		t.Errorf("default tools/list:\n got %d %v\nwant %d %v", len(got), got, len(want), want)
	}
	checkToolDefinitions(t, s)
}

func TestAllToolsList(t *testing.T) {
	t.Parallel()
	s := start(t, "--toolsets", "all")
	if got, want := s.toolNames(), api.Names(); !slices.Equal(got, want) {
		t.Errorf("--toolsets all:\n got %d %v\nwant %d %v", len(got), got, len(want), want)
	}
	checkToolDefinitions(t, s)
}

func TestToolsetsList(t *testing.T) {
	t.Parallel()
	s := start(t, "--toolsets", "credentials,account")
	want := opsWhere(func(op catalogue.Tool) bool {
		return op.Toolset == catalogue.ToolsetCredentials || op.Toolset == catalogue.ToolsetAccount
	})
	if got := s.toolNames(); !slices.Equal(got, want) {
		t.Errorf("--toolsets credentials,account:\n got %v\nwant %v", got, want)
	}
}

// checkToolDefinitions checks every listed tool as sent on the wire: object
// input and output schemas, a description, and all four annotations set on
// purpose and agreeing with the catalogue.
func checkToolDefinitions(t *testing.T, s *server) {
	t.Helper()
	for name, raw := range s.rawTools {
		op, known := api.Lookup(name)
		if !known {
			t.Errorf("tool %s is not a catalogue operation", name)
			continue
		}
		if d, _ := raw["description"].(string); len(d) < 20 {
			t.Errorf("tool %s: description %q is too thin for an assistant", name, d)
		}
		for _, key := range []string{"inputSchema", "outputSchema"} {
			sch, _ := raw[key].(map[string]any)
			if sch == nil || sch["type"] != "object" {
				t.Errorf("tool %s: %s is not an object schema: %v", name, key, raw[key])
				continue
			}
			if _, ok := sch["properties"].(map[string]any); !ok && name != "get_account_info" && key == "inputSchema" {
				t.Errorf("tool %s: %s has no properties", name, key)
			}
		}
		ann, _ := raw["annotations"].(map[string]any)
		want := map[string]bool{
			"readOnlyHint":    !op.Mutates,
			"destructiveHint": op.Destructive,
			"idempotentHint":  op.Idempotent,
		}
		for _, hint := range []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
			v, present := ann[hint]
			if !present {
				t.Errorf("tool %s: annotation %s is missing (it must be set on purpose): %v", name, hint, ann)
				continue
			}
			b, isBool := v.(bool)
			if !isBool {
				t.Errorf("tool %s: annotation %s = %v is not a boolean", name, hint, v)
				continue
			}
			if w, check := want[hint]; check && b != w {
				t.Errorf("tool %s: %s = %v, the catalogue says %v", name, hint, b, w)
			}
		}
	}
	if len(s.rawTools) != len(s.tools) {
		t.Errorf("saw %d tools on the wire, the client kept %d", len(s.rawTools), len(s.tools))
	}
}

// TestPolicyDocumentSchemaAcceptsBothShapes checks, client side, that every
// published input schema with a policy document accepts the document as an
// object and as a JSON string, then that the server accepts both.
func TestPolicyDocumentShapes(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--toolsets", "all")
	docArgs := map[string]string{ // tool → its document argument
		"create_role": "assume_role_policy_document", "update_assume_role_policy": "policy_document",
		"create_policy": "policy_document", "create_policy_version": "policy_document",
		"put_user_policy": "policy_document", "put_role_policy": "policy_document", "put_group_policy": "policy_document",
	}
	for tool, arg := range docArgs {
		raw := s.rawTools[tool]
		in, _ := raw["inputSchema"].(map[string]any)
		props, _ := in["properties"].(map[string]any)
		prop, _ := props[arg].(map[string]any)
		if prop == nil {
			t.Errorf("%s: input schema has no %s", tool, arg)
			continue
		}
		b, _ := json.Marshal(prop)
		rs, err := resolveSchema(json.RawMessage(b))
		if err != nil {
			t.Errorf("%s.%s: schema does not resolve: %v", tool, arg, err)
			continue
		}
		if err := rs.Validate(s3ReadDoc); err != nil {
			t.Errorf("%s.%s: the published schema rejects a document object: %v", tool, arg, err)
		}
		if err := rs.Validate(denyDeleteDocString); err != nil {
			t.Errorf("%s.%s: the published schema rejects a document string: %v", tool, arg, err)
		}
	}

	// The server takes both, and always answers with an object.
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "doc-shapes"})
	ok[api.Result](s, "put_user_policy", map[string]any{"user_name": "doc-shapes", "policy_name": "as-object", "policy_document": s3ReadDoc})
	ok[api.Result](s, "put_user_policy", map[string]any{"user_name": "doc-shapes", "policy_name": "as-string", "policy_document": denyDeleteDocString})
	obj := ok[api.InlinePolicyOutput](s, "get_user_policy", map[string]any{"user_name": "doc-shapes", "policy_name": "as-object"})
	if !jsonEqual(docJSON(t, obj.PolicyDocument), s3ReadDoc) {
		t.Errorf("object document came back as %s", obj.PolicyDocument)
	}
	str := ok[api.InlinePolicyOutput](s, "get_user_policy", map[string]any{"user_name": "doc-shapes", "policy_name": "as-string"})
	if !jsonEqual(docJSON(t, str.PolicyDocument), mustJSON(t, denyDeleteDocString)) {
		t.Errorf("string document came back as %s", str.PolicyDocument)
	}
}

// TestCleanShutdown: closing stdin ends the server with exit status 0, and
// nothing but protocol messages reached stdout (the client would have
// failed to decode anything else).
func TestCleanShutdown(t *testing.T) {
	t.Parallel()
	s := start(t)
	ok[api.AccountInfoOutput](s, "get_account_info", nil)
	s.close()
	if s.exitErr != nil {
		t.Errorf("the server did not exit cleanly when the client closed stdin: %v", s.exitErr)
	}
	// The session ends with EOF — or, when the client's own Close wins the
	// race with its reader, with the pipe it closed ("file already closed",
	// go-sdk's CommandTransport waits for the process and closes stdout).
	// Any other read error means the server wrote something on stdout that
	// is not a protocol message.
	for _, line := range strings.Split(s.wire.String(), "\n") {
		if strings.HasPrefix(line, "read error") && line != "read error: EOF" && !strings.HasSuffix(line, "file already closed") {
			t.Errorf("the client could not read what the server wrote on stdout: %s", line)
		}
	}
}

// TestVersion: the flag the front door documents.
func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := runCmd(serverBin, "--version")
	if err != nil || !strings.Contains(out, "iam-mcp-server") {
		t.Errorf("--version: %v\n%s", err, out)
	}
}

func runCmd(bin string, args ...string) (string, error) {
	ctx, cancel := ctxT()
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}
