package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// session is the server wired as `iam-mcp-server --sandbox` wires it (the
// embedded sandbox in process, the real AWS SDK clients, the catalogue, the
// gate), served over a stdio pipe to mcp-go's own client.
type session struct {
	t      *testing.T
	client *client.Client
	audit  *syncio.Buffer
	tools  map[string]mcp.Tool
}

type setup struct {
	readOnly bool
	toolsets string
	seed     string
	faults   sandbox.Faults
	runner   gate.Runner // instead of a catalogue on the sandbox
}

func start(t *testing.T, s setup) *session {
	t.Helper()
	runner := s.runner
	if runner == nil {
		runner = mcpserver.SandboxCatalogue(t, sandbox.Options{Seed: s.seed, Faults: s.faults})
	}
	audit := &syncio.Buffer{}
	g := gate.New(runner, gate.Options{ReadOnly: s.readOnly, Audit: audit})
	ops, err := mcpserver.ResolveToolsets(s.toolsets)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mcpserver.New(g, mcpserver.Options{Tools: ops, Sandbox: true, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}

	// Two pipes: client → server (the server's stdin) and back.
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeStdio(ctx, inR, outW)
		outW.Close()
	}()
	c := client.NewClient(transport.NewIO(outR, inW, nil))
	t.Cleanup(func() {
		c.Close() // closes the server's stdin: EOF ends ServeStdio
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeStdio: %v", err)
			}
		case <-time.After(3 * time.Minute): // a guard against a hang (its own bound is DrainTimeout+StopTimeout)
			t.Errorf("ServeStdio did not return after its input closed")
		}
		cancel()
	})
	tctx, tcancel := context.WithTimeout(context.Background(), 3*time.Minute) // a guard against a hang
	defer tcancel()
	if err := c.Start(tctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "mcpserver-test", Version: "1"}
	res, err := c.Initialize(tctx, init)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if res.ServerInfo.Name != mcpserver.Name || res.ServerInfo.Version != "test" {
		t.Errorf("serverInfo = %+v", res.ServerInfo)
	}
	if res.Capabilities.Tools == nil {
		t.Errorf("the server does not announce tools")
	}
	if s.readOnly != strings.Contains(res.Instructions, "read-only") {
		t.Errorf("instructions (read-only %v): %s", s.readOnly, res.Instructions)
	}

	sess := &session{t: t, client: c, audit: audit, tools: map[string]mcp.Tool{}}
	for _, tool := range sess.list() {
		sess.tools[tool.Name] = tool
	}
	return sess
}

func (s *session) list() []mcp.Tool {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a guard against a hang
	defer cancel()
	res, err := s.client.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		s.t.Fatalf("tools/list: %v", err)
	}
	return res.Tools
}

