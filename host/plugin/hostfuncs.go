package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	extism "github.com/extism/go-sdk"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// stateKey keys the *callState of the call being served in the context
// wazero hands to host functions.
type stateKey struct{}

// callState is what the host functions know of the tool call being served:
// its tool, where its progress goes, and how many IAM calls it has made.
type callState struct {
	tool     string // full MCP name; "" while describing
	progress func(api.ProgressReport)
	calls    atomic.Int64
	mutating atomic.Int64
}

// hostFunctions are the functions of api.HostModule a plugin imports. Each
// takes the Extism memory offset of its JSON input and returns the offset
// of its JSON output (0 for none).
func (p *loaded) hostFunctions() []extism.HostFunction {
	return []extism.HostFunction{
		p.hostFunction(api.HostIAMCall, p.iamCallFunc),
		p.hostFunction(api.HostIAMBatch, p.iamBatchFunc),
		p.hostFunction(api.HostProgress, p.progressFunc),
		p.hostFunction(api.HostInfoFunc, p.hostInfoFunc),
	}
}

// hostFunction adapts fn to Extism's (i64) -> i64 calling convention. A
// failure to read or write the plugin's memory traps the plugin with a
// message naming it and the function (its call then fails and its
// instance is replaced).
func (p *loaded) hostFunction(name string, fn func(ctx context.Context, st *callState, in []byte) []byte) extism.HostFunction {
	hf := extism.NewHostFunctionWithStack(name, func(ctx context.Context, cp *extism.CurrentPlugin, stack []uint64) {
		st, _ := ctx.Value(stateKey{}).(*callState)
		var in []byte
		if off := stack[0]; off != 0 {
			b, err := cp.ReadBytes(off)
			if err != nil {
				panic(fmt.Errorf("plugin %s: %s: cannot read its input at offset %d: %v", p.name, name, off, err))
			}
			in = b
		}
		out := fn(ctx, st, in)
		stack[0] = 0
		if out == nil {
			return
		}
		off, err := cp.Alloc(uint64(len(out)))
		if err == nil && off == 0 {
			err = errors.New("the Extism kernel has no memory left")
		}
		if err == nil && !cp.Memory().Write(uint32(off), out) {
			err = errors.New("the write fell outside the kernel's memory")
		}
		if err != nil {
			panic(fmt.Errorf("plugin %s: %s: cannot hand it its %d-byte answer (%v); limits.memory is %s", p.name, name, len(out), err, p.limits.Memory))
		}
		stack[0] = off
	}, []extism.ValueType{extism.ValueTypeI64}, []extism.ValueType{extism.ValueTypeI64})
	hf.SetNamespace(api.HostModule)
	return hf
}

// iamCallFunc is iam_call: IAMRequest → IAMResponse.
func (p *loaded) iamCallFunc(ctx context.Context, st *callState, in []byte) []byte {
	var req api.IAMRequest
	var resp api.IAMResponse
	if err := json.Unmarshal(in, &req); err != nil {
		resp.Error = api.Errorf(api.InvalidInput, "iam_call takes a JSON object {\"op\": NAME, \"args\": {...}}: %v", err)
	} else if e := p.admit(st, req.Op); e != nil {
		resp.Error = e
		p.auditRefusal(st, req, e)
	} else {
		resp = p.runIAM(ctx, st, req)
	}
	return mustJSON(resp)
}

