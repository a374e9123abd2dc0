package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Plugins is what the server needs of the Wasm plugin runtime: the tools
// to list and a way to call them. *plugin.Runtime is one; tests use fakes.
//
// The runtime has already decided each tool's full name (prefix included),
// checked it against the built-in tools, and worked out Mutates from the
// operations the operator granted; this package only serves the tools.
type Plugins interface {
	Tools() []plugin.Tool
	// CallWithConsent runs a tool; consent asks the person about the
	// changes the operator's --confirm covers (see plugin.Runtime). When a
	// question is pending, it returns an error wrapping
	// plugin.ErrConsentPending, and the call runs again from the start
	// once the person answered.
	CallWithConsent(ctx context.Context, tool string, args json.RawMessage, progress func(api.ProgressReport), consent gate.Consent) (*api.PluginResult, error)
}

// PluginReadOnlyPrefix starts the description of a plugin tool that may
// change IAM when the server runs read-only. Unlike a built-in mutating
// tool, such a tool still runs (its reads work); each change it attempts is
// refused with ReadOnly, and the prefix says so before the assistant tries.
const PluginReadOnlyPrefix = "[the server is read-only: any change this tool attempts is refused with ReadOnly] "

// toolName is MCP's (and the plugins file's) rule for tool names.
var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// PluginTool describes a plugin's tool as an MCP tool: its name,
// description and schemas as the plugin declared them, and the four
// behaviour annotations set explicitly. readOnlyHint is !t.Mutates (true
// only when every operation the tool may call — declared and granted — is
// read-only), and destructiveHint is t.Mutates: the server cannot tell which of a plugin's
// changes can be undone, so it assumes the worst. No plugin tool is
// announced idempotent. readOnly is the server's mode; openWorld is as for
// the built-in tools.
func PluginTool(t plugin.Tool, readOnly, openWorld bool) (mcp.Tool, error) {
	if !toolName.MatchString(t.Name) {
		return mcp.Tool{}, fmt.Errorf("mcpserver: plugin %s: tool name %q does not match %s", t.Plugin, t.Name, toolName)
	}
	in := t.InputSchema
	if len(bytes.TrimSpace(in)) == 0 {
		in = json.RawMessage(`{"type":"object"}`)
	}
	if err := objectSchema(in); err != nil {
		return mcp.Tool{}, fmt.Errorf("mcpserver: plugin %s: tool %s: the input schema %v", t.Plugin, t.Name, err)
	}
	var out json.RawMessage
	if len(bytes.TrimSpace(t.OutputSchema)) > 0 && !bytes.Equal(bytes.TrimSpace(t.OutputSchema), []byte("null")) {
		if err := objectSchema(t.OutputSchema); err != nil {
			return mcp.Tool{}, fmt.Errorf("mcpserver: plugin %s: tool %s: the output schema %v", t.Plugin, t.Name, err)
		}
		out = t.OutputSchema
	}
	desc := t.Description
	if readOnly && t.Mutates {
		desc = PluginReadOnlyPrefix + desc
	}
	return newTool(t.Name, desc, in, out, hints{readOnly: !t.Mutates, destructive: t.Mutates, openWorld: openWorld}), nil
}

// objectSchema checks that raw is a JSON Schema of an object, as MCP
// requires of both schemas (mcp-go would silently drop another output
// schema, and clients would then reject the structured result).
func objectSchema(raw json.RawMessage) error {
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		return errors.New("is not a JSON object")
	}
	if s["type"] != "object" {
		return fmt.Errorf("has type %v, not \"object\"", s["type"])
	}
	return nil
}

