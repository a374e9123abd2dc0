package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	extism "github.com/extism/go-sdk"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// stateKey keys the *callState of the call being served in the context
// wazero hands to host functions.
type stateKey struct{}

// Caps on what crosses the boundary through the host functions, so that a
// plugin cannot make the host hold more than a few megabytes on its
// behalf, however it calls them.
const (
	// MaxBatchRequests is api.MaxBatchRequests: a larger batch is refused
	// as a whole, counted but not decoded, and nothing in it runs.
	MaxBatchRequests = api.MaxBatchRequests
	// MaxHostInputBytes caps the JSON a plugin hands iam_call or iam_batch
	// in one call. Its length is read from the Extism kernel before any
	// byte is copied into the host: a larger input is refused unread.
	MaxHostInputBytes = 8 << 20
	// MaxHostAnswerBytes caps the results one iam_call or iam_batch hands
	// back. A request whose result would pass it still ran (a change it
	// made stands) but its result is replaced by a LimitExceeded error.
	MaxHostAnswerBytes = 8 << 20
)

// callState is what the host functions know of the tool call being served:
// its tool, where its progress goes (and at what rate), how many IAM calls
// it has made, and its host_info answer.
type callState struct {
	tool     string // full MCP name; "" while describing
	progress func(api.ProgressReport)
	limiter  *progressLimiter // nil when progress is nil
	calls    atomic.Int64
	mutating atomic.Int64
	// consent is the tool call's consent: the approvals of the plans the
	// plugin stated, and the consenter that asks the person about the
	// rest; nil while describing.
	consent *toolConsent

	// host_info is decided (and audited) once per tool call: a plugin
	// asking again in a loop gets the same answer, not another audit line.
	infoOnce sync.Once
	info     []byte

	// answer is the answer of the last direct iam_call or iam_batch,
	// waiting for the plugin to take it (see direct.go).
	answer []byte
}

// stateOf is the state of the call a host function serves; a fresh one
// outside any (nothing is granted there).
func stateOf(ctx context.Context) *callState {
	if st, _ := ctx.Value(stateKey{}).(*callState); st != nil {
		return st
	}
	return &callState{}
}

// hostFunc is one host function: its name, how much input it reads, what
// it does with it, and what it answers when the input is over the cap
// (unread).
type hostFunc struct {
	name   string
	maxIn  uint64 // 0: the input is never read
	run    func(ctx context.Context, st *callState, in []byte) []byte
	tooBig func(ctx context.Context, st *callState, size uint64) []byte
}

// hostFunctions are the functions of api.HostModule a plugin imports. Each
// takes the Extism memory offset of its JSON input and returns the offset
// of its JSON output (0 for none).
func (p *loaded) hostFunctions() []extism.HostFunction {
	return []extism.HostFunction{
		p.hostFunction(p.iamCallHostFunc()),
		p.hostFunction(p.iamBatchHostFunc()),
		p.hostFunction(hostFunc{name: api.HostProgress, maxIn: maxProgressInputBytes, run: p.progressFunc, tooBig: p.progressTooBig}),
		p.hostFunction(hostFunc{name: api.HostConsent, maxIn: MaxHostInputBytes, run: p.consentFunc, tooBig: p.consentTooBig}),
		p.hostFunction(hostFunc{name: api.HostStateSeal, maxIn: MaxSealInputBytes, run: p.stateSealFunc, tooBig: p.stateSealTooBig}),
		p.hostFunction(hostFunc{name: api.HostSecretFileRemove, maxIn: MaxSecretFileRemoveInputBytes, run: p.secretFileRemoveFunc, tooBig: p.secretFileRemoveTooBig}),
		// host_info takes no input: whatever the plugin passes is not read.
		p.hostFunction(hostFunc{name: api.HostInfoFunc, run: p.hostInfoFunc}),
	}
}

// iamCallHostFunc and iamBatchHostFunc are served twice: through Extism's
// calling convention (HostModule) and directly (HostDirectModule).
func (p *loaded) iamCallHostFunc() hostFunc {
	return hostFunc{name: api.HostIAMCall, maxIn: MaxHostInputBytes, run: p.iamCallFunc, tooBig: p.iamCallTooBig}
}

func (p *loaded) iamBatchHostFunc() hostFunc {
	return hostFunc{name: api.HostIAMBatch, maxIn: MaxHostInputBytes, run: p.iamBatchFunc, tooBig: p.iamBatchTooBig}
}

