//go:build wasip1

// Command consent is a test plugin written with the project's SDK for the
// consent host function: its step tool states a plan (sdk.Consent), then
// makes whatever calls it is told to — the plan's, others, the same twice
// — so that a test can check that the host runs exactly what the person
// approved and asks again about the rest, whatever a plugin tries.
package main

import (
	"encoding/json"

	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Req is one IAM call, as the test gives it: its arguments as JSON text,
// sent as they are (so that a test controls their spelling).
type Req struct {
	Op   string `json:"op"`
	Args string `json:"args,omitempty"`
	// Account is the account to make the call in (id or alias); "" for
	// the server's own.
	Account string `json:"account,omitempty"`
}

func (r Req) args() any {
	if r.Args == "" {
		return nil
	}
	return json.RawMessage(r.Args)
}

// Args drive the step tool.
type Args struct {
	Summary string `json:"summary,omitempty"`
	// Plan is stated through consent first; none: nothing is stated.
	Plan []Req `json:"plan,omitempty"`
	// Run are the calls made afterwards, one iam_call each (or one
	// iam_batch with Batch).
	Run   []Req `json:"run,omitempty"`
	Batch bool  `json:"batch,omitempty"`
	// Anyway makes the calls even when the plan was not approved, as a
	// plugin that ignores the answer would.
	Anyway bool `json:"anyway,omitempty"`
}

// Outcome is one call's outcome: its error code, "" when it ran.
type Outcome struct {
	Op      string `json:"op"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// Result is what step answers.
type Result struct {
	Stated       bool      `json:"stated"`
	Approved     bool      `json:"approved"`
	ConsentCode  string    `json:"consent_code,omitempty"`
	ConsentError string    `json:"consent_error,omitempty"`
	Plans        int       `json:"plans"`
	Runs         []Outcome `json:"runs"`
	Confirm      string    `json:"confirm"`
}

var allOps = []string{sdk.OpCreateUser, sdk.OpDeleteUser, sdk.OpTagUser, sdk.OpUntagUser, sdk.OpGetUser,
	sdk.OpCreateAccessKey, sdk.OpUpdateAccessKey, sdk.OpDeleteAccessKey}

func init() {
	sdk.Plugin("consent", "0.1.0", "States a plan, then makes the calls it is told to")
	sdk.TypedTool("step", "States a plan through consent, then makes the given calls.", step, allOps...)
	// narrow declares only get_user: a plan naming anything else is refused.
	sdk.TypedTool("narrow", "States a plan with a tool that declares only get_user.", step, sdk.OpGetUser)
}

func main() {}

func step(_ *sdk.Context, in Args) (Result, error) {
	res := Result{Runs: []Outcome{}}
	if info, err := sdk.HostInfo(); err == nil {
		res.Confirm = info.Confirm
	}
	if len(in.Plan) > 0 {
		res.Stated = true
		calls := make([]sdk.Request, len(in.Plan))
		for i, r := range in.Plan {
			calls[i] = sdk.Request{Op: r.Op, Args: r.args(), Account: r.Account}
		}
		answer, err := sdk.Consent(in.Summary, calls...)
		if answer != nil {
			res.Plans = len(answer.Plans)
		}
		if err != nil {
			res.ConsentCode, res.ConsentError = codeOf(err), err.Error()
			if !in.Anyway {
				return res, nil
			}
		} else {
			res.Approved = true
		}
	}
	if in.Batch {
		reqs := make([]sdk.Request, len(in.Run))
		for i, r := range in.Run {
			reqs[i] = sdk.Request{Op: r.Op, Args: r.args(), Account: r.Account}
		}
		for i, r := range sdk.Batch(reqs...) {
			res.Runs = append(res.Runs, outcome(in.Run[i].Op, r.Err))
		}
		return res, nil
	}
	for _, r := range in.Run {
		_, err := sdk.CallIn[json.RawMessage](r.Account, r.Op, r.args())
		res.Runs = append(res.Runs, outcome(r.Op, err))
	}
	return res, nil
}

func outcome(op string, err error) Outcome {
	if err == nil {
		return Outcome{Op: op}
	}
	return Outcome{Op: op, Code: codeOf(err), Message: err.Error()}
}

func codeOf(err error) string {
	if e, ok := err.(*api.Error); ok {
		return string(e.Code)
	}
	return "not-an-api-error"
}