// pluginHandler runs one call of a plugin tool through the runtime, which
// runs the plugin's own IAM calls through the plugins' gate.
//
// Consent: the call's consenter asks the person through the client, as for
// a built-in tool. When the plugin's plan (or a change outside it) needs
// an answer, the runtime stops the plugin and the handler returns the
// input-required result; the client's retry runs the tool again from the
// start, and the plugin's plan, stated again, is answered from the reply
// if it is the plan the person was shown.
//
// Progress: when the request carries a progressToken, each report the
// plugin makes becomes a notifications/progress written before the call's
// result (see progressWriter); reports after the call has returned, or that
// do not increase, are dropped, since MCP requires progress to increase and
// a strict client treats a notification after the result as an error.
//
// Reload: the handler runs the tool of the set current when the call
// starts (SetPlugins may have swapped it since mcp-go looked the tool up),
// and that set is kept, and counted as busy, until the call returns.
func (s *Server) pluginHandler(name string) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		set := s.acquire()
		defer s.release(set)
		t, ok := set.tools[name]
		if !ok {
			// Removed by a reload between mcp-go's lookup and now.
			return errorResult(api.Errorf(api.InvalidInput, "%s", s.unknownToolMessage(name))), nil
		}
		hasOutput := len(bytes.TrimSpace(t.OutputSchema)) > 0 && !bytes.Equal(bytes.TrimSpace(t.OutputSchema), []byte("null"))
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				s.logger.ErrorContext(ctx, "plugin tool call panicked", "tool", name, "plugin", t.Plugin, "panic", r, "stack", string(debug.Stack()))
				res, err = errorResult(api.Errorf(api.Internal,
					"the server failed while running %s (plugin %s) and cannot tell whether it changed anything; check with a read tool before retrying, and report the failure with the server's log", name, t.Plugin)), nil
			}
		}()
		if ok, why := accessFrom(ctx).allows(name); !ok {
			return errorResult(api.Errorf(api.NotGranted, "%s", notAllowedMessage(name, why))), nil
		}
		args, aerr := arguments(req)
		if aerr != nil {
			return errorResult(aerr), nil
		}
		var token mcp.ProgressToken
		if req.Params.Meta != nil {
			token = req.Params.Meta.ProgressToken
		}
		p := &progressForwarder{s: s, ctx: ctx, token: token, tool: name}
		c := s.newConsenter(ctx, name, req, args)
		out, cerr := set.p.CallWithConsent(ctx, name, args, p.report, c)
		p.finish()
		if cerr != nil && errors.Is(cerr, plugin.ErrConsentPending) {
			if asked := c.inputRequired(); asked != nil {
				s.logger.DebugContext(ctx, "plugin tool call waits for the person's answer", "tool", name, "plugin", t.Plugin, "duration", time.Since(start))
				return asked, nil
			}
			cerr = api.Errorf(api.ConsentRequired, "plugin %s stopped %s to ask the person, but no question was put to them; nothing more was changed. Report this with the server's log", t.Plugin, name)
		}
		if cerr != nil {
			ae := plugin.ToolError(t, cerr)
			s.logger.DebugContext(ctx, "plugin tool call failed", "tool", name, "plugin", t.Plugin, "code", ae.Code, "duration", time.Since(start))
			return errorResult(ae), nil
		}
		res = pluginResult(t, out, hasOutput)
		s.logger.DebugContext(ctx, "plugin tool call", "tool", name, "plugin", t.Plugin, "ok", !res.IsError, "progress", p.sent, "duration", time.Since(start))
		return res, nil
	}
}

// pluginResult maps a plugin's answer to the MCP result: its text content,
// its structured content (which must be a JSON object) and is_error. A
// success with structured content but no text also carries the JSON as
// text, as the built-in tools do for clients that ignore structured
// content. A tool error carries text only, since the output schema
// describes success.
func pluginResult(t plugin.Tool, r *api.PluginResult, hasOutput bool) *mcp.CallToolResult {
	if r == nil {
		return errorResult(api.Errorf(api.Internal, "plugin %s returned no result for %s; report this to the plugin's author", t.Plugin, t.Name))
	}
	res := &mcp.CallToolResult{Content: make([]mcp.Content, 0, len(r.Content)), IsError: r.IsError}
	for _, c := range r.Content {
		if c.Type != "" && c.Type != "text" {
			continue // the contract has text only; anything else is not forwarded
		}
		res.Content = append(res.Content, mcp.NewTextContent(c.Text))
	}
	sc := bytes.TrimSpace(r.StructuredContent)
	if r.IsError || len(sc) == 0 || bytes.Equal(sc, []byte("null")) {
		if !r.IsError && hasOutput {
			return errorResult(api.Errorf(api.Internal, "plugin %s answered %s without structured content, though the tool declares an output schema; report this to the plugin's author", t.Plugin, t.Name))
		}
		if len(res.Content) == 0 {
			res.Content = append(res.Content, mcp.NewTextContent(""))
		}
		return res
	}
	if sc[0] != '{' || !json.Valid(sc) {
		return errorResult(api.Errorf(api.Internal, "plugin %s answered %s with structured content that is not a JSON object; report this to the plugin's author", t.Plugin, t.Name))
	}
	res.StructuredContent = json.RawMessage(sc)
	if len(res.Content) == 0 {
		res.Content = append(res.Content, mcp.NewTextContent(string(sc)))
	}
	return res
}

