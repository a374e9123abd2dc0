//go:build wasip1

// Command e2e-tools is the test plugin of the end-to-end tests and the
// benchmarks, written with the project's SDK: a tool that reports
// progress, one that creates a user (a mutation, for --readonly and the
// audit log), one that makes a single IAM call (to measure what a plugin
// adds over the built-in tool) and one that fans out through iam_batch.
package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// StepsArgs is the input of steps.
type StepsArgs struct {
	Steps int `json:"steps" desc:"how many progress reports to make" minimum:"1" maximum:"1000"`
}

// StepsOutput is its answer.
type StepsOutput struct {
	Steps int    `json:"steps"`
	User  string `json:"user"`
}

// UserArgs names a user.
type UserArgs struct {
	UserName string `json:"user_name" desc:"the user"`
}

// CreatedOutput is create_user's answer.
type CreatedOutput struct {
	Created string `json:"created"`
}

// GotOutput is get_user's answer.
type GotOutput struct {
	UserName string `json:"user_name"`
	Arn      string `json:"arn"`
}

// BatchArgs is the input of batch.
type BatchArgs struct {
	UserName string `json:"user_name" desc:"the user to get"`
	Count    int    `json:"count" desc:"how many get_user calls to batch" minimum:"1" maximum:"1000"`
}

// RepeatArgs is the input of repeat.
type RepeatArgs struct {
	Op    string `json:"op" desc:"the operation to repeat" enum:"get_user,list_users"`
	Count int    `json:"count" desc:"how many times" minimum:"0" maximum:"1000"`
	Batch bool   `json:"batch,omitempty" desc:"in one iam_batch instead of one iam_call after another"`
}

// SpinArgs is the input of spin.
type SpinArgs struct {
	Ms int `json:"ms" desc:"how long to spin, in milliseconds" minimum:"0" maximum:"600000"`
}

// SpinOutput is spin's answer.
type SpinOutput struct {
	Spun int `json:"spun"`
}

// BatchOutput is batch's and repeat's answer.
type BatchOutput struct {
	OK     int `json:"ok"`
	Failed int `json:"failed"`
}

func init() {
	sdk.Plugin("e2e-tools", "1.0.0", "Test tools for the end-to-end tests and benchmarks")
	sdk.TypedTool("steps", "Report progress the given number of times, around one IAM call, then answer.", steps, sdk.OpGetUser)
	sdk.TypedTool("create_user", "Create an IAM user (a mutation).", createUser, sdk.OpCreateUser)
	sdk.TypedTool("get_user", "Get one IAM user with a single IAM call.", getUser, sdk.OpGetUser)
	sdk.TypedTool("batch", "Get one user count times, in a single iam_batch.", batch, sdk.OpGetUser)
	sdk.TypedTool("repeat", "Run get_user (of alice.nguyen) or list_users (one user) count times, one call after another or in one batch: for the benchmarks.",
		repeat, sdk.OpGetUser, sdk.OpListUsers)
	sdk.TypedTool("info", "Answer what host_info says.", info)
	sdk.TypedTool("spin", "Spin the CPU for ms milliseconds without calling the host: only the runtime can stop it.", spin)
}

func main() {}

func steps(ctx *sdk.Context, in StepsArgs) (StepsOutput, error) {
	var name string
	for i := 1; i <= in.Steps; i++ {
		if i == in.Steps/2+1 {
			u, err := sdk.GetUser(api.UserNameInput{UserName: "alice.nguyen"})
			if err != nil {
				return StepsOutput{}, err
			}
			name = u.User.UserName
		}
		ctx.Progress(float64(i), float64(in.Steps), fmt.Sprintf("step %d of %d", i, in.Steps))
	}
	return StepsOutput{Steps: in.Steps, User: name}, nil
}

func createUser(_ *sdk.Context, in UserArgs) (CreatedOutput, error) {
	u, err := sdk.CreateUser(api.CreateUserInput{UserName: in.UserName})
	if err != nil {
		return CreatedOutput{}, err
	}
	return CreatedOutput{Created: u.User.UserName}, nil
}

func getUser(_ *sdk.Context, in UserArgs) (GotOutput, error) {
	u, err := sdk.GetUser(api.UserNameInput{UserName: in.UserName})
	if err != nil {
		return GotOutput{}, err
	}
	return GotOutput{UserName: u.User.UserName, Arn: u.User.Arn}, nil
}

func batch(_ *sdk.Context, in BatchArgs) (BatchOutput, error) {
	ins := make([]api.UserNameInput, in.Count)
	for i := range ins {
		ins[i] = api.UserNameInput{UserName: in.UserName}
	}
	_, errs := sdk.BatchOf[api.GetUserOutput](sdk.OpGetUser, ins)
	var out BatchOutput
	for _, err := range errs {
		if err != nil {
			out.Failed++
		} else {
			out.OK++
		}
	}
	return out, nil
}

func repeat(_ *sdk.Context, in RepeatArgs) (BatchOutput, error) {
	var req sdk.Request
	switch in.Op {
	case sdk.OpGetUser:
		req = sdk.Request{Op: sdk.OpGetUser, Args: api.UserNameInput{UserName: "alice.nguyen"}}
	case sdk.OpListUsers:
		req = sdk.Request{Op: sdk.OpListUsers, Args: api.ListUsersInput{PageInput: api.PageInput{MaxItems: 1}}}
	default:
		return BatchOutput{}, &api.Error{Code: api.InvalidInput, Message: "op must be get_user or list_users"}
	}
	var out BatchOutput
	count := func(err error) {
		if err != nil {
			out.Failed++
		} else {
			out.OK++
		}
	}
	if in.Batch {
		reqs := make([]sdk.Request, in.Count)
		for i := range reqs {
			reqs[i] = req
		}
		for _, r := range sdk.Batch(reqs...) {
			count(r.Err)
		}
		return out, nil
	}
	for i := 0; i < in.Count; i++ {
		_, err := sdk.Call[json.RawMessage](req.Op, req.Args)
		count(err)
	}
	return out, nil
}

func spin(_ *sdk.Context, in SpinArgs) (SpinOutput, error) {
	start := time.Now()
	n := 0
	for time.Since(start) < time.Duration(in.Ms)*time.Millisecond {
		n++
	}
	return SpinOutput{Spun: in.Ms}, nil
}

func info(_ *sdk.Context, _ struct{}) (api.HostInfo, error) {
	i, err := sdk.HostInfo()
	if err != nil {
		return api.HostInfo{}, err
	}
	return *i, nil
}
