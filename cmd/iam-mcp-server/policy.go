package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/accounts"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/plugin"
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
// resource; with readOnly, of a mutating operation only the reads its dry
// run makes (the gate refuses the change itself before any AWS call).
// sts:GetCallerIdentity needs no permission but is listed where the
// catalogue uses it, so the policy says everything the server calls.
func leastPrivilege(ops []catalogue.Tool, readOnly bool) iamPolicy {
	var actions []string
	for _, op := range ops {
		for _, a := range op.IAMActions {
			if !readOnly || !op.Mutates || reads(a) {
				actions = append(actions, a)
			}
		}
	}
	slices.Sort(actions)
	actions = slices.Compact(actions)
	return iamPolicy{
		Version:   "2012-10-17",
		Statement: []policyStatement{{Effect: "Allow", Action: actions, Resource: "*"}},
	}
}

// reads reports whether an IAM action only reads: what a dry run of a
// mutating operation may call.
func reads(action string) bool {
	_, name, _ := strings.Cut(action, ":")
	return strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List")
}

// runPolicy prints the least-privilege policy as indented JSON: the
// actions of the tools exposed, and with --plugins of the operations
// granted to the plugins (the file is read, the plugins are not loaded),
// less the excluded operations, which no caller can run; only the reading
// ones unless writes are allowed.
func runPolicy(cfg config, stdout, stderr io.Writer) int {
	ops := cfg.tools
	if cfg.plugins != "" {
		pcfg, err := plugin.LoadConfig(cfg.plugins)
		if err != nil {
			fmt.Fprintf(stderr, "iam-mcp-server: the plugins file %s: %v\n", cfg.plugins, err)
			return 1
		}
		ops = withGrants(ops, pcfg, cfg.excluded)
	}
	p := leastPrivilege(ops, cfg.readOnly)
	if cfg.accounts != "" {
		f, err := accounts.Load(cfg.accounts)
		if err != nil {
			fmt.Fprintf(stderr, "iam-mcp-server: %s: %v\n", cfg.source("accounts"), err)
			return 1
		}
		p.Statement = append(p.Statement, reaching(f)...)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

// reaching is what the server's own credentials need to reach the
// accounts of f: sts:AssumeRole on each role it names and, with
// discovery, organizations:ListAccounts and the role name in every
// account. A profile's account needs nothing of them (its credentials are
// its own). What the server may do in each account is that role's
// policy: this command's output for that account's mode.
func reaching(f *accounts.File) []policyStatement {
	var out []policyStatement
	for _, e := range f.Accounts {
		if e.RoleARN != "" {
			out = append(out, policyStatement{Effect: "Allow", Action: []string{"sts:AssumeRole"}, Resource: e.RoleARN})
		}
	}
	if d := f.Discovery; d != nil {
		out = append(out,
			policyStatement{Effect: "Allow", Action: []string{"organizations:ListAccounts"}, Resource: "*"},
			policyStatement{Effect: "Allow", Action: []string{"sts:AssumeRole"}, Resource: "arn:aws:iam::*:role/" + d.RoleName})
	}
	return out
}

// withGrants adds to ops every operation the plugins file grants and
// excluded does not name: each named one, and for "read" every operation
// that does not mutate.
func withGrants(ops []catalogue.Tool, cfg *plugin.Config, excluded map[string]bool) []catalogue.Tool {
	out := slices.Clone(ops)
	for _, spec := range cfg.Plugins {
		for _, g := range spec.Grants {
			if g == plugin.ReadGrant {
				for _, op := range catalogue.Tools() {
					if !op.Mutates && !excluded[op.Name] {
						out = append(out, op)
					}
				}
			} else if op, ok := catalogue.LookupTool(g); ok && !excluded[op.Name] {
				out = append(out, op)
			}
		}
	}
	return out
}
