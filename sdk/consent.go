//go:build wasip1

package sdk

import (
	"encoding/json"
	"fmt"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

//go:wasmimport iam_mcp consent
func hostConsent(input uint64) uint64

// Consent states the changes a step of the tool call is about to make,
// before it makes any of them: summary says what the step is for, in one
// line the person reads, and calls are the step's changes, in the order
// they will be made, with exactly the arguments they will be made with.
//
// The host plans each call as it would run it (grants, read-only mode,
// arguments, guardrails) and asks the person once about those the
// operator's --confirm level covers (see HostInfo's Confirm). After a yes,
// each approved call runs without asking again — exactly that call, with
// the same arguments, once; any other change that needs a yes is asked
// about when it is made. When nothing listed needs a yes, nobody is asked.
//
// The error is nil when the step may go ahead; otherwise it is an
// *api.Error: api.Declined (the person said no: change nothing, and say so
// in the result), api.ConsentRequired (nobody can be asked), or a call's
// own refusal (api.NotGranted, api.ReadOnly, a guardrail's, an entity that
// does not exist). The answer holds the plans of the calls as shown,
// approved or not.
//
// Call it before the step's first change, and state the same plan when the
// tool call is run again: with clients that answer in a later request, the
// host stops the tool call while the question is open and runs it again,
// from the start, once the person has answered — so a step whose plan
// depends on the time, or on something random, would be asked about again.
func Consent(summary string, calls ...Request) (*api.ConsentAnswer, error) {
	if len(calls) > api.MaxBatchRequests {
		return nil, &api.Error{Code: api.InvalidInput, Message: fmt.Sprintf("sdk.Consent: a plan of %d calls; at most %d: state the work in smaller steps", len(calls), api.MaxBatchRequests)}
	}
	req := api.ConsentRequest{Summary: summary, Calls: make([]api.IAMRequest, len(calls))}
	for i, c := range calls {
		r, err := newIAMRequest(c.Account, c.Op, c.Args)
		if err != nil {
			return nil, err
		}
		req.Calls[i] = r
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, &api.Error{Code: api.Internal, Message: err.Error()}
	}
	out := invoke(hostConsent, b)
	var answer api.ConsentAnswer
	if err := json.Unmarshal(out, &answer); err != nil {
		return nil, hostError(api.HostConsent, "answered %q, not a consent answer: %v", truncate(out), err)
	}
	if answer.Error != nil {
		return &answer, answer.Error
	}
	if !answer.Approved {
		return &answer, hostError(api.HostConsent, "answered neither an approval nor an error")
	}
	return &answer, nil
}
