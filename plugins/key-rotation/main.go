//go:build wasip1

// Command key-rotation is the plugin that rotates IAM users' access keys in
// AWS's safe order, one resumable step per call, and plans which keys are
// due. Its workflow is package rotation (built and tested natively); this
// file only declares the tools and hands each call to it through the SDK's
// host functions. docs/key-rotation.md describes it; `make plugins` builds
// it.
package main

import (
	"github.com/iammcp/iam-mcp-server/plugins/key-rotation/rotation"
	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

func init() {
	sdk.Plugin("key-rotation", "0.1.0", "Rotate IAM access keys safely, one resumable step at a time, and plan which keys are due")
	sdk.Tool("rotate_access_key",
		"Rotate one IAM user's access key in AWS's safe order, one step per call: plan, make_room (only when the user already holds two keys; "+
			"the other, inactive key is deleted once unused for the grace period), create the new key (its secret goes to a 0600 file on the server; "+
			"the answer gives the path, never the secret; the first cut-over check that sees the new key used has the server remove that file), cutover (proven only when the new key has been seen used by every service and region "+
			"the old key was seen using, and the old key stayed unused for its usual interval, at least 24 hours, after the new key's first use; "+
			"the answer says what is missing and when to check again), deactivate the old key (reversible), and delete it after a grace period "+
			"of at least 7 days. A key unused for 45+ days is retired instead (step retire: deactivated, then deleted after the grace period, "+
			"no new key). The rotation's state is kept in a tag on the user, sealed by the server and checked against the seal and IAM's own records at every call, so omit step "+
			"(next) to continue where it stopped, even in a new conversation; every answer says what happened, the current step and the exact "+
			"next call. Steps out of order are refused; rollback undoes the last reversible step. A key claimed to be the root user's is checked "+
			"against IAM (no IAM user holds it; the credential report shows root keys) and gets the plan to delete it; in read-only mode you get "+
			"the full plan and nothing changes.",
		rotate, rotation.RotateOps()...)
	sdk.Tool("plan_key_rotation",
		"List every access key due (active and older than max_age_days, default 90; active and unused for 45 days or more, to be retired "+
			"rather than rotated; and any root user key), oldest first, from the credential report, with the plan for each: ready to rotate, "+
			"to retire, another inactive key to delete first, two active keys where a person must choose which to retire, or a root key to "+
			"delete from the console. Changes nothing.",
		plan, rotation.PlanOps()...)
}

// main is never called: the host calls the SDK's exports.
func main() {}

func rotate(ctx *sdk.Context, in rotation.RotateInput) (any, error) {
	res, err := rotation.Rotate(hostiam.FromSDK(ctx), in, rotation.Options{})
	if err != nil {
		return nil, err
	}
	return toResult(res.PluginResult())
}

func plan(ctx *sdk.Context, in rotation.PlanInput) (any, error) {
	res, err := rotation.PlanDue(hostiam.FromSDK(ctx), in, rotation.Options{})
	if err != nil {
		return nil, err
	}
	return toResult(res.PluginResult())
}

// toResult returns an *api.PluginResult as is (the SDK sends it
// unchanged): the person's summary as text, the answer as structured
// content.
func toResult(r *api.PluginResult, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}