// call calls a tool with arguments given as JSON ("" for none), failing the
// test only on a protocol error.
func (s *session) call(name, args string) *mcp.CallToolResult {
	s.t.Helper()
	res, err := s.callErr(context.Background(), name, args)
	if err != nil {
		s.t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

func (s *session) callErr(ctx context.Context, name, args string) (*mcp.CallToolResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute) // a guard against a hang
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	if args != "" {
		req.Params.Arguments = json.RawMessage(args)
	}
	return s.client.CallTool(ctx, req)
}

// ok calls a tool that must succeed and returns its structured content,
// checking that it is an object, that the text block holds the same JSON,
// and that it satisfies the tool's published output schema.
func (s *session) ok(name, args string) map[string]any {
	s.t.Helper()
	res := s.call(name, args)
	if res.IsError {
		s.t.Fatalf("%s %s: tool error %s", name, args, text(res))
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil {
		s.t.Fatal(err)
	}
	var fromStructured, fromText map[string]any
	if err := json.Unmarshal(structured, &fromStructured); err != nil {
		s.t.Fatalf("%s: structured content is not an object: %s", name, structured)
	}
	if err := json.Unmarshal([]byte(text(res)), &fromText); err != nil {
		s.t.Fatalf("%s: the text block is not the JSON object: %q", name, text(res))
	}
	a, _ := json.Marshal(fromStructured)
	b, _ := json.Marshal(fromText)
	if !bytes.Equal(a, b) {
		s.t.Errorf("%s: structured content and text differ:\n%s\n%s", name, a, b)
	}
	// What an official client checks: the result against the output schema.
	if tool, ok := s.tools[name]; ok {
		rs := resolve(s.t, wireSchema(s.t, tool.OutputSchema))
		if err := rs.Validate(fromStructured); err != nil {
			s.t.Errorf("%s: the result does not satisfy the output schema: %v\n%s", name, err, a)
		}
	}
	return fromStructured
}

// fails calls a tool that must return a tool error starting with code.
func (s *session) fails(name, args string, code api.ErrorCode) string {
	s.t.Helper()
	res := s.call(name, args)
	msg := text(res)
	if !res.IsError {
		s.t.Fatalf("%s %s: succeeded, want %s: %s", name, args, code, msg)
	}
	if !strings.HasPrefix(msg, string(code)+": ") {
		s.t.Errorf("%s %s: error %q, want code %s", name, args, msg, code)
	}
	if res.StructuredContent != nil {
		s.t.Errorf("%s: a tool error carries structured content %v, which the output schema does not allow", name, res.StructuredContent)
	}
	return msg
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func resolve(t *testing.T, raw json.RawMessage) *jsonschema.Resolved {
	t.Helper()
	var sc jsonschema.Schema
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatalf("schema does not decode: %v\n%s", err, raw)
	}
	rs, err := sc.Resolve(nil)
	if err != nil {
		t.Fatalf("schema does not resolve: %v\n%s", err, raw)
	}
	return rs
}

// wireSchema is a schema the client decoded, as JSON again.
func wireSchema(t *testing.T, schema any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// schemaOf returns a tool's schema as the client received it.
func schemaOf(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("schema %s: %v", raw, err)
	}
	return m
}

// TestToolsList: the default toolset's 35 tools, in catalogue order, each
// with object schemas, a title, and all four annotations set on purpose.
func TestToolsList(t *testing.T) {
	s := start(t, setup{})
	tools := s.list()
	if len(tools) != 35 {
		t.Errorf("tools/list: %d tools, want 35", len(tools))
	}
	want, _ := mcpserver.ResolveToolsets("default")
	for i, tool := range tools {
		if i < len(want) && tool.Name != want[i].Name {
			t.Errorf("tools/list[%d] = %s, want %s (catalogue order)", i, tool.Name, want[i].Name)
		}
		op, ok := catalogue.LookupTool(tool.Name)
		if !ok {
			t.Errorf("%s is not a catalogue operation", tool.Name)
			continue
		}
		if tool.Description != op.Description {
			t.Errorf("%s: description %q, want the catalogue's", tool.Name, tool.Description)
		}
		if tool.Title == "" || tool.Annotations.Title != tool.Title {
			t.Errorf("%s: title %q, annotations.title %q", tool.Name, tool.Title, tool.Annotations.Title)
		}
		a := tool.Annotations
		for hint, got := range map[string]*bool{"readOnlyHint": a.ReadOnlyHint, "destructiveHint": a.DestructiveHint, "idempotentHint": a.IdempotentHint, "openWorldHint": a.OpenWorldHint} {
			if got == nil {
				t.Errorf("%s: %s not set", tool.Name, hint)
			}
		}
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			continue
		}
		if *a.ReadOnlyHint != !op.Mutates || *a.DestructiveHint != op.Destructive || *a.IdempotentHint != op.Idempotent || *a.OpenWorldHint {
			t.Errorf("%s: annotations readOnly=%v destructive=%v idempotent=%v openWorld=%v; catalogue mutates=%v destructive=%v idempotent=%v (sandbox: closed world)",
				tool.Name, *a.ReadOnlyHint, *a.DestructiveHint, *a.IdempotentHint, *a.OpenWorldHint, op.Mutates, op.Destructive, op.Idempotent)
		}
		for what, raw := range map[string]json.RawMessage{"input": wireSchema(t, tool.InputSchema), "output": wireSchema(t, tool.OutputSchema)} {
			if len(raw) == 0 {
				t.Errorf("%s: no %s schema", tool.Name, what)
				continue
			}
			if sc := schemaOf(t, raw); sc["type"] != "object" {
				t.Errorf("%s: %s schema type %v, want object", tool.Name, what, sc["type"])
			}
			resolve(t, raw)
		}
	}
	if _, ok := s.tools["delete_role"]; ok {
		t.Errorf("delete_role is not a default tool but is listed")
	}
}

// TestToolsListAnnotationsOnTheWire: mcp-go would send destructiveHint true
// when unset; check the JSON itself carries every hint, false included.
func TestToolsListAnnotationsOnTheWire(t *testing.T) {
	ops, _ := mcpserver.ResolveToolsets("all")
	for _, op := range ops {
		tool, err := mcpserver.Tool(op, false, true)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(tool)
		if err != nil {
			t.Fatalf("%s: %v", op.Name, err)
		}
		var wire struct {
			Annotations map[string]any `json:"annotations"`
		}
		if err := json.Unmarshal(b, &wire); err != nil {
			t.Fatal(err)
		}
		for _, hint := range []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
			if _, ok := wire.Annotations[hint].(bool); !ok {
				t.Errorf("%s: %s missing on the wire: %s", op.Name, hint, b)
			}
		}
		// Offline tools stay in the process even when the others reach AWS.
		if wire.Annotations["openWorldHint"] != !op.Offline {
			t.Errorf("%s: openWorldHint %v against AWS, want %v", op.Name, wire.Annotations["openWorldHint"], !op.Offline)
		}
	}
}