// progressForwarder sends one tool call's progress reports to the client.
type progressForwarder struct {
	s     *Server
	ctx   context.Context
	token mcp.ProgressToken
	tool  string

	mu   sync.Mutex
	done bool    // the call has returned: nothing more may be sent
	last float64 // the last progress sent
	sent int
}

func (p *progressForwarder) report(r api.ProgressReport) {
	if p.token == nil {
		return // the client asked for no progress
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		p.s.logger.Debug("progress after the call returned, dropped", "tool", p.tool, "progress", r.Progress)
		return
	}
	if p.sent > 0 && r.Progress <= p.last {
		p.s.logger.Debug("progress that does not increase, dropped", "tool", p.tool, "progress", r.Progress, "last", p.last)
		return
	}
	if err := p.s.sendProgress(p.ctx, p.token, r); err != nil {
		p.s.logger.Debug("progress not sent", "tool", p.tool, "err", err)
		return
	}
	p.last = r.Progress
	p.sent++
}

// finish is called once the runtime's Call has returned, before the result
// is handed to mcp-go to write.
func (p *progressForwarder) finish() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
}

// sendProgress writes a notifications/progress. Under ServeStdio it is
// written synchronously on the same stream as the responses (so it is out
// before the handler returns, hence before the result); otherwise (an
// in-process client of MCP()) it goes through mcp-go's session queue.
func (s *Server) sendProgress(ctx context.Context, token mcp.ProgressToken, r api.ProgressReport) error {
	params := map[string]any{"progressToken": token, "progress": r.Progress}
	if r.Total > 0 {
		params["total"] = r.Total
	}
	if r.Message != "" {
		params["message"] = r.Message
	}
	if w, ok := ctx.Value(streamKey{}).(*responseWriter); ok {
		msg, err := json.Marshal(mcp.JSONRPCNotification{
			JSONRPC: mcp.JSONRPC_VERSION,
			Notification: mcp.Notification{
				Method: "notifications/progress",
				Params: mcp.NotificationParams{AdditionalFields: params},
			},
		})
		if err != nil {
			return err
		}
		_, err = w.Write(append(msg, '\n'))
		return err
	}
	if st := httpStreamFrom(ctx); st != nil {
		return st.send(ctx, "notifications/progress", params)
	}
	return s.mcp.SendNotificationToClient(ctx, "notifications/progress", params)
}

// pluginSet is one set of plugins as served: the Plugins, its tools the
// Filter shows (by name), those it hides, its tools' listing order, and how
// many calls are running on it.
type pluginSet struct {
	p      Plugins
	tools  map[string]plugin.Tool
	hidden map[string]bool
	rank   map[string]int

	running int           // calls running on this set; under Server.pmu
	idle    chan struct{} // closed once the set is retired and running is 0
	closed  bool          // idle is closed
}

