package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// fakePlugins stands in for the Wasm runtime: the server only needs its
// tools and its Call.
type fakePlugins struct {
	tools []plugin.Tool
	call  func(ctx context.Context, tool string, args json.RawMessage, progress func(api.ProgressReport)) (*api.PluginResult, error)
	// consent, when set, serves calls instead of call, with the consenter.
	consent func(ctx context.Context, tool string, args json.RawMessage, c gate.Consent) (*api.PluginResult, error)
}

func (f *fakePlugins) Tools() []plugin.Tool { return f.tools }

func (f *fakePlugins) CallWithConsent(ctx context.Context, tool string, args json.RawMessage, progress func(api.ProgressReport), consent gate.Consent) (*api.PluginResult, error) {
	if f.consent != nil {
		return f.consent(ctx, tool, args, consent)
	}
	return f.call(ctx, tool, args, progress)
}

var fakeTools = []plugin.Tool{
	{
		Name: "acme_review", Plugin: "acme", PluginTool: "review", Description: "Review access.",
		InputSchema:  json.RawMessage(`{"type":"object","properties":{"steps":{"type":"integer"}}}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"steps":{"type":"integer"}}}`),
		Mutates:      false, Operations: []string{"list_users"},
	},
	{
		Name: "acme_offboard", Plugin: "acme", PluginTool: "offboard", Description: "Offboard a user.",
		InputSchema: json.RawMessage(`{"type":"object"}`), Mutates: true, Operations: []string{"delete_user"},
	},
}

// fakeCall answers acme_review with {"steps": n} after n progress reports,
// and acme_offboard according to its "mode" argument.
func fakeCall(_ context.Context, tool string, args json.RawMessage, progress func(api.ProgressReport)) (*api.PluginResult, error) {
	var in struct {
		Steps int    `json:"steps"`
		Mode  string `json:"mode"`
	}
	_ = json.Unmarshal(args, &in)
	switch tool {
	case "acme_review":
		for i := 1; i <= in.Steps; i++ {
			progress(api.ProgressReport{Progress: float64(i), Total: float64(in.Steps), Message: fmt.Sprintf("step %d", i)})
			if i%4 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		return &api.PluginResult{StructuredContent: json.RawMessage(fmt.Sprintf(`{"steps":%d}`, in.Steps))}, nil
	case "acme_offboard":
		switch in.Mode {
		case "tool-error":
			return &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: "NoSuchEntity: there is no user bob"}}, IsError: true}, nil
		case "trap":
			return nil, api.Errorf(api.Internal, "plugin acme trapped while running acme_offboard")
		case "plain-error":
			return nil, errors.New("wasm: out of bounds memory access")
		case "not-object":
			return &api.PluginResult{StructuredContent: json.RawMessage(`[1,2]`)}, nil
		}
		return &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: "done"}}}, nil
	}
	return nil, api.Errorf(api.InvalidInput, "no tool %s", tool)
}

// noRunner is a gate's runner for tests that call no built-in tool.
var noRunner = (*catalogue.Catalogue)(nil)

