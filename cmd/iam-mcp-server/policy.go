package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// iamPolicy is an IAM policy document, fields in the order IAM shows them.
type iamPolicy struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource string   `json:"Resource"`
}

// leastPrivilege is the policy the server's credentials need to run ops:
// one Allow of the sorted, unique IAM actions they declare, on every
// resource; with readOnly, only the operations that change nothing count,
// since the gate refuses the others before any AWS call.
// sts:GetCallerIdentity needs no permission but is listed where the
// catalogue uses it, so the policy says everything the server calls.
func leastPrivilege(ops []api.Operation, readOnly bool) iamPolicy {
	var actions []string
	for _, op := range ops {
		if readOnly && op.Mutates {
			continue
		}
		actions = append(actions, op.IAMActions...)
	}
	slices.Sort(actions)
	actions = slices.Compact(actions)
	return iamPolicy{
		Version:   "2012-10-17",
		Statement: []policyStatement{{Effect: "Allow", Action: actions, Resource: "*"}},
	}
}

// runPolicy prints the least-privilege policy as indented JSON.
func runPolicy(cfg config, stdout, stderr io.Writer) int {
	b, err := json.MarshalIndent(leastPrivilege(cfg.tools, cfg.readOnly), "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}
