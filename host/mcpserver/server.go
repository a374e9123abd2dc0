// Package mcpserver exposes the IAM operation catalogue as MCP tools, over
// stdio, with mark3labs/mcp-go.
//
// It is a thin layer: every tool is one catalogue operation (catalogue.Tools)
// and every call goes through the gate, which alone decides whether it may
// run. This package only translates:
//
//  1. at start, each exposed operation becomes a tool: its name, its
//     description (prefixed as disabled when the gate is read-only and the
//     operation mutates), JSON Schemas derived from its Go input and output
//     types, and all four behaviour annotations set explicitly (mcp-go
//     would otherwise announce destructiveHint: true for everything);
//  2. on tools/call, the arguments go to the gate exactly as the client sent
//     them, with the request's context, so that a client's cancellation
//     reaches the AWS call;
//  3. the gate's answer comes back as structured content and the same JSON
//     as text (for clients that ignore structured content), or as a tool
//     error (isError) reading "<Code>: <message>";
//  4. when the gate needs the person's yes (--confirm), the call's
//     consenter (consent.go) asks through MCP elicitation: the call returns
//     an input-required result, and the client's retry carries the answer.
//
// Plugin tools (Options.Plugins) are listed after the built-in ones with
// the schemas and description their plugin declared; a call goes to the
// plugin runtime, whose own gate checks every IAM call the plugin makes,
// and the plugin's progress reports reach the client as progress
// notifications, always before the call's result (see ServeStdio).
//
// Stdout belongs to the protocol; the package logs only through the
// slog.Logger it is given.
package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Name is the server name announced in the MCP initialize result.
const Name = "iam-mcp-server"

// DisabledPrefix starts the description of a mutating tool when the server
// runs read-only (the default, unless the operator allows writes). The tool
// stays listed, so that the assistant can tell the user why it cannot do
// something instead of believing the tool is missing, and its dry run
// still works.
const DisabledPrefix = "[disabled: the server is read-only (the operator did not allow writes); dry_run still works] "

// Options configures a Server. The zero value serves the default tools.
type Options struct {
	// Tools are the built-in tools to expose, usually from
	// ResolveToolsets; nil means the "default" toolset.
	Tools []catalogue.Tool
	// Sandbox says the gate's catalogue talks to the embedded sandbox, not
	// AWS: tools then announce openWorldHint false, since nothing outside
	// the process is reached.
	Sandbox bool
	// Version is announced in the initialize result.
	Version string
	// Logger receives the server's logs (stderr in practice); nil discards.
	Logger *slog.Logger
	// Plugins, when set, adds the tools of the loaded Wasm plugins, listed
	// after the built-in tools in the runtime's order. Their IAM calls go
	// through the runtime's own gate, not through the one given to New.
	Plugins Plugins
	// Filter is --tools and --exclude-tools. Built-in tools arrive already
	// filtered in Tools; a plugin tool the filter does not show is neither
	// listed nor callable.
	Filter *ToolFilter
	// ClientLog, when set, sends the server's log records to the clients
	// that ask for them (see ClientLog); the Logger is usually built on its
	// Handler.
	ClientLog *ClientLog
}

// Server is the MCP server of the built-in tools and the plugins' tools.
// Build it with New.
type Server struct {
	mcp       *server.MCPServer
	gate      *gate.Gate
	logger    *slog.Logger
	openWorld bool // the calls reach AWS (not the sandbox)

	exposed map[string]bool // the built-in tools served
	filter  *ToolFilter

	// pmu guards plugins, the plugin set new calls go to, and retired,
	// the sets SetPlugins replaced whose calls may still be running.
	pmu     sync.Mutex
	plugins *pluginSet
	retired []*pluginSet

	questions *questionStore // consent questions awaiting the client's answer
	clients   clientCaps     // what each session declared at initialize
	clientLog *ClientLog
	stdio     atomic.Pointer[stdioSession] // the ServeStdio session running, if any
}