// TestToolsListReadOnly: in read-only mode the mutating tools stay listed,
// marked disabled; the read tools are unchanged.
func TestToolsListReadOnly(t *testing.T) {
	s := start(t, setup{readOnly: true, toolsets: "all"})
	if len(s.tools) != len(api.All()) {
		t.Errorf("--toolsets all lists %d tools, want %d", len(s.tools), len(api.All()))
	}
	for _, op := range catalogue.Tools() {
		tool, ok := s.tools[op.Name]
		if !ok {
			t.Errorf("%s not listed", op.Name)
			continue
		}
		disabled := strings.HasPrefix(tool.Description, mcpserver.DisabledPrefix)
		if disabled != op.Mutates {
			t.Errorf("%s (mutates %v): description %q", op.Name, op.Mutates, tool.Description)
		}
		if strings.TrimPrefix(tool.Description, mcpserver.DisabledPrefix) != op.Description {
			t.Errorf("%s: description %q lost the catalogue's", op.Name, tool.Description)
		}
	}
}

// TestCallReadTool: a read tool's structured result, and the same JSON as
// text; arguments absent, empty, and given.
func TestCallReadTool(t *testing.T) {
	s := start(t, setup{seed: "demo"})
	out := s.ok("list_users", "")
	users, _ := out["users"].([]any)
	if len(users) == 0 {
		t.Fatalf("list_users on the demo seed: no users: %v", out)
	}
	first, _ := users[0].(map[string]any)
	name, _ := first["user_name"].(string)
	if name == "" {
		t.Fatalf("list_users: a user without user_name: %v", first)
	}
	s.ok("list_users", "{}")
	s.ok("list_users", `{"max_items": 1}`)
	got := s.ok("get_user", fmt.Sprintf(`{"user_name": %q}`, name))
	if u, _ := got["user"].(map[string]any); u["user_name"] != name {
		t.Errorf("get_user %s: %v", name, got)
	}
	if !strings.Contains(s.audit.String(), `"caller":"built-in"`) || !strings.Contains(s.audit.String(), `"tool":"get_user"`) {
		t.Errorf("the audit log does not record the built-in caller and tool:\n%s", s.audit)
	}
}

