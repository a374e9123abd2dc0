package api

// Plans: what a change will do, shown before it is done. The same plan is
// the result of a dry run (`dry_run: true` on any mutating operation), what
// the person is asked to approve before a change that needs consent, and
// what a plugin states when it asks for consent to a workflow step.

// The arguments every mutating operation takes besides its own, handled by
// the gate rather than the operation.
const (
	// ArgDryRun: true plans the change (reads, preconditions, guardrails)
	// and returns the plan, changing nothing. It works in read-only mode.
	ArgDryRun = "dry_run"
	// ArgConfirmed is the upstream server's consent flag, which the model
	// itself can set. It is accepted for compatibility and has no effect:
	// consent comes from the person, through the client.
	ArgConfirmed = "confirmed"
)

// ArgAccount is the argument every operation that calls AWS takes besides
// its own, handled by the gate: the account to act in, by its 12-digit id
// or its alias as get_account_info lists them. Absent: the server's own
// account. An account the operator did not list is refused before any
// call (AccountNotAllowed).
const ArgAccount = "account"

// Plan is a change as the person approves it: the IAM calls in the order
// they will be made, what they touch, what the guardrails found, and
// whether it can be undone.
type Plan struct {
	Operation string `json:"operation" desc:"the catalogue operation"`
	Summary   string `json:"summary" desc:"the change in one sentence"`
	// Steps are the IAM calls the change makes, in order; a force delete
	// lists each removal before the delete itself.
	Steps []PlanStep `json:"steps" desc:"the IAM calls, in the order they will be made"`
	// Affected are the entities the change creates, alters or removes, as
	// IAM names them ("user/alice", "access-key/AKIA…", a policy ARN).
	Affected []string `json:"affected" desc:"the entities created, changed or removed"`
	// Findings are the guardrails' findings on the change (a widening
	// policy, a risky statement allowed by the operator), in words.
	Findings []string `json:"findings,omitempty" desc:"what the guardrails found"`
	// Reversible says whether the change can be undone by a later call;
	// Undo says how, or why not.
	Reversible bool   `json:"reversible" desc:"whether a later call can undo the change"`
	Undo       string `json:"undo" desc:"how to undo it, or why it cannot be"`
}

// PlanStep is one IAM call of a plan.
type PlanStep struct {
	Action string `json:"action" desc:"the IAM API action, e.g. iam:DeleteAccessKey"`
	Target string `json:"target" desc:"what it acts on, e.g. user/alice"`
	Detail string `json:"detail,omitempty" desc:"what else the person should know about this step"`
}

// DryRunOutput is the result of a mutating operation called with
// dry_run: true.
type DryRunOutput struct {
	DryRun bool `json:"dry_run" desc:"always true: nothing was changed"`
	Plan   Plan `json:"plan"`
	Result
}

// ConsentRequest is the input of the consent host function: the calls a
// plugin's tool is about to make, stated before it makes any of them, so
// that the person is asked once for the whole step. Calls that need no
// consent under the operator's --confirm may be listed too; they are shown
// and need no approval.
type ConsentRequest struct {
	// Summary says, for the person, what the step is for.
	Summary string       `json:"summary"`
	Calls   []IAMRequest `json:"calls"`
}

// ConsentAnswer is what the consent host function returns.
type ConsentAnswer struct {
	// Approved: the person said yes (or nothing listed needed a yes); the
	// host now lets run exactly the listed calls, each once, and asks
	// again for any other change that needs consent.
	Approved bool `json:"approved"`
	// Plans are the dry-run plans of the calls, in order, as shown.
	Plans []Plan `json:"plans,omitempty"`
	// Error says why the person was not asked or said no: Declined,
	// ConsentRequired (nobody can be asked), or an error of a call's
	// plan (a guardrail refusal, a missing entity).
	Error *Error `json:"error,omitempty"`
}

// InputSchema is the JSON Schema of op's arguments as callers see them: a
// mutating operation also takes dry_run and confirmed.
func InputSchema(op Operation) Schema {
	s := SchemaOf(op.Input)
	props, _ := s["properties"].(map[string]any)
	if !op.Offline {
		props[ArgAccount] = Schema{"type": "string", "minLength": 1, "maxLength": 64,
			"description": "the AWS account to act in: its 12-digit id or its alias, one of the accounts get_account_info lists (default: the server's own account)"}
	}
	if !op.Mutates {
		return s
	}
	props[ArgDryRun] = Schema{"type": "boolean",
		"description": "true: check the change (reads, preconditions, guardrails) and return its plan, changing nothing; works even when the server is read-only"}
	props[ArgConfirmed] = Schema{"type": "boolean",
		"description": "accepted for compatibility and ignored: when a change needs consent, the server asks the person through the client"}
	return s
}

// OutputSchema is the JSON Schema of op's result: for a mutating operation,
// either its own output or, after a dry run, a DryRunOutput.
func OutputSchema(op Operation) Schema {
	out := SchemaOf(op.Output)
	if !op.Mutates {
		return out
	}
	dry := SchemaOf(DryRunOutput{})
	return Schema{"type": "object", "anyOf": []any{out, dry}}
}
