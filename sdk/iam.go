//go:build wasip1

package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/internal/wire"
)

// Call runs one catalogue operation through the host and decodes its result
// as O. in is the operation's input (api.<Op>Input, or anything that
// marshals to the same JSON; nil for none). It is the one path every IAM
// call takes: the host passes it through the same gate as the built-in
// tools, so it fails with api.NotGranted when the operator did not grant op
// to this plugin, with api.ReadOnly when op mutates and the server is
// read-only, and with the operation's own codes (api.NoSuchEntity, …)
// otherwise.
//
// The generated wrappers (ListUsers, GetUser, …) call it with the right
// types; use Call directly for an operation newer than this SDK, or with
// O = json.RawMessage to keep the result undecoded. Every error is an
// *api.Error.
func Call[O any](op string, in any) (*O, error) {
	return CallIn[O]("", op, in)
}

// CallIn is Call in another account: account is its id or alias, one of
// those HostInfo().Accounts lists ("" is the server's own account, as
// Call). The host refuses an account the operator did not allow this
// plugin with api.AccountNotAllowed, before any call to AWS.
func CallIn[O any](account, op string, in any) (*O, error) {
	req, err := newIAMRequest(account, op, in)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, &api.Error{Code: api.Internal, Message: err.Error()}
	}
	out := invokeDirect(directIAMCall, b)
	if result, ok := wire.Result(out); ok {
		return decode[O](op, result, nil)
	}
	var resp api.IAMResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, hostError(api.HostIAMCall, "answered %s with %q, not an IAM response: %v", op, truncate(out), err)
	}
	return decode[O](op, resp.Result, resp.Error)
}

// Request is one operation of a batch: the operation's name (a constant such
// as OpListUsers) and its input, as for Call, and the account to run it in
// (id or alias as HostInfo().Accounts lists them; "" for the server's own).
// One batch may mix accounts: that is how a plugin reviews many at once.
type Request struct {
	Op      string
	Args    any
	Account string
}

// Response answers one Request of a batch: either Result (the operation's
// output, undecoded) or Err (an *api.Error), never both. Decode it with
// Decode.
type Response struct {
	Op     string
	Result json.RawMessage
	Err    error
}

// Batch runs many operations through the host at once and returns their
// responses in the order of reqs. The host runs them concurrently (bounded)
// while the plugin waits: Go compiled to Wasm has one thread, so a batch is
// how a plugin fans out — asking for the groups of 200 users takes about
// the time of a few calls, not of 200. Each request passes the gate and
// counts against the plugin's per-call limits exactly as a single Call does,
// and one failing request does not fail the others.
func Batch(reqs ...Request) []Response {
	resps := make([]Response, len(reqs))
	wire := make([]api.IAMRequest, 0, len(reqs))
	sent := make([]int, 0, len(reqs)) // index in reqs of each wire request
	for i, r := range reqs {
		resps[i].Op = r.Op
		req, err := newIAMRequest(r.Account, r.Op, r.Args)
		if err != nil {
			resps[i].Err = err
			continue
		}
		wire = append(wire, req)
		sent = append(sent, i)
	}
	if len(wire) == 0 {
		return resps
	}
	// The host takes at most api.MaxBatchRequests per call: longer batches
	// go in consecutive chunks, answered in order all the same.
	for start := 0; start < len(wire); start += api.MaxBatchRequests {
		end := min(start+api.MaxBatchRequests, len(wire))
		batchChunk(wire[start:end], sent[start:end], resps)
	}
	return resps
}