// TestCallMutatingTool: a write goes through and is visible to the next
// read.
func TestCallMutatingTool(t *testing.T) {
	s := start(t, setup{})
	s.ok("create_user", `{"user_name": "mcp-test-user"}`)
	s.ok("get_user", `{"user_name": "mcp-test-user"}`)
	s.fails("create_user", `{"user_name": "mcp-test-user"}`, api.EntityAlreadyExists)
}

// TestCallReadOnlyRefused: in read-only mode a mutating tool answers
// ReadOnly, the sandbox is unchanged, and the refusal is audited.
func TestCallReadOnlyRefused(t *testing.T) {
	s := start(t, setup{readOnly: true, seed: "demo", toolsets: "all"})
	before := s.ok("list_users", `{"max_items": 1000}`)
	msg := s.fails("create_user", `{"user_name": "should-not-exist"}`, api.ReadOnly)
	if !strings.Contains(msg, "--readonly") {
		t.Errorf("the refusal does not say why: %s", msg)
	}
	s.fails("delete_user", `{"user_name": "alice.nguyen", "force": true}`, api.ReadOnly)
	s.fails("get_user", `{"user_name": "should-not-exist"}`, api.NoSuchEntity)
	after := s.ok("list_users", `{"max_items": 1000}`)
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if !bytes.Equal(a, b) {
		t.Errorf("the sandbox changed in read-only mode:\nbefore %s\nafter  %s", a, b)
	}
	if !strings.Contains(s.audit.String(), `"outcome":"refused"`) {
		t.Errorf("the refusal is not audited:\n%s", s.audit)
	}
}

// TestCallBadInput: missing, mistyped and unknown arguments are tool
// errors with a sentence naming the argument, never a protocol error or a
// Go message.
func TestCallBadInput(t *testing.T) {
	s := start(t, setup{})
	for _, c := range []struct{ tool, args, want string }{
		{"get_user", `{}`, `"user_name" is required`},
		{"get_user", "", `"user_name" is required`},
		{"get_user", `{"user_name": 5}`, `"user_name"`},
		{"get_user", `{"user": "alice"}`, `unknown argument "user"`},
		{"get_user", `{"user_name": "no spaces allowed"}`, `"user_name"`},
		{"list_users", `{"max_items": "ten"}`, `max_items`},
	} {
		msg := s.fails(c.tool, c.args, api.InvalidInput)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s %s: %q does not mention %s", c.tool, c.args, msg, c.want)
		}
		for _, internal := range []string{"json:", "reflect", "panic", "goroutine", "*api."} {
			if strings.Contains(msg, internal) {
				t.Errorf("%s %s: %q reads like Go internals", c.tool, c.args, msg)
			}
		}
	}
}

// TestCallArgumentsNotAnObject: arguments that are JSON but not an object
// reach the catalogue as sent, which refuses them in words.
func TestCallArgumentsNotAnObject(t *testing.T) {
	s := start(t, setup{})
	for _, args := range []string{`[1, 2]`, `"alice"`, `7`} {
		res, err := s.callErr(context.Background(), "list_users", args)
		if err != nil {
			// mcp-go may refuse non-object arguments at the protocol level;
			// that is a clear error too, as long as it is not a crash.
			if !strings.Contains(strings.ToLower(err.Error()), "argument") && !strings.Contains(strings.ToLower(err.Error()), "param") {
				t.Errorf("arguments %s: protocol error %v", args, err)
			}
			continue
		}
		t.Logf("arguments %s: %s", args, text(res))
		if !res.IsError || !strings.HasPrefix(text(res), "InvalidInput: ") {
			t.Errorf("arguments %s: %v %s", args, res.IsError, text(res))
		}
	}
	s.ok("list_users", "") // the session survives
}

