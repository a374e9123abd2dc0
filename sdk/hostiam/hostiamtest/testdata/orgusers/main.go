//go:build wasip1

// Command orgusers is the kit's test plugin for an organisation: its one
// tool runs package workflow, the same code the kit's tests run natively.
package main

import (
	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest/testdata/orgusers/workflow"
)

func init() {
	sdk.Plugin("orgusers", "0.1.0", "The users of each account the plugin may reach")
	sdk.TypedTool("users", "List the users of the accounts named (default every one host_info lists).",
		func(ctx *sdk.Context, in workflow.Input) (workflow.Result, error) {
			return workflow.Run(hostiam.FromSDK(ctx), in)
		}, workflow.Operations...)
}

func main() {}
