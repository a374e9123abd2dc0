//go:build wasip1

package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/extism/go-pdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Context is what a tool handler gets besides its input: the call being
// served. It is valid only during the handler's call.
type Context struct {
	// Tool is the unprefixed name of the tool being called (the operator's
	// prefix is the host's business), for handlers shared by several tools.
	Tool string
}

// Progress reports how far the tool call has come — done out of total
// (total 0 when unknown), with a short message — and the host forwards it
// to the MCP client as a progress notification of this call, so that a
// person watching a long review sees it move. It is best effort: a client
// that did not ask for progress gets nothing, and nothing fails.
func (c *Context) Progress(done, total float64, message string) {
	b, err := json.Marshal(api.ProgressReport{Progress: done, Total: total, Message: message})
	if err != nil {
		return
	}
	invoke(hostProgress, b)
}

// Plugin declares who the plugin is: its name (the default prefix of its
// tool names, so letters, digits, '_' and '-' only), its version and a
// one-line description an operator reads in `plugins list` and `plugins
// inspect`. Call it exactly once, from init.
func Plugin(name, version, description string) {
	switch {
	case reg.named:
		reg.fail(fmt.Errorf("sdk.Plugin called twice (%q, then %q)", reg.desc.Name, name))
	case !namePattern.MatchString(name):
		reg.fail(fmt.Errorf("sdk.Plugin: name %q must be 1-64 letters, digits, '_' or '-'", name))
	case version == "":
		reg.fail(fmt.Errorf("sdk.Plugin(%q): the version is empty", name))
	case strings.TrimSpace(description) == "":
		reg.fail(fmt.Errorf("sdk.Plugin(%q): the description is empty", name))
	}
	reg.named = true
	reg.desc.Name, reg.desc.Version, reg.desc.Description = name, version, description
}

// Tool declares a tool: its name (unprefixed; letters, digits, '_' and '-'),
// a description written for the assistant (what it does, when to use it),
// the handler, and the catalogue operations the handler calls (OpListUsers,
// …). Call it from init, once per tool.
//
// The tool's input JSON Schema is derived from I, which must be a struct
// (struct{} for a tool without arguments): `json` tags name the arguments, a
// field without ",omitempty" is required, and `desc`, `enum`, `minimum`,
// `maximum` and `pattern` tags describe and constrain it (api.SchemaOf).
// Arguments are decoded strictly: an unknown or missing required argument is
// an InvalidInput error result, before the handler runs.
//
// What the handler returns becomes the MCP result: a value that encodes as a
// JSON object is sent as structured content and as the same JSON in a text
// item; a string is sent as text; anything else as its JSON text; an
// *api.PluginResult is sent as it is. A non-nil error becomes a result with
// is_error set and the error's message as text, for the assistant to read
// and act on — so say what went wrong and what to do.
//
// The operations are a request to the operator, who grants them (or not) in
// the plugins file; declare every operation the handler calls, so that the
// operator can see what to grant. A call to an operation that was not
// granted fails with api.NotGranted whether declared or not.
func Tool[I any](name, description string, handler func(*Context, I) (any, error), operations ...string) {
	register(name, description, handler, nil, operations)
}

// TypedTool is Tool for a handler whose result has a fixed type O (a struct,
// or a map), from which the tool's output JSON Schema is derived: MCP
// clients then know the shape of the structured content before calling, as
// they do for the built-in tools.
func TypedTool[I, O any](name, description string, handler func(*Context, I) (O, error), operations ...string) {
	out, err := schemaFor[O]()
	if err == nil && out["type"] != "object" {
		err = fmt.Errorf("the output type %v is not a struct or map, and MCP structured content must be an object", reflect.TypeFor[O]())
	}
	if err != nil {
		reg.fail(fmt.Errorf("tool %q: %w", name, err))
		return
	}
	register(name, description, handler, out, operations)
}