// New registers one MCP tool per operation in opts.Tools, each calling
// through g. Whether mutating tools are marked disabled follows
// g.ReadOnly(), so the listing and the gate's decisions cannot disagree.
func New(g *gate.Gate, opts Options) (*Server, error) {
	if g == nil {
		return nil, errors.New("mcpserver: a gate is required")
	}
	ops := opts.Tools
	if ops == nil {
		var err error
		if ops, err = ResolveToolsets(ToolsetDefault); err != nil {
			return nil, err
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}

	// tools/list answers in catalogue order (families together), not
	// mcp-go's alphabetical order.
	// Plugin tools follow, in their set's order (pluginSet.rank).
	builtIn := api.All()
	rank := make(map[string]int, len(builtIn))
	for i, op := range builtIn {
		rank[op.Name] = i
	}
	var s *Server
	listFilter := func(ctx context.Context, tools []mcp.Tool) []mcp.Tool {
		out := slices.Clone(tools)
		// An HTTP request lists only the tools its access leaves it.
		if acc := accessFrom(ctx); acc != nil {
			out = slices.DeleteFunc(out, func(t mcp.Tool) bool { ok, _ := acc.allows(t.Name); return !ok })
		}
		prank := s.currentSet().rank
		at := func(name string) int {
			if r, ok := rank[name]; ok {
				return r
			}
			return len(builtIn) + prank[name]
		}
		slices.SortStableFunc(out, func(a, b mcp.Tool) int { return at(a.Name) - at(b.Name) })
		return out
	}

	s = &Server{gate: g, logger: logger, filter: opts.Filter, openWorld: !opts.Sandbox,
		exposed:   map[string]bool{},
		questions: newQuestionStore(), clientLog: opts.ClientLog}
	hooks := &server.Hooks{}
	s.clients.install(hooks)
	s.installCancelHook(hooks)
	if opts.ClientLog != nil {
		opts.ClientLog.install(hooks)
	}
	s.mcp = server.NewMCPServer(Name, version,
		// listChanged: SetPlugins changes the plugin tools while clients
		// are connected, and tells them with notifications/tools/list_changed.
		server.WithToolCapabilities(true),
		server.WithLogging(),
		server.WithHooks(hooks),
		server.WithInstructions(instructions(g.ReadOnly(), g.Confirm(), slices.ContainsFunc(ops, func(t catalogue.Tool) bool { return t.Name == "get_account_info" }), opts.Plugins != nil && len(opts.Plugins.Tools()) > 0)),
		server.WithToolFilter(listFilter),
	)

	seen := s.exposed
	tools := make([]server.ServerTool, 0, len(ops))
	for _, op := range ops {
		if _, ok := api.Lookup(op.Name); !ok {
			return nil, fmt.Errorf("mcpserver: %q is not a catalogue operation", op.Name)
		}
		if seen[op.Name] {
			return nil, fmt.Errorf("mcpserver: operation %q listed twice", op.Name)
		}
		seen[op.Name] = true
		tool, err := Tool(op, g.ReadOnly(), !opts.Sandbox)
		if err != nil {
			return nil, err
		}
		tools = append(tools, server.ServerTool{Tool: tool, Handler: s.handler(op.Name)})
	}
	set, ptools, err := s.pluginSet(opts.Plugins)
	if err != nil {
		return nil, err
	}
	s.plugins = set
	tools = append(tools, ptools...)
	s.mcp.AddTools(tools...)
	if opts.ClientLog != nil {
		opts.ClientLog.attach(s)
	}
	return s, nil
}

// MCP returns the underlying mcp-go server, for in-process clients and for
// registering further tools.
func (s *Server) MCP() *server.MCPServer { return s.mcp }

// unknownToolMessage says what to do about a call to a tool that is not
// served: a catalogue operation outside the exposed toolsets, a tool the
// operator hid or excluded, or no tool at all. ServeStdio answers such a
// call with a JSON-RPC Invalid params error (-32602) carrying it, as the
// spec asks; the name is quoted short, since it comes from the client.
func (s *Server) unknownToolMessage(name string) string {
	q := quoteShort(name)
	t, isOp := catalogue.LookupTool(name)
	switch {
	case isOp && s.gate.Excluded(name):
		return fmt.Sprintf("the tool %s is excluded from this server by its operator (--exclude-tools), for every caller; it cannot be called here", q)
	case (isOp || s.currentSet().hidden[name]) && !s.filter.Shows(name):
		return fmt.Sprintf("the tool %s is hidden on this server by its operator (--tools / --exclude-tools); list the tools to see the ones it offers", q)
	case isOp:
		return fmt.Sprintf("the tool %s is not enabled on this server: it belongs to the %s toolset, which the operator can expose with --toolsets %s (or --toolsets all)", q, t.Toolset, t.Toolset)
	}
	return fmt.Sprintf("unknown tool %s: this server has no tool of that name; list the tools to see the ones it offers", q)
}

// Tool describes op as an MCP tool. readOnly marks a mutating operation
// disabled; openWorld is the openWorldHint (true when the calls reach AWS).
func Tool(op catalogue.Tool, readOnly, openWorld bool) (mcp.Tool, error) {
	// A mutating tool also takes dry_run and confirmed, and answers a dry
	// run with its plan (api.DryRunOutput), so its output schema is either.
	in, out := api.InputSchema(op.Operation), api.OutputSchema(op.Operation)
	// MCP requires object schemas; mcp-go silently drops an output schema
	// of another type, and clients then reject the structured result.
	for what, sch := range map[string]api.Schema{"input": in, "output": out} {
		if sch["type"] != "object" {
			return mcp.Tool{}, fmt.Errorf("mcpserver: %s: the %s schema is %v, not an object", op.Name, what, sch["type"])
		}
	}
	desc := op.Description
	if readOnly && op.Mutates {
		desc = DisabledPrefix + desc
	}
	// An offline tool never leaves the process, wherever the other tools'
	// calls go.
	return newTool(op.Name, desc, in.JSON(), out.JSON(), hints{readOnly: !op.Mutates, destructive: op.Destructive,
		idempotent: op.Idempotent, openWorld: openWorld && !op.Offline}), nil
}

// hints are a tool's behaviour annotations.
type hints struct{ readOnly, destructive, idempotent, openWorld bool }

// newTool is the MCP tool of a built-in or plugin tool: its title made from
// its name, and all four behaviour annotations set explicitly (mcp-go
// would otherwise announce destructiveHint: true for everything).
func newTool(name, desc string, in, out json.RawMessage, h hints) mcp.Tool {
	title := Title(name)
	return mcp.Tool{
		Name:            name,
		Title:           title,
		Description:     desc,
		RawInputSchema:  in,
		RawOutputSchema: out,
		Annotations: mcp.ToolAnnotation{
			Title:           title,
			ReadOnlyHint:    mcp.ToBoolPtr(h.readOnly),
			DestructiveHint: mcp.ToBoolPtr(h.destructive),
			IdempotentHint:  mcp.ToBoolPtr(h.idempotent),
			OpenWorldHint:   mcp.ToBoolPtr(h.openWorld),
		},
	}
}

// Title makes a display title from an operation name: "list_mfa_devices"
// becomes "List MFA devices".
func Title(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		switch w {
		case "mfa", "iam", "arn":
			words[i] = strings.ToUpper(w)
		default:
			if i == 0 && w != "" {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
	}
	return strings.Join(words, " ")
}

// handler runs one tool call through the gate. The caller's Consent is
// this call's consenter: when the gate needs the person's yes, it asks the
// client through MCP elicitation, and the call returns an input-required
// result (the question, under a token); the client's retry of the call
// carries the answer, and the gate plans the call again and lets it run
// only if the person accepted that very plan.
func (s *Server) handler(name string) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				s.logger.ErrorContext(ctx, "tool call panicked", "tool", name, "panic", r, "stack", string(debug.Stack()))
				res, err = errorResult(api.Errorf(api.Internal,
					"the server failed while running %s and cannot tell whether it took effect; check with a read tool before retrying, and report the failure with the server's log", name)), nil
			}
		}()
		if ok, why := accessFrom(ctx).allows(name); !ok {
			// The transport refuses such a call before it gets here; this
			// holds whatever path a call takes.
			return errorResult(api.Errorf(api.NotGranted, "%s", notAllowedMessage(name, why))), nil
		}
		args, aerr := arguments(req)
		if aerr != nil {
			return errorResult(aerr), nil
		}
		c := s.newConsenter(ctx, name, req, args)
		out, cerr := s.gate.Call(ctx, gate.Caller{Kind: gate.BuiltIn, Tool: name, Consent: c}, name, args)
		if cerr != nil {
			if errors.Is(cerr, gate.ErrPending) {
				if asked := c.inputRequired(); asked != nil {
					s.logger.DebugContext(ctx, "tool call waits for the person's answer", "tool", name, "duration", time.Since(start))
					return asked, nil
				}
			}
			ae := gate.AsAPIError(cerr)
			s.logger.DebugContext(ctx, "tool call failed", "tool", name, "code", ae.Code, "duration", time.Since(start))
			return errorResult(ae), nil
		}
		res = successResult(name, s.handOverSecretLink(ctx, out))
		s.logger.DebugContext(ctx, "tool call", "tool", name, "ok", !res.IsError, "duration", time.Since(start))
		return res, nil
	}
}