// iamBatchFunc is iam_batch: []IAMRequest → []IAMResponse in the same
// order. The caps are decided first, in order (so that the first requests
// are the ones that run), then the admitted requests run through the gate
// at most Options.Concurrency at a time.
func (p *loaded) iamBatchFunc(ctx context.Context, st *callState, in []byte) []byte {
	var reqs []api.IAMRequest
	if err := json.Unmarshal(in, &reqs); err != nil {
		panic(fmt.Errorf("plugin %s: iam_batch takes a JSON array of {\"op\": NAME, \"args\": {...}}: %v", p.name, err))
	}
	resps := make([]api.IAMResponse, len(reqs))
	sem := make(chan struct{}, p.concurrency)
	var wg sync.WaitGroup
	for i, req := range reqs {
		if e := p.admit(st, req.Op); e != nil {
			resps[i].Error = e
			p.auditRefusal(st, req, e)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, req api.IAMRequest) {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if r := recover(); r != nil {
					p.logger.Error("iam_batch request panicked", "op", req.Op, "panic", r, "stack", string(debug.Stack()))
					resps[i] = api.IAMResponse{Error: api.Errorf(api.Internal, "the server failed while running %s; report it with the server's log", req.Op)}
				}
			}()
			resps[i] = p.runIAM(ctx, st, req)
		}(i, req)
	}
	wg.Wait()
	return mustJSON(resps)
}

// admit counts one requested operation against the tool call's caps and
// refuses it (LimitExceeded) once a cap is passed. Refused requests never
// reach the gate. Every request counts, whether the gate would allow it or
// not, so a plugin cannot probe without limit either.
func (p *loaded) admit(st *callState, op string) *api.Error {
	if st == nil || st.tool == "" {
		return api.Errorf(api.InvalidInput, "plugin %s called %s outside a tool call (in describe); IAM is reachable only while serving a tool", p.name, op)
	}
	n := st.calls.Add(1)
	if max := p.limits.MaxIAMCalls; max > 0 && n > int64(max) {
		return api.Errorf(api.LimitExceeded, "plugin %s may make at most %d IAM calls per tool call (limits.max_iam_calls in the plugins file); %s was refused and not run",
			p.name, max, op)
	}
	if meta, ok := api.Lookup(op); ok && meta.Mutates {
		m := st.mutating.Add(1)
		if max := p.limits.MaxMutations; max > 0 && m > int64(max) {
			return api.Errorf(api.LimitExceeded, "plugin %s may make at most %d changes per tool call (limits.max_mutations in the plugins file); %s was refused and not run",
				p.name, max, op)
		}
	}
	return nil
}

// runIAM runs one admitted request through the gate, which decides grants,
// read-only mode and account, and audits it. A secret never reaches the
// plugin.
func (p *loaded) runIAM(ctx context.Context, st *callState, req api.IAMRequest) api.IAMResponse {
	if p.gate == nil {
		return api.IAMResponse{Error: api.Errorf(api.NotGranted, "plugin %s is being inspected, with no grants and no IAM", p.name)}
	}
	if p.grants[req.Op] && !p.toolGrants[st.tool][req.Op] {
		return api.IAMResponse{Error: api.Errorf(api.NotGranted,
			"tool %s of plugin %s called %s, which the plugin is granted but the tool does not declare; the plugin's author must list it among the tool's operations", st.tool, p.name, req.Op)}
	}
	out, err := p.gate.Call(ctx, gate.Caller{Kind: gate.Plugin, Plugin: p.name, Tool: st.tool, Grants: p.toolGrants[st.tool]}, req.Op, req.Args)
	if err != nil {
		var ae *api.Error
		if !errors.As(err, &ae) {
			ae = api.Errorf(api.Internal, "unexpected failure: %v", err)
		}
		return api.IAMResponse{Error: ae}
	}
	res, err := p.withoutSecrets(req.Op, out)
	if err != nil {
		return api.IAMResponse{Error: api.Errorf(api.Internal, "the result of %s could not be encoded: %v", req.Op, err)}
	}
	return api.IAMResponse{Result: res}
}

// secretField is the result field that carries a new secret access key
// when a catalogue returns secrets inline.
const secretField = "secret_access_key"