// register is what Tool and TypedTool share: check the handler, derive the
// input schema, and add a call function that decodes the arguments strictly.
func register[I, O any](name, description string, handler func(*Context, I) (O, error), out api.Schema, operations []string) {
	if handler == nil {
		reg.fail(fmt.Errorf("tool %q: the handler is nil", name))
		return
	}
	in, err := inputSchema[I]()
	if err != nil {
		reg.fail(fmt.Errorf("tool %q: %w", name, err))
		return
	}
	reg.add(name, description, in, out, operations, func(ctx *Context, args json.RawMessage) (any, error) {
		var v I
		if err := decodeArguments(args, in, &v); err != nil {
			return nil, err
		}
		o, err := handler(ctx, v)
		if err != nil {
			return nil, err
		}
		return o, nil
	})
}

// namePattern is what MCP clients accept as a tool name; the host checks the
// prefixed name again.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// reg is the plugin's table of tools, filled by Plugin and Tool during init
// and read by the describe and call exports.
var reg = &registry{tools: map[string]*tool{}}

type registry struct {
	named bool
	desc  api.PluginDescription
	tools map[string]*tool
	errs  []error
}

type tool struct {
	run func(*Context, json.RawMessage) (any, error)
}

func (r *registry) fail(err error) { r.errs = append(r.errs, err) }

// add checks a tool and enters it; a mistake is recorded and reported by
// describe, which refuses to describe a plugin registered incompletely.
func (r *registry) add(name, description string, in, out api.Schema, ops []string, run func(*Context, json.RawMessage) (any, error)) {
	switch {
	case !namePattern.MatchString(name):
		r.fail(fmt.Errorf("tool name %q must be 1-64 letters, digits, '_' or '-'", name))
		return
	case r.tools[name] != nil:
		r.fail(fmt.Errorf("tool %q declared twice", name))
		return
	case strings.TrimSpace(description) == "":
		r.fail(fmt.Errorf("tool %q has no description", name))
		return
	}
	seen := map[string]bool{}
	operations := []string{}
	for _, op := range ops {
		if _, ok := api.Lookup(op); !ok {
			r.fail(fmt.Errorf("tool %q: %q is not a catalogue operation (see sdk.Op* constants)", name, op))
			return
		}
		if !seen[op] {
			seen[op] = true
			operations = append(operations, op)
		}
	}
	d := api.PluginToolDesc{Name: name, Description: description, InputSchema: in.JSON(), Operations: operations}
	if out != nil {
		d.OutputSchema = out.JSON()
	}
	r.tools[name] = &tool{run: run}
	r.desc.Tools = append(r.desc.Tools, d)
}

// err is what is wrong with the registration, if anything.
func (r *registry) err() error {
	errs := r.errs
	if !r.named {
		errs = append(errs, errors.New("sdk.Plugin was not called: call it from init with the plugin's name, version and description"))
	}
	if len(r.desc.Tools) == 0 {
		errs = append(errs, errors.New("the plugin declares no tools: call sdk.Tool from init"))
	}
	return errors.Join(errs...)
}

// inputSchema derives the input schema of I, which must be a struct: MCP
// tool arguments are always a JSON object.
func inputSchema[I any]() (api.Schema, error) {
	t := reflect.TypeFor[I]()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("the input type %v is not a struct (use struct{} for a tool without arguments)", reflect.TypeFor[I]())
	}
	return schemaFor[I]()
}

// schemaFor is api.SchemaOf, with its panic on unsupported types (channels,
// functions, interfaces) turned into an error.
func schemaFor[T any]() (s api.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("no JSON Schema for %v: %v", reflect.TypeFor[T](), r)
		}
	}()
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Interface {
		return nil, fmt.Errorf("no JSON Schema for the interface type %v", t)
	}
	return api.SchemaOf(reflect.New(t).Elem().Interface()), nil
}