// pluginSet checks p's tools as New and SetPlugins require and describes
// them; nil p is the empty set. Nothing of s changes.
//
// The runtime refuses a plugin tool named like a catalogue operation, a
// built-in tool or another plugin's; this repeats the check here, against
// the whole catalogue and not only what is exposed (a call of delete_role
// under the default toolsets must be told how to enable it, never run a
// plugin), against every '_' name the server keeps for itself, and without
// regard to letter case (a client that ignores case would take Delete_Role
// for delete_role), so that a plugin can never answer a call meant for
// something else. A tool the Filter hides is checked too: hiding it must
// not free its name.
func (s *Server) pluginSet(p Plugins) (*pluginSet, []server.ServerTool, error) {
	set := &pluginSet{p: p, tools: map[string]plugin.Tool{}, hidden: map[string]bool{}, rank: map[string]int{},
		idle: make(chan struct{})}
	if p == nil {
		return set, nil, nil
	}
	var tools []server.ServerTool
	owner := map[string]string{} // folded name → plugin
	for i, t := range p.Tools() {
		if why := plugin.ReservedToolName(t.Name); why != "" {
			return nil, nil, fmt.Errorf("mcpserver: plugin %s: the tool name %s %s", t.Plugin, t.Name, why)
		}
		for name := range s.exposed {
			if strings.EqualFold(name, t.Name) {
				return nil, nil, fmt.Errorf("mcpserver: plugin %s: tool %s has the name of the built-in tool %s", t.Plugin, t.Name, name)
			}
		}
		folded := strings.ToLower(t.Name)
		if other, dup := owner[folded]; dup {
			return nil, nil, fmt.Errorf("mcpserver: plugins %s and %s both offer a tool named %s (letter case aside)", other, t.Plugin, t.Name)
		}
		owner[folded] = t.Plugin
		tool, err := PluginTool(t, s.gate.ReadOnly(), s.openWorld)
		if err != nil {
			return nil, nil, err
		}
		if !s.filter.Shows(t.Name) {
			set.hidden[t.Name] = true
			continue
		}
		set.tools[t.Name] = t
		set.rank[t.Name] = i
		tools = append(tools, server.ServerTool{Tool: tool, Handler: s.pluginHandler(t.Name)})
	}
	return set, tools, nil
}

// SetPlugins replaces the plugin set the server serves, for a reload. p's
// tools are checked as New checks them; if one is refused, nothing changes
// and the error says why. Otherwise, in one step, the old set's tools are
// withdrawn and p's listed, each client is sent one
// notifications/tools/list_changed, and new calls go to p. A call already
// running finishes on the set it started with; PluginsIdle says when the
// old set has none left, so that its owner can close it. nil p serves no
// plugin tools. p must be comparable (a pointer, as *plugin.Runtime is).
func (s *Server) SetPlugins(p Plugins) error {
	set, ptools, err := s.pluginSet(p)
	if err != nil {
		return err
	}
	// The built-in tools (and anything else registered on MCP()) stay; the
	// plugin tools are replaced. SetTools swaps mcp-go's whole table under
	// its lock and notifies once, where DeleteTools then AddTools would
	// notify twice and show a listing without plugin tools in between.
	s.pmu.Lock()
	defer s.pmu.Unlock()
	old := s.plugins
	tools := make([]server.ServerTool, 0, len(ptools)+len(s.exposed))
	for name, st := range s.mcp.ListTools() {
		if _, plug := old.tools[name]; plug {
			continue
		}
		tools = append(tools, *st)
	}
	tools = append(tools, ptools...)
	s.plugins = set
	s.retire(old)
	s.mcp.SetTools(tools...)
	return nil
}

// currentSet is the set new calls go to.
func (s *Server) currentSet() *pluginSet {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.plugins
}

// currentPlugins is the Plugins new calls go to, or nil.
func (s *Server) currentPlugins() Plugins {
	return s.currentSet().p
}

// acquire counts a call starting on the current set; release ends it.
func (s *Server) acquire() *pluginSet {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	s.plugins.running++
	return s.plugins
}

func (s *Server) release(set *pluginSet) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	set.running--
	s.closeIfIdle(set)
}

// retire marks old as replaced; under pmu.
func (s *Server) retire(old *pluginSet) {
	s.retired = append(s.retired, old)
	s.closeIfIdle(old)
}

// closeIfIdle closes a retired set's idle channel once no call runs on it,
// and forgets the set; under pmu.
func (s *Server) closeIfIdle(set *pluginSet) {
	if set.running > 0 || set.closed || set == s.plugins {
		return
	}
	set.closed = true
	close(set.idle)
	s.retired = slices.DeleteFunc(s.retired, func(r *pluginSet) bool { return r == set })
}

// PluginsIdle returns a channel closed once p has been replaced by
// SetPlugins and no call runs on it any more: its owner may then close it.
// For a p that is not (or no longer) known, the channel is already closed;
// for the current set, it closes only after a later SetPlugins.
func (s *Server) PluginsIdle(p Plugins) <-chan struct{} {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.plugins.p == p {
		return s.plugins.idle
	}
	for _, r := range s.retired {
		if r.p == p {
			return r.idle
		}
	}
	done := make(chan struct{})
	close(done)
	return done
}
