//go:build wasip1

// Command access-review is the plugin that reviews an AWS account's IAM the
// way a security engineer would: credentials (root user, MFA, key age and
// use, console passwords, password policy), over-privilege (admin-equivalent
// and sensitive grants, whole-service wildcards, PassRole and AssumeRole on
// *), privilege escalation (the published methods, confirmed or potential),
// trust policies and structure. Every rule, its evidence and its fix are in
// package review; this file only registers the tool and hands the review
// the host. See docs/access-review.md.
//
// It is read-only: every operation it declares is one IAM rates as a read
// (generate_credential_report included), so it runs on a read-only server.
package main

import (
	"encoding/json"

	"github.com/iammcp/iam-mcp-server/plugins/access-review/review"
	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

func init() {
	sdk.Plugin("access-review", "0.1.0", "An IAM access review: credentials, over-privilege, privilege escalation, trust and structure, with evidence and a plan of fixes")
	sdk.Tool("access_review",
		"Review the account's IAM for security problems, the way prowler's IAM checks and cloudsplaining do, with a handful of bulk read calls: "+
			"root user and MFA, access key age and use, unused passwords, the password policy; admin-equivalent, sensitive and wildcard grants; "+
			"privilege escalation through the published methods (confirmed or potential); trust policies open to anyone, other accounts or any OIDC subject; "+
			"and how permissions are organised. Returns a Markdown report (summary first, most severe first) and structured findings, each with the rule id, "+
			"the principal, the evidence (policy, version, statement, or credential report fields), a plan of catalogue calls that fixes it, and references. "+
			"Read-only; works on a read-only server.",
		run, review.Operations...)
}

// main is never called: the host calls the SDK's exports.
func main() {}

// run reviews the account and returns the Markdown as the text a client
// shows, and the whole report as structured content.
func run(ctx *sdk.Context, in review.Input) (any, error) {
	rep, err := review.Run(hostiam.FromSDK(ctx), in, review.Options{})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	return &api.PluginResult{
		Content:           []api.PluginContent{{Type: "text", Text: rep.Markdown}},
		StructuredContent: b,
	}, nil
}