// decodeArguments decodes a call's arguments into v strictly: unknown
// arguments and missing required ones are refused, as the schema says,
// whether or not the host validated them already.
func decodeArguments(args json.RawMessage, schema api.Schema, v any) error {
	args = bytes.TrimSpace(args)
	if len(args) == 0 || string(args) == "null" {
		args = []byte("{}")
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(args, &present); err != nil {
		return &api.Error{Code: api.InvalidInput, Message: "the arguments must be a JSON object, not " + truncate(args)}
	}
	if req, ok := schema["required"].([]string); ok {
		var missing []string
		for _, name := range req {
			if _, ok := present[name]; !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return &api.Error{Code: api.InvalidInput, Message: "missing required argument(s): " + strings.Join(missing, ", ")}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if props, ok := schema["properties"].(map[string]any); ok && strings.HasPrefix(msg, "unknown field") {
			names := make([]string, 0, len(props))
			for n := range props {
				names = append(names, n)
			}
			sort.Strings(names)
			msg += "; the arguments are: " + strings.Join(names, ", ")
		}
		return &api.Error{Code: api.InvalidInput, Message: "invalid arguments: " + msg}
	}
	return nil
}

//go:wasmexport describe
func describe() int32 {
	if err := reg.err(); err != nil {
		pdk.SetErrorString("plugin registration is incomplete: " + err.Error())
		return 1
	}
	b, err := json.Marshal(reg.desc)
	if err != nil {
		pdk.SetErrorString("describe: " + err.Error())
		return 1
	}
	pdk.Output(b)
	return 0
}

//go:wasmexport call
func call() int32 {
	cachedHostInfo = nil
	if err := reg.err(); err != nil {
		pdk.SetErrorString("plugin registration is incomplete: " + err.Error())
		return 1
	}
	var c api.PluginCall
	if err := json.Unmarshal(pdk.Input(), &c); err != nil {
		pdk.SetErrorString(`call: the input is not {"tool": NAME, "arguments": {...}}: ` + err.Error())
		return 1
	}
	t := reg.tools[c.Tool]
	if t == nil {
		names := make([]string, 0, len(reg.desc.Tools))
		for _, d := range reg.desc.Tools {
			names = append(names, d.Name)
		}
		pdk.SetErrorString(fmt.Sprintf("call: no tool %q in plugin %s (it has: %s)", c.Tool, reg.desc.Name, strings.Join(names, ", ")))
		return 1
	}
	res, err := runTool(t, &Context{Tool: c.Tool}, c.Arguments)
	if err != nil {
		pdk.SetErrorString(err.Error())
		return 1
	}
	b, err := json.Marshal(res)
	if err != nil {
		pdk.SetErrorString(fmt.Sprintf("tool %s: its result does not encode as JSON: %v", c.Tool, err))
		return 1
	}
	pdk.Output(b)
	return 0
}

// runTool runs a handler and shapes its outcome. A panic is not a result:
// it fails the call (an Extism error), so that the host replaces an
// instance whose state may be broken.
func runTool(t *tool, ctx *Context, args json.RawMessage) (res *api.PluginResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("tool %s panicked: %v", ctx.Tool, r)
		}
	}()
	v, herr := t.run(ctx, args)
	if herr != nil {
		return &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: herr.Error()}}, IsError: true}, nil
	}
	return toResult(ctx.Tool, v)
}

// toResult turns a handler's value into an MCP result.
func toResult(tool string, v any) (*api.PluginResult, error) {
	switch v := v.(type) {
	case *api.PluginResult:
		if v == nil {
			return &api.PluginResult{Content: []api.PluginContent{}}, nil
		}
		if v.Content == nil {
			v.Content = []api.PluginContent{}
		}
		return v, nil
	case api.PluginResult:
		return toResult(tool, &v)
	case string:
		return &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: v}}}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("tool %s: its result does not encode as JSON: %v", tool, err)
	}
	res := &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: string(b)}}}
	if len(b) > 0 && b[0] == '{' {
		res.StructuredContent = b
	}
	return res, nil
}