func newPluginServer(t *testing.T, readOnly bool, f *fakePlugins) *mcpserver.Server {
	t.Helper()
	srv, err := mcpserver.New(gate.New(noRunner, gate.Options{ReadOnly: readOnly}), mcpserver.Options{Sandbox: true, Plugins: f})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestPluginToolsListed: plugin tools follow the built-in ones with their
// plugin's schemas and description, and annotations from Mutates.
func TestPluginToolsListed(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		srv := newPluginServer(t, readOnly, &fakePlugins{tools: fakeTools, call: fakeCall})
		out := handleLine(t, srv, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)
		var res struct {
			Result struct {
				Tools []map[string]any `json:"tools"`
			} `json:"result"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		tools := res.Result.Tools
		if n := len(tools); n < 3 || tools[n-2]["name"] != "acme_review" || tools[n-1]["name"] != "acme_offboard" {
			t.Fatalf("the plugin tools are not listed last, in the runtime's order: %d tools, last %v", n, tools[n-1]["name"])
		}
		if tools[0]["name"] != "list_users" {
			t.Errorf("the built-in tools no longer come first: %v", tools[0]["name"])
		}
		review, offboard := tools[len(tools)-2], tools[len(tools)-1]
		if review["description"] != "Review access." {
			t.Errorf("description %q", review["description"])
		}
		if !jsonEq(review["inputSchema"], fakeTools[0].InputSchema) || !jsonEq(review["outputSchema"], fakeTools[0].OutputSchema) {
			t.Errorf("schemas changed on the way: %v %v", review["inputSchema"], review["outputSchema"])
		}
		if _, has := offboard["outputSchema"]; has {
			t.Errorf("a tool without an output schema got one: %v", offboard["outputSchema"])
		}
		for tool, want := range map[string]map[string]any{
			"review":   {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": false, "openWorldHint": false},
			"offboard": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false},
		} {
			m := review
			if tool == "offboard" {
				m = offboard
			}
			ann, _ := m["annotations"].(map[string]any)
			for k, v := range want {
				if ann[k] != v {
					t.Errorf("readonly=%v: %s: %s = %v, want %v", readOnly, tool, k, ann[k], v)
				}
			}
		}
		desc, _ := offboard["description"].(string)
		if readOnly != strings.HasPrefix(desc, mcpserver.PluginReadOnlyPrefix) {
			t.Errorf("readonly=%v: the mutating plugin tool's description is %q", readOnly, desc)
		}
		if d, _ := review["description"].(string); strings.HasPrefix(d, "[") {
			t.Errorf("a read-only plugin tool is marked: %q", d)
		}
	}
}

func jsonEq(a any, raw json.RawMessage) bool {
	var b any
	_ = json.Unmarshal(raw, &b)
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// handleLine runs one request through the server in process.
func handleLine(t *testing.T, srv *mcpserver.Server, line string) []byte {
	t.Helper()
	b, err := json.Marshal(srv.MCP().HandleMessage(context.Background(), json.RawMessage(line)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPluginCallResults: the plugin's content, structured content and
// is_error map to the MCP result; a runtime failure is a tool error.
func TestPluginCallResults(t *testing.T) {
	srv := newPluginServer(t, false, &fakePlugins{tools: fakeTools, call: fakeCall})
	for _, c := range []struct {
		tool, args string
		isError    bool
		text       string
		structured string
	}{
		{"acme_review", `{"steps":2}`, false, `{"steps":2}`, `{"steps":2}`},
		{"acme_offboard", `{}`, false, "done", ""},
		{"acme_offboard", `{"mode":"tool-error"}`, true, "NoSuchEntity: there is no user bob", ""},
		{"acme_offboard", `{"mode":"trap"}`, true, "Internal: plugin acme trapped while running acme_offboard", ""},
		{"acme_offboard", `{"mode":"plain-error"}`, true, "Internal: plugin acme failed while running acme_offboard: wasm: out of bounds memory access", ""},
		{"acme_offboard", `{"mode":"not-object"}`, true, "Internal: plugin acme answered acme_offboard with structured content that is not a JSON object; report this to the plugin's author", ""},
	} {
		out := handleLine(t, srv, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"`+c.tool+`","arguments":`+c.args+`}}`)
		var res struct {
			Result struct {
				Content []struct {
					Type, Text string
				} `json:"content"`
				StructuredContent json.RawMessage `json:"structuredContent"`
				IsError           bool            `json:"isError"`
			} `json:"result"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s %s: %v\n%s", c.tool, c.args, err, out)
		}
		r := res.Result
		if r.IsError != c.isError || len(r.Content) != 1 || r.Content[0].Type != "text" || r.Content[0].Text != c.text {
			t.Errorf("%s %s: %s", c.tool, c.args, out)
		}
		if string(r.StructuredContent) != c.structured {
			t.Errorf("%s %s: structured content %s, want %q", c.tool, c.args, r.StructuredContent, c.structured)
		}
	}
}

// TestNewRefusesPluginCollision: a plugin tool named like a built-in tool
// is refused, naming the plugin.
func TestNewRefusesPluginCollision(t *testing.T) {
	f := &fakePlugins{tools: []plugin.Tool{{Name: "list_users", Plugin: "sly", InputSchema: json.RawMessage(`{"type":"object"}`)}}, call: fakeCall}
	_, err := mcpserver.New(gate.New(noRunner, gate.Options{}), mcpserver.Options{Plugins: f})
	if err == nil || !strings.Contains(err.Error(), "sly") || !strings.Contains(err.Error(), "list_users") {
		t.Errorf("New with a plugin tool named list_users: %v", err)
	}
	f.tools = []plugin.Tool{{Name: "bad name!", Plugin: "sly"}}
	if _, err := mcpserver.New(gate.New(noRunner, gate.Options{}), mcpserver.Options{Plugins: f}); err == nil {
		t.Error("New accepted a plugin tool name MCP does not allow")
	}
}

// TestNewRefusesPluginToolNamedLikeAnyOperation: a plugin tool may not
// take the name of any catalogue operation, exposed or not (delete_role is
// outside the default toolsets: a call of it must be told how to enable
// it, never run a plugin), in any letter case, nor a '_' name (the hidden
// unknown-tool handler's), nor differ only in case from another plugin's.
func TestNewRefusesPluginToolNamedLikeAnyOperation(t *testing.T) {
	if tool, _ := catalogue.LookupTool("delete_role"); tool.Default {
		t.Fatal("delete_role is in the default toolset; pick an operation outside it for this test")
	}
	tool := func(name, owner string) plugin.Tool {
		return plugin.Tool{Name: name, Plugin: owner, InputSchema: json.RawMessage(`{"type":"object"}`)}
	}
	for _, c := range []struct {
		tools []plugin.Tool
		want  string
	}{
		{[]plugin.Tool{tool("delete_role", "sly")}, "catalogue operation delete_role"},
		{[]plugin.Tool{tool("Delete_Role", "sly")}, "letter case"},
		{[]plugin.Tool{tool("LIST_USERS", "sly")}, "letter case"},
		{[]plugin.Tool{tool("_unknown_tool", "sly")}, "starts with '_'"},
		{[]plugin.Tool{tool("_other", "sly")}, "starts with '_'"},
		{[]plugin.Tool{tool("acme_x", "acme"), tool("ACME_X", "sly")}, "plugins acme and sly both offer a tool named ACME_X (letter case aside)"},
	} {
		f := &fakePlugins{tools: c.tools, call: fakeCall}
		_, err := mcpserver.New(gate.New(noRunner, gate.Options{}), mcpserver.Options{Plugins: f})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "sly") {
			t.Errorf("plugin tools %s…: %v, want %q", c.tools[len(c.tools)-1].Name, err, c.want)
		}
	}
	// A name that only resembles one is served.
	f := &fakePlugins{tools: []plugin.Tool{tool("delete_roles", "sly")}, call: fakeCall}
	if _, err := mcpserver.New(gate.New(noRunner, gate.Options{}), mcpserver.Options{Plugins: f}); err != nil {
		t.Errorf("delete_roles: %v", err)
	}
}

// stdioSession drives ServeStdio over pipes with raw JSON-RPC lines and
// records every line the server writes, in order.
type stdioSession struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan string
	done  chan error
	mu    sync.Mutex
	all   []string
}

func serveRaw(t *testing.T, srv *mcpserver.Server) *stdioSession {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &stdioSession{t: t, in: inW, lines: make(chan string, 100000), done: make(chan error, 1)}
	go func() {
		s.done <- srv.ServeStdio(context.Background(), inR, outW)
		outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.all = append(s.all, sc.Text())
			s.mu.Unlock()
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	s.send(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	s.waitFor(func(line string) bool { return strings.Contains(line, `"id":"init"`) })
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return s
}

func (s *stdioSession) send(line string) {
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stdioSession) waitFor(match func(string) bool) {
	s.t.Helper()
	timeout := time.After(3 * time.Minute) // a guard against a hang
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatal("the server's output ended")
			}
			if match(line) {
				return
			}
		case <-timeout:
			s.t.Fatal("no answer within 3 minutes")
		}
	}
}

// close ends the input and waits for ServeStdio, which answers what it read
// first.
func (s *stdioSession) close() []string {
	s.in.Close()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("ServeStdio: %v", err)
		}
	case <-time.After(3 * time.Minute): // a guard against a hang (its own bound is DrainTimeout+StopTimeout)
		s.t.Fatal("ServeStdio did not return after its input closed")
	}
	for range s.lines {
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all
}

// TestPluginProgressBeforeResult: for many concurrent calls, each with a
// progressToken, every progress notification reaches the stream before
// the call's result, none is lost, and none follows it. (Through mcp-go's
// own notification queue some arrive after the result, and beyond 100
// queued ones are dropped.)
func TestPluginProgressBeforeResult(t *testing.T) {
	const calls, steps = 40, 30
	srv := newPluginServer(t, false, &fakePlugins{tools: fakeTools, call: fakeCall})
	s := serveRaw(t, srv)
	for i := 0; i < calls; i++ {
		s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"acme_review","arguments":{"steps":%d},"_meta":{"progressToken":"tok-%d"}}}`, i, steps, i))
	}
	// One call without a token gets no progress at all.
	s.send(`{"jsonrpc":"2.0","id":"quiet","method":"tools/call","params":{"name":"acme_review","arguments":{"steps":5}}}`)
	lines := s.close()

	progress := map[string][]float64{}
	answered := map[string]bool{}
	for _, line := range lines {
		var msg struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
			Params struct {
				ProgressToken string  `json:"progressToken"`
				Progress      float64 `json:"progress"`
				Total         float64 `json:"total"`
				Message       string  `json:"message"`
			} `json:"params"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("not one JSON-RPC message per line: %q", line)
		}
		switch {
		case msg.Method == "notifications/progress":
			tok := msg.Params.ProgressToken
			id := strings.TrimPrefix(tok, "tok-")
			if answered[id] {
				t.Errorf("progress %v of %s arrived after its call's result", msg.Params.Progress, tok)
			}
			if msg.Params.Total != steps || msg.Params.Message == "" {
				t.Errorf("progress notification without its total or message: %s", line)
			}
			progress[id] = append(progress[id], msg.Params.Progress)
		case msg.ID != nil:
			answered[fmt.Sprint(msg.ID)] = true
			if fmt.Sprint(msg.ID) != "init" && !strings.Contains(string(msg.Result), `"structuredContent"`) {
				t.Errorf("call %v: %s", msg.ID, msg.Result)
			}
		}
	}
	for i := 0; i < calls; i++ {
		id := fmt.Sprint(i)
		if !answered[id] {
			t.Errorf("call %s was not answered", id)
		}
		if got := progress[id]; len(got) != steps {
			t.Errorf("call %s: %d progress notifications, want %d", id, len(got), steps)
		}
	}
	if !answered["quiet"] || len(progress["quiet"]) != 0 {
		t.Errorf("the call without a progress token: answered %v, %d notifications", answered["quiet"], len(progress["quiet"]))
	}
}

// TestPluginProgressAfterReturnDropped: a report that comes after the
// runtime's Call has returned, or that does not increase, is not sent.
func TestPluginProgressAfterReturnDropped(t *testing.T) {
	var late func(api.ProgressReport)
	f := &fakePlugins{tools: fakeTools, call: func(_ context.Context, _ string, _ json.RawMessage, progress func(api.ProgressReport)) (*api.PluginResult, error) {
		progress(api.ProgressReport{Progress: 2})
		progress(api.ProgressReport{Progress: 1}) // goes backwards: dropped
		late = progress
		return &api.PluginResult{StructuredContent: json.RawMessage(`{"steps":1}`)}, nil
	}}
	s := serveRaw(t, newPluginServer(t, false, f))
	s.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"acme_review","arguments":{},"_meta":{"progressToken":7}}}`)
	s.waitFor(func(line string) bool { return strings.Contains(line, `"id":7`) && strings.Contains(line, `"result"`) })
	late(api.ProgressReport{Progress: 3})
	lines := s.close()
	n := 0
	for _, line := range lines {
		if strings.Contains(line, "notifications/progress") {
			n++
			if !strings.Contains(line, `"progress":2`) || !strings.Contains(line, `"progressToken":7`) {
				t.Errorf("unexpected progress: %s", line)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d progress notifications, want 1:\n%s", n, strings.Join(lines, "\n"))
	}
}

// TestPluginConcurrentCalls: 50 calls run at once — each waits until all
// 50 are in flight — so mcp-go's worker pool (5 by default) must have been
// raised.
func TestPluginConcurrentCalls(t *testing.T) {
	const n = 50
	var inFlight atomic.Int32
	all := make(chan struct{})
	f := &fakePlugins{tools: fakeTools, call: func(ctx context.Context, _ string, _ json.RawMessage, _ func(api.ProgressReport)) (*api.PluginResult, error) {
		if inFlight.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(3 * time.Minute): // a guard against a hang: calls that never all run at once
			return nil, api.Errorf(api.Internal, "only %d calls ran at once", inFlight.Load())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &api.PluginResult{StructuredContent: json.RawMessage(`{"steps":0}`)}, nil
	}}
	s := serveRaw(t, newPluginServer(t, false, f))
	for i := 0; i < n; i++ {
		s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"acme_review","arguments":{}}}`, i))
	}
	lines := s.close()
	ok := 0
	for _, line := range lines {
		if strings.Contains(line, `"structuredContent":{"steps":0}`) {
			ok++
		} else if strings.Contains(line, "isError") {
			t.Errorf("a call failed: %s", line)
		}
	}
	if ok != n {
		t.Errorf("%d of %d concurrent calls succeeded", ok, n)
	}
}

// offboardPlan is the plan the fake plugin states; its target can change
// between the question and the answer.
type offboardPlan struct {
	mu     sync.Mutex
	target string
	runs   int
}

// consentingPlugins is a fake runtime whose acme_offboard states a plan
// and asks about it as the real runtime does: Pending stops the call with
// ErrConsentPending, accept runs it, anything else changes nothing.
func consentingPlugins(p *offboardPlan) *fakePlugins {
	return &fakePlugins{tools: fakeTools, consent: func(ctx context.Context, tool string, _ json.RawMessage, c gate.Consent) (*api.PluginResult, error) {
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		q := gate.Question{Caller: gate.Caller{Kind: gate.Plugin, Plugin: "acme", Tool: tool}, Summary: "offboard " + target,
			Changes: []gate.Proposed{{Operation: "delete_user", Input: &api.DeleteUserInput{UserName: target},
				Plan: &api.Plan{Operation: "delete_user", Summary: "delete IAM user " + target,
					Steps: []api.PlanStep{{Action: "iam:DeleteUser", Target: "user/" + target}}, Undo: "a deleted user cannot be restored"}}}}
		if c == nil {
			return nil, api.Errorf(api.ConsentRequired, "no consenter")
		}
		a, err := c.Ask(ctx, q)
		switch {
		case err != nil:
			return nil, err
		case a.Pending:
			return nil, fmt.Errorf("plugin acme: %w", plugin.ErrConsentPending)
		case a.Unavailable != "":
			return nil, api.Errorf(api.ConsentRequired, "nobody can be asked: %s", a.Unavailable)
		case a.Decision != gate.Accept:
			return nil, api.Errorf(api.Declined, "the person declined plugin acme's plan; nothing was changed")
		}
		p.mu.Lock()
		p.runs++
		p.mu.Unlock()
		return &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: "offboarded " + target}}}, nil
	}}
}

// TestPluginConsent: a plugin tool's plan is put to the person through the
// client like a built-in tool's change, with the plugin's words marked as
// such; the retry runs the tool again and the plan, stated again, is
// answered from the reply; a plan that changed meanwhile is asked again.
func TestPluginConsent(t *testing.T) {
	p := &offboardPlan{target: "bob"}
	w := startWire(t, wireSetup{opts: func(o *mcpserver.Options) { o.Plugins = consentingPlugins(p) }})
	meta := modernMeta(elicitCaps)
	token, msg := asked(t, w.call(meta, "acme_offboard", `{}`, ""))
	for _, want := range []string{"Plugin acme (tool acme_offboard) asks", "Purpose (the plugin's words): offboard bob", "iam:DeleteUser user/bob", "CANNOT be undone"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the question lacks %q:\n%s", want, msg)
		}
	}
	if r := w.call(meta, "acme_offboard", `{}`, answerWith(token, "decline")); !r.IsError || !strings.HasPrefix(r.text(), "Declined: ") {
		t.Errorf("declined: %+v", r)
	}
	token, _ = asked(t, w.call(meta, "acme_offboard", `{}`, ""))
	p.mu.Lock()
	p.target = "carol" // the plan is not the one shown any more
	p.mu.Unlock()
	token2, msg := asked(t, w.call(meta, "acme_offboard", `{}`, answerWith(token, "accept")))
	if !strings.Contains(msg, "user/carol") {
		t.Errorf("the new question does not show the new plan:\n%s", msg)
	}
	if r := w.call(meta, "acme_offboard", `{}`, answerWith(token2, "accept")); r.IsError || r.text() != "offboarded carol" {
		t.Errorf("accepted: %+v", r)
	}
	if p.runs != 1 {
		t.Errorf("the plugin's change ran %d times", p.runs)
	}
	// A client that cannot elicit is refused with the flag to use.
	if r := w.call(modernMeta(noElicitCaps), "acme_offboard", `{}`, ""); !r.IsError || !strings.Contains(r.text(), "--confirm none") {
		t.Errorf("no elicitation: %+v", r)
	}
}

// TestPluginToolFilter: a plugin tool that --tools/--exclude-tools hides is
// neither listed nor callable, and a call says it is hidden.
func TestPluginToolFilter(t *testing.T) {
	filter, err := mcpserver.ParseToolFilter("", "acme_off*")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakePlugins{tools: fakeTools, call: func(context.Context, string, json.RawMessage, func(api.ProgressReport)) (*api.PluginResult, error) {
		t.Error("a hidden plugin tool ran")
		return nil, nil
	}}
	w := startWire(t, wireSetup{opts: func(o *mcpserver.Options) { o.Plugins, o.Filter = f, filter }})
	list := w.request("tools/list", `{"_meta":`+modernMeta(noElicitCaps)+`}`)
	if strings.Contains(string(list.Result), "acme_offboard") || !strings.Contains(string(list.Result), "acme_review") {
		t.Errorf("tools/list under --exclude-tools acme_off*: %.500s", list.Result)
	}
	res := w.request("tools/call", `{"name":"acme_offboard","arguments":{},"_meta":`+modernMeta(noElicitCaps)+`}`)
	if res.Error == nil || res.Error.Code != -32602 || !strings.Contains(res.Error.Message, "hidden on this server by its operator") {
		t.Errorf("a call of the hidden tool: %s", res.line)
	}
}