// TestCallUnknownTool: a call to a tool the server does not serve is a
// JSON-RPC Invalid params error (-32602), as MCP says, whose message names
// the tool and says what to do; the session goes on.
func TestCallUnknownTool(t *testing.T) {
	s := start(t, setup{})
	for _, c := range []struct{ name, want string }{
		{"no_such_tool", `unknown tool "no_such_tool"`},
		// In the catalogue, but not in the default toolset.
		{"delete_role", `--toolsets roles`},
		{"_unknown_tool", `unknown tool "_unknown_tool"`},
	} {
		_, err := s.callErr(context.Background(), c.name, `{"role_name": "x"}`)
		if err == nil {
			t.Fatalf("calling %s: no protocol error", c.name)
		}
		if !errors.Is(err, mcp.ErrInvalidParams) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("calling %s: %v, want invalid params saying %s", c.name, err, c.want)
		}
	}
	s.ok("list_users", "")
	if strings.Contains(s.audit.String(), "delete_role") {
		t.Errorf("a tool that is not exposed reached the gate:\n%s", s.audit)
	}
}

// TestCallCancelled: the request's context reaches the AWS call, so a
// client that gives up (notifications/cancelled) stops it well before the
// sandbox's injected latency would have let it finish.
func TestCallCancelled(t *testing.T) {
	// An hour of latency: without the cancellation, the call outlasts the
	// guard below, which only guards against a hang.
	s := start(t, setup{faults: sandbox.Faults{Latency: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.callErr(ctx, "list_users", "{}"); err == nil {
		t.Fatal("list_users returned before its deadline despite an hour of latency")
	}
	for !strings.Contains(s.audit.String(), `"operation":"list_users"`) {
		if time.Since(start) > 3*time.Minute {
			t.Fatalf("the call was not cancelled: still running after %v", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.audit.String(), "cancel") {
		t.Errorf("the audited outcome does not say the call was cancelled:\n%s", s.audit)
	}
}

// TestCallPanicRecovered: a failure inside an operation becomes an
// Internal tool error, and the server keeps serving.
func TestCallPanicRecovered(t *testing.T) {
	// A catalogue without clients panics on its first AWS call.
	var broken *catalogue.Catalogue
	s := start(t, setup{runner: broken})
	msg := s.fails("list_users", "{}", api.Internal)
	if strings.Contains(msg, "nil pointer") || strings.Contains(msg, "goroutine") {
		t.Errorf("the panic leaks Go internals: %s", msg)
	}
	s.fails("list_users", "{}", api.Internal)
}

// TestNewRefusesBadTools: New checks what it is asked to expose.
func TestNewRefusesBadTools(t *testing.T) {
	g := gate.New((*catalogue.Catalogue)(nil), gate.Options{})
	op, _ := catalogue.LookupTool("list_users")
	if _, err := mcpserver.New(g, mcpserver.Options{Tools: []catalogue.Tool{op, op}}); err == nil {
		t.Error("New accepted an operation listed twice")
	}
	madeUp := catalogue.Tool{Operation: api.Operation{Name: "made_up", Input: api.Empty{}, Output: api.Empty{}}, Description: "made up"}
	if _, err := mcpserver.New(g, mcpserver.Options{Tools: []catalogue.Tool{madeUp}}); err == nil {
		t.Error("New accepted an operation that is not in the catalogue")
	}
	if _, err := mcpserver.New(nil, mcpserver.Options{}); err == nil {
		t.Error("New accepted a nil gate")
	}
	srv, err := mcpserver.New(g, mcpserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name := range srv.MCP().ListTools() {
		if _, ok := api.Lookup(name); ok {
			n++
		}
	}
	if n != 35 {
		t.Errorf("zero Options serve %d tools, want the 35 default ones", n)
	}
}

// TestToolSchemasTakeDryRun: every mutating tool takes dry_run and
// confirmed and may answer with a plan; a read tool takes neither. A dry
// run of a destructive tool, in read-only mode too, answers with its plan,
// which satisfies the tool's published output schema (what an official
// client checks), and changes nothing.
func TestToolSchemasTakeDryRun(t *testing.T) {
	s := start(t, setup{readOnly: true, seed: "demo", toolsets: "all"})
	// mcp-go's client keeps only part of an output schema (not anyOf):
	// the schemas are checked as the server sends them.
	raw := map[string]mcp.Tool{}
	for _, op := range catalogue.Tools() {
		tool, err := mcpserver.Tool(op, true, false)
		if err != nil {
			t.Fatal(err)
		}
		raw[op.Name] = tool
		in := schemaOf(t, tool.RawInputSchema)
		props, _ := in["properties"].(map[string]any)
		_, dry := props[api.ArgDryRun]
		_, confirmed := props[api.ArgConfirmed]
		if dry != op.Mutates || confirmed != op.Mutates {
			t.Errorf("%s (mutates %v): dry_run %v, confirmed %v in the input schema", op.Name, op.Mutates, dry, confirmed)
		}
		// Every tool that calls AWS takes the account to act in; one
		// answered by the policy engine alone does not.
		meta, _ := api.Lookup(op.Name)
		acct, hasAccount := props[api.ArgAccount].(map[string]any)
		if hasAccount == meta.Offline || hasAccount && (acct["type"] != "string" || acct["maxLength"] != float64(64)) {
			t.Errorf("%s (offline %v): account in the input schema: %v", op.Name, meta.Offline, props[api.ArgAccount])
		}
		out := schemaOf(t, tool.RawOutputSchema)
		if _, anyOf := out["anyOf"]; anyOf != op.Mutates || out["type"] != "object" {
			t.Errorf("%s (mutates %v): output schema %v", op.Name, op.Mutates, out)
		}
	}
	// On a server of one account, its own id is the one account accepted.
	s.ok("list_users", `{"account": "123456789012"}`)
	if msg := s.fails("list_users", `{"account": "acme-prod"}`, api.AccountNotAllowed); !strings.Contains(msg, "--accounts") {
		t.Errorf("another account on a server of one: %s", msg)
	}
	plan := s.ok("delete_user", `{"user_name": "alice.nguyen", "force": true, "dry_run": true}`)
	if plan["dry_run"] != true {
		t.Fatalf("dry run: %v", plan)
	}
	if err := resolve(t, raw["delete_user"].RawOutputSchema).Validate(plan); err != nil {
		t.Errorf("the dry run does not satisfy delete_user's output schema: %v", err)
	}
	p, _ := plan["plan"].(map[string]any)
	if steps, _ := p["steps"].([]any); len(steps) < 2 || p["reversible"] != false {
		t.Errorf("the plan of a force delete: %v", p)
	}
	s.ok("get_user", `{"user_name": "alice.nguyen"}`)
}

// TestInstructions: the instructions say whether the server writes, and
// which changes are put to the person.
func TestInstructions(t *testing.T) {
	for _, c := range []struct {
		readOnly bool
		confirm  gate.Confirm
		want     []string
		not      []string
	}{
		{true, "", []string{"read-only", "--allow-write", "dry_run"}, []string{"asks for their yes"}},
		{false, "", []string{"destructive change", "asks for their yes", "--confirm destructive", "confirmed argument has no effect"}, []string{"read-only"}},
		{false, gate.ConfirmWrites, []string{"every change", "--confirm writes"}, []string{"read-only"}},
		{false, gate.ConfirmNone, []string{"--confirm none"}, []string{"read-only", "asks for their yes"}},
	} {
		srv, err := mcpserver.New(gate.New(noRunner, gate.Options{ReadOnly: c.readOnly, Confirm: c.confirm}), mcpserver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := srv.MCP().HandleMessage(context.Background(), json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
		b, _ := json.Marshal(res)
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("read-only %v, confirm %q: the instructions do not say %q: %s", c.readOnly, c.confirm, w, b)
			}
		}
		for _, w := range c.not {
			if strings.Contains(string(b), w) {
				t.Errorf("read-only %v, confirm %q: the instructions say %q: %s", c.readOnly, c.confirm, w, b)
			}
		}
	}
}
