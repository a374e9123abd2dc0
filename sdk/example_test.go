//go:build wasip1

package sdk_test

import (
	"errors"
	"fmt"

	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// A plugin declares itself and its tools from init; the input struct's tags
// become the tool's JSON Schema.
func ExampleTool() {
	type Args struct {
		UserName string `json:"user_name" desc:"the IAM user to review"`
	}
	sdk.Plugin("key-review", "1.0.0", "Reviews a user's access keys")
	sdk.Tool("review_keys", "Say which of a user's access keys are old or unused, and what to do about each.",
		func(ctx *sdk.Context, in Args) (any, error) {
			keys, err := sdk.ListAccessKeys(api.UserPageInput{UserName: in.UserName})
			if err != nil {
				return nil, err // becomes an is_error result with the code and message
			}
			return map[string]any{"user_name": in.UserName, "keys": len(keys.AccessKeys)}, nil
		}, sdk.OpListAccessKeys)
}

// Errors from IAM are *api.Error, with a stable code to act on.
func ExampleCall() {
	out, err := sdk.Call[api.GetUserOutput](sdk.OpGetUser, api.UserNameInput{UserName: "alice"})
	var apiErr *api.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == api.NoSuchEntity:
		sdk.Log(sdk.LevelInfo, "alice is gone")
	case err != nil:
		sdk.Logf(sdk.LevelError, "get_user: %v", err)
	default:
		sdk.Logf(sdk.LevelInfo, "alice is in %d groups", len(out.Groups))
	}
}

// A batch runs many operations concurrently on the host and answers in
// order; BatchOf is the one-operation form.
func ExampleBatchOf() {
	names := []string{"alice", "bob", "carol"}
	inputs := make([]api.UserPageInput, len(names))
	for i, n := range names {
		inputs[i] = api.UserPageInput{UserName: n}
	}
	keys, errs := sdk.BatchOf[api.ListAccessKeysOutput](sdk.OpListAccessKeys, inputs)
	for i, n := range names {
		if errs[i] != nil {
			fmt.Println(n, errs[i])
			continue
		}
		fmt.Println(n, len(keys[i].AccessKeys))
	}
}

// Batch mixes operations; Decode types each answer.
func ExampleBatch() {
	resps := sdk.Batch(
		sdk.Request{Op: sdk.OpGetAccountInfo},
		sdk.Request{Op: sdk.OpListRoles, Args: api.ListRolesInput{PathPrefix: "/service-role/"}},
	)
	if acct, err := sdk.Decode[api.AccountInfoOutput](resps[0]); err == nil {
		fmt.Println(acct.AccountID)
	}
	if roles, err := sdk.Decode[api.ListRolesOutput](resps[1]); err == nil {
		fmt.Println(len(roles.Roles))
	}
}

// A step that changes IAM states its changes first, so that the person is
// asked once for the whole step; a no changes nothing, and the result says
// so.
func ExampleConsent() {
	const user, key = "ci-deploy", "AKIAEXAMPLEOLDKEY001"
	retire := []sdk.Request{
		{Op: sdk.OpUpdateAccessKey, Args: api.UpdateAccessKeyInput{UserName: user, AccessKeyID: key, Status: "Inactive"}},
		{Op: sdk.OpTagUser, Args: api.TagUserInput{UserName: user, Tags: map[string]string{"retired-key": key}}},
	}
	_, err := sdk.Consent("Retire "+user+"'s old access key "+key+" (reversible: set it Active again)", retire...)
	var apiErr *api.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == api.Declined:
		fmt.Println("declined: nothing was changed")
		return
	case err != nil:
		fmt.Println("not asked:", err) // ConsentRequired, NotGranted, ReadOnly, a guardrail
		return
	}
	// Exactly the stated calls, in order: each runs without asking again.
	for _, r := range retire {
		if _, err := sdk.Call[api.Result](r.Op, r.Args); err != nil {
			fmt.Println(r.Op, "failed:", err)
			return
		}
	}
}