// hostFunction adapts f to Extism's (i64) -> i64 calling convention. The
// input's length is asked of the Extism kernel first, and an input over
// f.maxIn is never copied into the host. A failure to read or write the
// plugin's memory traps the plugin with a message naming it and the
// function (its call then fails and its instance is replaced).
func (p *loaded) hostFunction(f hostFunc) extism.HostFunction {
	hf := extism.NewHostFunctionWithStack(f.name, func(ctx context.Context, cp *extism.CurrentPlugin, stack []uint64) {
		st := stateOf(ctx)
		var out []byte
		if in, size, ok := p.readInput(cp, f, stack[0]); ok {
			out = f.run(ctx, st, in)
		} else {
			out = f.tooBig(ctx, st, size)
		}
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
			panic(fmt.Errorf("plugin %s: %s: cannot hand it its %d-byte answer (%v); limits.memory is %s", p.name, f.name, len(out), err, p.limits.Memory))
		}
		stack[0] = off
	}, []extism.ValueType{extism.ValueTypeI64}, []extism.ValueType{extism.ValueTypeI64})
	hf.SetNamespace(api.HostModule)
	return hf
}

// readInput copies the input block at off out of the plugin's memory, or
// reports its size (ok false) when it is over f.maxIn, without reading it.
// Offset 0, or a function that reads nothing, is no input.
func (p *loaded) readInput(cp *extism.CurrentPlugin, f hostFunc, off uint64) (in []byte, size uint64, ok bool) {
	if off == 0 || f.maxIn == 0 {
		return nil, 0, true
	}
	n, err := cp.Length(off)
	if err != nil {
		panic(fmt.Errorf("plugin %s: %s: cannot find its input at offset %d: %v", p.name, f.name, off, err))
	}
	if n > f.maxIn {
		return nil, n, false
	}
	if off > math.MaxUint32 {
		panic(fmt.Errorf("plugin %s: %s: its input offset %d is outside 32-bit memory", p.name, f.name, off))
	}
	b, readable := cp.Memory().Read(uint32(off), uint32(n))
	if !readable {
		panic(fmt.Errorf("plugin %s: %s: cannot read its %d-byte input at offset %d", p.name, f.name, n, off))
	}
	// A copy: the view is into the plugin's memory, which the answer's
	// allocation may move.
	return bytes.Clone(b), n, true
}

// caller is the gate's view of the plugin serving st's tool call. Its
// Consent answers from the plans the person approved in this tool call,
// and asks the person about anything else.
func (p *loaded) caller(st *callState) gate.Caller {
	c := gate.Caller{Kind: gate.Plugin, Plugin: p.name, Tool: st.tool, Grants: p.toolGrants[st.tool], Accounts: p.allowed}
	if st.consent != nil {
		c.Consent = st.consent
	}
	return c
}

// refused has the gate write the audit line of a request the runtime
// refused itself (the gate writes every audit line, from the decoded
// arguments, never the raw bytes), naming the account the request named
// beside its arguments ("" for none, or a request that did not decode).
// Nothing is audited while inspecting.
func (p *loaded) refused(ctx context.Context, st *callState, account, op string, raw json.RawMessage, e *api.Error) {
	if p.gate != nil {
		p.gate.RefusedIn(ctx, p.caller(st), account, op, raw, e)
	}
}

// opName is the operation a request names, as the runtime repeats it in
// messages and audit lines: a name that is no operation is cut to a short
// prefix, since it comes from the plugin and may be megabytes long.
func opName(op string) string {
	if _, ok := api.Lookup(op); ok {
		return op
	}
	return args.Cut(op, args.QuoteMax)
}

// iamCallFunc is iam_call: IAMRequest → IAMResponse. The request is
// decoded strictly (exactly the keys "op", "args" and "account", each
// once; args and account may be left out): with
// encoding/json, {"op":"list_users","OP":"delete_user"} would run one
// operation while a reader of the bytes saw the other. A request that does
// not decode still counts against max_iam_calls and is audited.
func (p *loaded) iamCallFunc(ctx context.Context, st *callState, in []byte) []byte {
	var req api.IAMRequest
	if err := strictjson.Unmarshal(in, &req); err != nil {
		st.calls.Add(1)
		e := api.Errorf(api.InvalidInput, "plugin %s: iam_call takes one JSON object {\"op\": NAME, \"args\": {...}, \"account\": ID or ALIAS}, with exactly those keys, each once (args and account may be left out): %v", p.name, err)
		p.refused(ctx, st, "", api.HostIAMCall, in, e)
		return mustJSON(api.IAMResponse{Error: e})
	}
	req.Op = opName(req.Op)
	if st.stopping() {
		return mustJSON(api.IAMResponse{Error: p.pendingError()})
	}
	if e := p.admit(st, req.Op); e != nil {
		p.refused(ctx, st, req.Account, req.Op, req.Args, e)
		return mustJSON(api.IAMResponse{Error: e})
	}
	resp := p.runIAM(ctx, st, req)
	var answered atomic.Int64
	p.withinAnswerBudget(&answered, &resp, req.Op)
	return appendResponse(nil, resp)
}