// withoutSecrets encodes an operation's result for a plugin, without any
// secret access key. The plugins' gate should run over a catalogue that
// never returns secrets inline (so the key's secret is already in the
// secrets directory); if it does return one, the secret goes to
// Options.Secrets, or is discarded, and never to the plugin.
func (p *loaded) withoutSecrets(op string, out any) (json.RawMessage, error) {
	if k, ok := out.(*api.CreateAccessKeyOutput); ok && k.SecretAccessKey != "" {
		c := *k
		secret := c.SecretAccessKey
		c.SecretAccessKey = ""
		c.Warnings = nil
		p.logger.Error("the plugins' gate returned a secret access key inline (its catalogue has ReturnSecrets); it was withheld from the plugin. Give plugins a gate over a catalogue without ReturnSecrets",
			"op", op, "access_key_id", c.AccessKey.AccessKeyID)
		stored := false
		if p.secrets != nil {
			loc, err := p.secrets.StoreAccessKey(c.AccessKey.UserName, c.AccessKey.AccessKeyID, secret, c.AccessKey.CreateDate)
			if err == nil {
				stored = true
				c.SecretFile = loc
				c.Message = "created access key " + c.AccessKey.AccessKeyID + " for " + c.AccessKey.UserName + "; its secret was written to " + loc + " on the server, readable only by the server's user (plugins never see secrets)"
			} else {
				p.logger.Error("the secret of a key created for a plugin could not be stored, and was discarded", "access_key_id", c.AccessKey.AccessKeyID, "err", err)
			}
		}
		if !stored {
			c.Message = "created access key " + c.AccessKey.AccessKeyID + " for " + c.AccessKey.UserName + "; plugins never see secrets and the server had nowhere to keep it, so the secret is lost: delete this key with delete_access_key and create one outside the plugin"
			c.Warnings = []string{"the secret of access key " + c.AccessKey.AccessKeyID + " is lost"}
		}
		out = &c
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte(`"`+secretField+`"`)) {
		// Defence in depth for any other result that might carry one.
		var v any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if b, err = json.Marshal(dropField(v, secretField)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// dropField removes every field named name, at any depth.
func dropField(v any, name string) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, name)
		for k, val := range x {
			x[k] = dropField(val, name)
		}
	case []any:
		for i := range x {
			x[i] = dropField(x[i], name)
		}
	}
	return v
}

// auditRefusal writes the audit line of a request refused here (by a cap)
// rather than by the gate, so that every request a plugin makes is in the
// audit log.
func (p *loaded) auditRefusal(st *callState, req api.IAMRequest, e *api.Error) {
	if p.audit == nil {
		return
	}
	meta, _ := api.Lookup(req.Op)
	tool := ""
	if st != nil {
		tool = st.tool
	}
	rec := gate.Record{
		Time: p.now().UTC(), Caller: gate.Plugin, Plugin: p.name, Tool: tool, Operation: req.Op, Mutates: meta.Mutates,
		Arguments: gate.Redact(req.Args), Outcome: "refused", Code: e.Code, Message: e.Message,
	}
	line, err := json.Marshal(rec)
	if err != nil {
		line = []byte(fmt.Sprintf(`{"operation":%q,"outcome":"audit-encoding-failed"}`, req.Op))
	}
	p.audit.write(append(line, '\n'))
}

// progressFunc is progress: ProgressReport → nothing. The report is
// handed, synchronously, to the progress callback of the tool call.
func (p *loaded) progressFunc(ctx context.Context, st *callState, in []byte) []byte {
	var r api.ProgressReport
	if err := json.Unmarshal(in, &r); err != nil {
		p.logger.Debug("progress report that is not JSON, ignored", "err", err)
		return nil
	}
	if st != nil && st.progress != nil {
		st.progress(r)
	}
	return nil
}

// hostInfoFunc is host_info: nothing → HostInfo.
func (p *loaded) hostInfoFunc(ctx context.Context, st *callState, in []byte) []byte {
	info := api.HostInfo{Plugin: p.name, Grants: p.granted, Config: copyConfig(p.spec.Config)}
	if p.gate != nil {
		info.ReadOnly = p.gate.ReadOnly()
	}
	if p.account != nil {
		acct, part, err := p.account(ctx)
		if err != nil {
			p.logger.Debug("host_info: account unknown", "err", err)
		} else {
			info.AccountID, info.Partition = acct, part
		}
	}
	if info.Grants == nil {
		info.Grants = []string{}
	}
	return mustJSON(info)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("encoding a host function's answer: %w", err))
	}
	return b
}