// batchChunk sends one iam_batch and fills resps[sent[k]] with the answer
// to wire[k].
func batchChunk(wire []api.IAMRequest, sent []int, resps []Response) {
	fail := func(err error) {
		for _, i := range sent {
			resps[i].Err = err
		}
	}
	b, err := json.Marshal(wire)
	if err != nil {
		fail(&api.Error{Code: api.Internal, Message: err.Error()})
		return
	}
	out := invokeDirect(directIAMBatch, b)
	if trimmed := bytes.TrimSpace(out); len(trimmed) > 0 && trimmed[0] == '{' {
		// The host refused the batch whole (over a cap): one answer with
		// the reason, for every request in it.
		var whole api.IAMResponse
		if err := json.Unmarshal(trimmed, &whole); err == nil && whole.Error != nil {
			fail(whole.Error)
			return
		}
	}
	answers, err := batchAnswers(out)
	if err != nil {
		fail(hostError(api.HostIAMBatch, "answered %d requests with %q, not a list of IAM responses: %v", len(wire), truncate(out), err))
		return
	}
	if len(answers) != len(wire) {
		fail(hostError(api.HostIAMBatch, "answered %d requests with %d responses", len(wire), len(answers)))
		return
	}
	for k, i := range sent {
		if a := answers[k]; a.Error != nil {
			resps[i].Err = a.Error
		} else {
			resps[i].Result = a.Result
		}
	}
}

// Decode returns a batch response's result decoded as O, or its error.
func Decode[O any](r Response) (*O, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	return decode[O](r.Op, r.Result, nil)
}

// BatchOf runs one operation once per input, in a single batch, and decodes
// every result as O: the common fan-out (the groups of each user, the keys
// of each user) in one line. outs[i] and errs[i] answer ins[i]; exactly one
// of them is non-nil. O comes first so that I is inferred:
//
//	outs, errs := sdk.BatchOf[api.GroupsOutput](sdk.OpListGroupsForUser, inputs)
func BatchOf[O, I any](op string, ins []I) (outs []*O, errs []error) {
	reqs := make([]Request, len(ins))
	for i, in := range ins {
		reqs[i] = Request{Op: op, Args: in}
	}
	outs, errs = make([]*O, len(ins)), make([]error, len(ins))
	for i, r := range Batch(reqs...) {
		outs[i], errs[i] = Decode[O](r)
	}
	return outs, errs
}

// batchAnswers reads iam_batch's answer: each successful response's
// result is found without decoding it (sdk/internal/wire), so that it is
// scanned once, when decoded into its output type; the rest is decoded.
func batchAnswers(out []byte) ([]api.IAMResponse, error) {
	elems, ok := wire.Elements(out)
	if !ok {
		var answers []api.IAMResponse
		err := json.Unmarshal(out, &answers)
		return answers, err
	}
	answers := make([]api.IAMResponse, len(elems))
	for i, e := range elems {
		if r, ok := wire.Result(e); ok {
			answers[i].Result = r
		} else if err := json.Unmarshal(e, &answers[i]); err != nil {
			return nil, err
		}
	}
	return answers, nil
}

// newIAMRequest builds the wire form of a request; the account rides in
// the request (api.IAMRequest.Account), beside the operation's arguments.
func newIAMRequest(account, op string, in any) (api.IAMRequest, error) {
	if op == "" {
		return api.IAMRequest{}, &api.Error{Code: api.InvalidInput, Message: "sdk: an IAM request needs an operation name"}
	}
	req := api.IAMRequest{Op: op, Account: account}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return api.IAMRequest{}, &api.Error{Code: api.InvalidInput, Message: fmt.Sprintf("sdk: the arguments of %s do not encode as JSON: %v", op, err)}
		}
		req.Args = b
	}
	return req, nil
}

// decode turns one wire response into (*O, error).
func decode[O any](op string, result json.RawMessage, apiErr *api.Error) (*O, error) {
	if apiErr != nil {
		return nil, apiErr
	}
	out := new(O)
	if len(result) == 0 {
		return out, nil
	}
	// O = json.RawMessage keeps the result as it came: the wire response
	// was checked as JSON already, and a large result (a page of
	// authorization details) is not worth a second scan inside Wasm.
	if raw, ok := any(out).(*json.RawMessage); ok {
		*raw = result
		return out, nil
	}
	if err := json.Unmarshal(result, out); err != nil {
		return nil, &api.Error{Code: api.Internal, Message: fmt.Sprintf("sdk: the result of %s does not decode as %T: %v", op, *out, err)}
	}
	return out, nil
}