// iamCallTooBig answers an iam_call whose input is over
// MaxHostInputBytes, unread.
func (p *loaded) iamCallTooBig(ctx context.Context, st *callState, size uint64) []byte {
	st.calls.Add(1)
	e := api.Errorf(api.InvalidInput, "plugin %s: the iam_call request is %d bytes, more than the %d a host function reads; nothing was run", p.name, size, MaxHostInputBytes)
	p.refused(ctx, st, "", api.HostIAMCall, nil, e)
	return mustJSON(api.IAMResponse{Error: e})
}

// iamBatchFunc is iam_batch: []IAMRequest → []IAMResponse in the same
// order. The requests are counted first, without decoding them: a batch of
// more than MaxBatchRequests is refused as a whole, and its requests all
// count against max_iam_calls (a batch of refused requests is not free).
// Otherwise it is decoded strictly, the caps are decided in order (so that
// the first requests are the ones that run), then the admitted requests
// run through the gate at most Options.Concurrency at a time.
//
// A batch refused as a whole is answered with one IAMResponse object
// {"error": {...}} instead of an array, so that the plugin reads one clear
// error rather than millions of copies of it.
func (p *loaded) iamBatchFunc(ctx context.Context, st *callState, in []byte) []byte {
	n, counted := countArrayElements(in)
	if counted && n > MaxBatchRequests {
		st.calls.Add(int64(n))
		e := api.Errorf(api.LimitExceeded, "iam_batch of %d requests refused: at most %d per batch; split it. None ran", n, MaxBatchRequests)
		p.refused(ctx, st, "", api.HostIAMBatch, in, e)
		return mustJSON(api.IAMResponse{Error: e})
	}
	var reqs []api.IAMRequest
	if err := strictjson.Unmarshal(in, &reqs); err != nil {
		st.calls.Add(int64(max(n, 1)))
		e := api.Errorf(api.InvalidInput, "iam_batch takes a JSON array of {\"op\": NAME, \"args\": {...}, \"account\": ID or ALIAS}, exactly those keys (args and account may be left out): %v. None ran", err)
		p.refused(ctx, st, "", api.HostIAMBatch, in, e)
		return mustJSON(api.IAMResponse{Error: e})
	}
	resps := make([]api.IAMResponse, len(reqs))
	sem := make(chan struct{}, p.concurrency)
	var wg sync.WaitGroup
	var answered atomic.Int64
	for i, req := range reqs {
		req.Op = opName(req.Op)
		if st.stopping() {
			resps[i].Error = p.pendingError()
			p.withinAnswerBudget(&answered, &resps[i], req.Op)
			continue
		}
		if e := p.admit(st, req.Op); e != nil {
			resps[i].Error = e
			p.refused(ctx, st, req.Account, req.Op, req.Args, e)
			p.withinAnswerBudget(&answered, &resps[i], req.Op)
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
			resp := p.runIAM(ctx, st, req)
			p.withinAnswerBudget(&answered, &resp, req.Op)
			resps[i] = resp
		}(i, req)
	}
	wg.Wait()
	size := 2
	for _, r := range resps {
		size += len(r.Result) + 16
	}
	out := append(make([]byte, 0, size), '[')
	for i, r := range resps {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendResponse(out, r)
	}
	return append(out, ']')
}

// appendResponse appends resp's JSON to b. A result is written as it is:
// it was made by json.Marshal (withoutSecrets), and encoding the response
// with encoding/json would scan and copy it again (a page of authorization
// details is megabytes).
func appendResponse(b []byte, resp api.IAMResponse) []byte {
	if resp.Error != nil || len(resp.Result) == 0 {
		return append(b, mustJSON(resp)...)
	}
	b = append(b, `{"result":`...)
	b = append(b, resp.Result...)
	return append(b, '}')
}

// iamBatchTooBig answers an iam_batch whose input is over
// MaxHostInputBytes, unread (so its requests cannot be counted: it counts
// as one).
func (p *loaded) iamBatchTooBig(ctx context.Context, st *callState, size uint64) []byte {
	st.calls.Add(1)
	e := api.Errorf(api.LimitExceeded, "iam_batch of %d bytes refused: at most %d; split it. None ran", size, MaxHostInputBytes)
	p.refused(ctx, st, "", api.HostIAMBatch, nil, e)
	return mustJSON(api.IAMResponse{Error: e})
}