// arguments returns the call's arguments as the client sent them: the raw
// JSON when the request came off the wire, else the decoded value encoded
// again; "{}" when there were none.
func arguments(req mcp.CallToolRequest) (json.RawMessage, *api.Error) {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments, nil
	}
	switch a := req.Params.Arguments.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case json.RawMessage:
		return a, nil
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return nil, api.Errorf(api.InvalidInput, "the arguments could not be read as JSON: %v", err)
		}
		return b, nil
	}
}

// successResult carries the output twice: as structured content and as the
// same JSON in a text block, for clients that ignore structured content.
func successResult(name string, out any) *mcp.CallToolResult {
	b, err := json.Marshal(out)
	if err != nil || len(b) == 0 || b[0] != '{' {
		return errorResult(api.Errorf(api.Internal,
			"%s ran, but its result could not be encoded as a JSON object; report this with the server's log", name))
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.NewTextContent(string(b))},
		StructuredContent: json.RawMessage(b),
	}
}

// errorResult is a tool error the assistant can act on: "<Code>: <message>".
// The output schema describes only success, so the error travels as text.
func errorResult(e *api.Error) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		Content: []mcp.Content{mcp.NewTextContent(e.Error())},
		IsError: true,
	}
}

// instructions is the initialize result's advice to the assistant.
func instructions(readOnly bool, confirm gate.Confirm, accountInfo, plugins bool) string {
	s := "Manages AWS Identity and Access Management (IAM) in one AWS account. "
	if accountInfo {
		s += "Call get_account_info first to learn which account it is. "
	}
	s += "IAM changes take effect at once and some cannot be undone (tools annotated destructive): tell the user what a change will do before making it; " +
		"every tool that changes IAM takes dry_run: true, which returns the plan of IAM calls and changes nothing. " +
		"List tools return one page; pass the returned marker to continue. " +
		"Errors start with a stable code (NoSuchEntity, DeleteConflict, ReadOnly, Declined, …) followed by what to do."
	if plugins {
		s += " Some tools come from plugins the operator installed: they run workflows of several IAM calls, each checked like a built-in tool's."
	}
	if readOnly {
		s += " This server is read-only: the operator did not allow writes (--allow-write), so every tool that changes IAM is refused with ReadOnly and nothing is changed; dry runs still work."
		return s
	}
	switch confirm {
	case gate.ConfirmNone:
		s += " The operator allowed changes to run without asking the person (--confirm none)."
	case gate.ConfirmWrites:
		s += " Before every change runs, the server shows its plan to the person through the client and asks for their yes (--confirm writes); a no comes back as Declined and nothing is changed. The confirmed argument has no effect: only the person can approve."
	default:
		s += " Before a destructive change runs (a delete, an overwrite, anything that can cut off access), the server shows its plan to the person through the client and asks for their yes (--confirm destructive); a no comes back as Declined and nothing is changed. The confirmed argument has no effect: only the person can approve."
	}
	return s
}
