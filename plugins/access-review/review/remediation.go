package review

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Remediation plans are catalogue calls, spelled exactly as the built-in
// tools take them, so that an assistant (or a person with `iam-mcp-server
// call`) can run them one by one after reading them; a test decodes every
// step's args into its operation's input type, strictly.

func step(op string, args map[string]any, note string) Step {
	return Step{Op: op, Args: args, Note: note}
}

func manualStep(note string) Step { return Step{Manual: true, Note: note} }

// docObject decodes a document for a plan argument.
func docObject(doc string) map[string]any {
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil
	}
	return d
}

// shortHash names generated policies after their content, so that two
// findings needing the same boundary share one.
func shortHash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:4])
}

// detachStep detaches a managed policy from its owner.
func detachStep(ref *policyRef, note string) Step {
	o := ref.owner
	switch o.kind {
	case KindUser:
		return step("detach_user_policy", map[string]any{"user_name": o.name, "policy_arn": ref.arn}, note)
	case KindGroup:
		return step("detach_group_policy", map[string]any{"group_name": o.name, "policy_arn": ref.arn}, note)
	default:
		return step("detach_role_policy", map[string]any{"role_name": o.name, "policy_arn": ref.arn}, note)
	}
}

// inlineOp names the put/get/delete operation of an owner's inline policy.
func inlineOp(verb string, o *principal) (string, string) {
	switch o.kind {
	case KindUser:
		return verb + "_user_policy", "user_name"
	case KindGroup:
		return verb + "_group_policy", "group_name"
	default:
		return verb + "_role_policy", "role_name"
	}
}

// inlineStep runs verb (get, delete) on an inline policy.
func inlineStep(verb string, ref *policyRef, note string) Step {
	op, key := inlineOp(verb, ref.owner)
	return step(op, map[string]any{key: ref.owner.name, "policy_name": ref.name}, note)
}