// withinAnswerBudget adds resp's size to the answer's running total and,
// past MaxHostAnswerBytes, replaces its result with an error saying that
// the request ran but its result was withheld. The total is kept as the
// answers are made (not once they are all held), so the host never holds
// more than the cap of them (and one result) for a plugin's call.
func (p *loaded) withinAnswerBudget(answered *atomic.Int64, resp *api.IAMResponse, op string) {
	size := int64(len(resp.Result)) + 64
	if resp.Error != nil {
		size += int64(len(resp.Error.Message))
	}
	if answered.Add(size) <= MaxHostAnswerBytes {
		return
	}
	ran := "it ran (any change it made stands), but its result was withheld"
	if resp.Error != nil {
		ran = "it failed, and its error was withheld"
	}
	*resp = api.IAMResponse{Error: api.Errorf(api.LimitExceeded,
		"the answers of this host call passed %d bytes at %s: %s. Ask for less at once (smaller batches, max_items)", MaxHostAnswerBytes, op, ran)}
}

// admit counts one requested operation against the tool call's caps and
// refuses it (LimitExceeded) once a cap is passed. Refused requests never
// reach the gate. Every request counts, whether the gate would allow it or
// not, so a plugin cannot probe without limit either.
func (p *loaded) admit(st *callState, op string) *api.Error {
	if st.tool == "" {
		return api.Errorf(api.InvalidInput, "plugin %s called %s outside a tool call (in describe); IAM is reachable only while serving a tool", p.name, args.Quote(op))
	}
	n := st.calls.Add(1)
	if max := p.limits.MaxIAMCalls; max > 0 && n > int64(max) {
		return api.Errorf(api.LimitExceeded, "plugin %s may make at most %d IAM calls per tool call (limits.max_iam_calls in the plugins file); %s was refused and not run",
			p.name, max, args.Quote(op))
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
// the account (the request's, or its arguments') and whether this plugin
// may act there, read-only mode, and audits it. A secret never reaches
// the plugin.
func (p *loaded) runIAM(ctx context.Context, st *callState, req api.IAMRequest) api.IAMResponse {
	if p.gate == nil {
		return api.IAMResponse{Error: api.Errorf(api.NotGranted, "plugin %s is being inspected, with no grants and no IAM", p.name)}
	}
	if e := p.undeclared(st, req.Op); e != nil {
		p.refused(ctx, st, req.Account, req.Op, req.Args, e)
		return api.IAMResponse{Error: e}
	}
	if st.stopping() {
		// A request of a batch that was waiting for its turn while
		// another's question went pending.
		return api.IAMResponse{Error: p.pendingError()}
	}
	out, err := p.gate.CallIn(ctx, p.caller(st), req.Account, req.Op, req.Args)
	if err != nil {
		return api.IAMResponse{Error: gate.AsAPIError(err)}
	}
	res, err := p.withoutSecrets(ctx, req.Op, out)
	if err != nil {
		return api.IAMResponse{Error: api.Errorf(api.Internal, "the result of %s could not be encoded: %v", req.Op, err)}
	}
	return api.IAMResponse{Result: res}
}

// undeclared refuses an operation the plugin is granted but the tool
// being served does not declare, with a message that says so (the gate,
// which sees only the tool's grants, would say it is not granted).
func (p *loaded) undeclared(st *callState, op string) *api.Error {
	if p.grants[op] && !p.toolGrants[st.tool][op] {
		return api.Errorf(api.NotGranted,
			"tool %s of plugin %s called %s, which the plugin is granted but the tool does not declare; the plugin's author must list it among the tool's operations", st.tool, p.name, op)
	}
	return nil
}

// stopping reports whether the tool call waits for the person's answer
// to a question and is being stopped: nothing more of it runs.
func (st *callState) stopping() bool {
	return st.consent != nil && st.consent.pending.Load()
}

// secretField is the result field that carries a new secret access key
// when a catalogue returns secrets inline.
const secretField = "secret_access_key"

// withoutSecrets encodes an operation's result for a plugin, without any
// secret access key. The plugins' gate should run over a catalogue that
// never returns secrets inline (so the key's secret is already in the
// secrets directory); if it does return one, the secret goes to
// Options.Secrets, or is discarded, and never to the plugin.
func (p *loaded) withoutSecrets(ctx context.Context, op string, out any) (json.RawMessage, error) {
	if k, ok := out.(*api.CreateAccessKeyOutput); ok && k.SecretAccessKey != "" {
		c := *k
		secret := c.SecretAccessKey
		c.SecretAccessKey = ""
		c.Warnings = nil
		p.logger.Error("the plugins' gate returned a secret access key inline (its catalogue has ReturnSecrets); it was withheld from the plugin. Give plugins a gate over a catalogue without ReturnSecrets",
			"op", op, "access_key_id", c.AccessKey.AccessKeyID)
		stored := false
		if links, ok := p.secrets.(secretLinker); ok {
			link, expires, err := links.StoreAccessKeyLink(ctx, c.AccessKey.UserName, c.AccessKey.AccessKeyID, secret, c.AccessKey.CreateDate)
			if err == nil {
				stored = true
				c.SecretLink, c.SecretLinkExpires = link, expires.UTC().Format(time.RFC3339)
				c.Message = "created access key " + c.AccessKey.AccessKeyID + " for " + c.AccessKey.UserName + "; its secret waits behind a one-time link for the caller, until " + c.SecretLinkExpires + ": " + link + " (plugins never see secrets)"
			} else {
				p.logger.Error("the secret of a key created for a plugin could not be stored, and was discarded", "access_key_id", c.AccessKey.AccessKeyID, "err", err)
			}
		} else if p.secrets != nil {
			loc, err := p.secrets.StoreAccessKey(ctx, c.AccessKey.UserName, c.AccessKey.AccessKeyID, secret, c.AccessKey.CreateDate)
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

// progressFunc is progress: ProgressReport → nothing. The report is
// decoded strictly, its message cut to MaxProgressMessageBytes, and handed,
// synchronously, to the progress callback of the tool call if the call's
// budget (ProgressPerSecond, ProgressBurst) has room; otherwise it is kept
// as the call's last report (see Runtime.Call) and dropped.
func (p *loaded) progressFunc(ctx context.Context, st *callState, in []byte) []byte {
	if st.progress == nil || st.limiter == nil {
		return nil // nobody listens: not even decoded
	}
	var r api.ProgressReport
	if err := strictjson.Unmarshal(in, &r); err != nil {
		p.pluginLog(ctx, slog.LevelDebug, "progress report that is not {\"progress\": N, \"total\": N, \"message\": TEXT}, ignored", "err", err)
		return nil
	}
	r.Message = cutText(r.Message, MaxProgressMessageBytes)
	if st.limiter.allow(r) {
		st.progress(r)
	}
	return nil
}

// progressTooBig drops a progress report over maxProgressInputBytes,
// unread.
func (p *loaded) progressTooBig(ctx context.Context, _ *callState, size uint64) []byte {
	p.pluginLog(ctx, slog.LevelDebug, "progress report too large, ignored", "bytes", size, "max", maxProgressInputBytes)
	return nil
}

// hostInfoFunc is host_info: nothing → HostInfo. It tells the plugin which
// account it works in, so it passes the gate's account check (and is
// audited) like a call, once per tool call; when the gate refuses (the
// credentials are not --expect-account's), the answer carries the error
// and no account.
func (p *loaded) hostInfoFunc(ctx context.Context, st *callState, _ []byte) []byte {
	st.infoOnce.Do(func() { st.info = mustJSON(p.hostInfo(ctx, st)) })
	return st.info
}

func (p *loaded) hostInfo(ctx context.Context, st *callState) api.HostInfo {
	info := api.HostInfo{Plugin: p.name, Grants: p.granted, Config: copyConfig(p.spec.Config)}
	if info.Grants == nil {
		info.Grants = []string{}
	}
	if p.gate != nil {
		info.ReadOnly, info.Confirm = p.gate.ReadOnly(), string(p.gate.Confirm())
		// The person the call is made for may be read-only (an HTTP
		// principal's rules or headers): the gate refuses their changes,
		// and the plugin should know before it plans any.
		if pr := gate.PrincipalFrom(ctx); pr != nil && pr.ReadOnly {
			info.ReadOnly = true
		}
		if err := p.gate.Info(ctx, p.caller(st)); err != nil {
			return api.HostInfo{ReadOnly: info.ReadOnly, Confirm: info.Confirm, Plugin: p.name, Grants: []string{}, Config: map[string]string{}, Error: gate.AsAPIError(err)}
		}
		info.Accounts = p.reachable()
	}
	if p.account != nil {
		acct, part, err := p.account(ctx)
		if err != nil {
			p.logger.Debug("host_info: account unknown", "err", err)
		} else {
			info.AccountID, info.Partition = acct, part
		}
	}
	return info
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("encoding a host function's answer: %w", err))
	}
	return b
}
