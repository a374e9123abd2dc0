package catalogue

import (
	"context"
	"strings"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// A change is planned before it is made (see implementChange): the
// planner reads, checks and runs the guardrails, and lists each IAM call
// it will make as a step with the function that makes it. The plan that a
// dry run returns and the person approves is built from the same steps
// that Apply runs, in the same order, so the two cannot disagree.

// changeBuilder collects a change's plan and its calls.
type changeBuilder struct {
	plan  api.Plan
	calls []func(ctx context.Context) error
}

// newChange starts the plan of a change described by summary ("delete
// user alice and everything it has").
func newChange(summary string) *changeBuilder {
	return &changeBuilder{plan: api.Plan{Summary: summary}}
}

// call adds a step: the IAM API action without its "iam:" prefix
// ("DeleteAccessKey"), what it acts on ("user/alice/access-key/AKIA…"),
// and the function that makes the call.
func (b *changeBuilder) call(action, target string, do func(ctx context.Context) error) *changeBuilder {
	b.plan.Steps = append(b.plan.Steps, api.PlanStep{Action: "iam:" + action, Target: target})
	b.calls = append(b.calls, do)
	return b
}

// detail adds a note to the last step.
func (b *changeBuilder) detail(text string) *changeBuilder {
	if n := len(b.plan.Steps); n > 0 {
		b.plan.Steps[n-1].Detail = text
	}
	return b
}

// affects names the entities the change creates, alters or removes.
func (b *changeBuilder) affects(entities ...string) *changeBuilder {
	b.plan.Affected = append(b.plan.Affected, entities...)
	return b
}

// findings adds what the guardrails found (their warnings).
func (b *changeBuilder) findings(f []string) *changeBuilder {
	b.plan.Findings = append(b.plan.Findings, f...)
	return b
}

// undo marks the change reversible, saying how ("delete_user alice").
func (b *changeBuilder) undo(how string) *changeBuilder {
	b.plan.Reversible, b.plan.Undo = true, how
	return b
}

// final marks the change irreversible, saying why ("the secret of a
// deleted key is gone for good").
func (b *changeBuilder) final(why string) *changeBuilder {
	b.plan.Reversible, b.plan.Undo = false, why
	return b
}

// run makes the calls in order, recording each in done. A failure stops
// it and is returned as the call returned it; done.fail(err) says which
// steps were done before.
func (b *changeBuilder) run(ctx context.Context, done *deletion) error {
	for i, call := range b.calls {
		if err := call(ctx); err != nil {
			return err
		}
		done.did(strings.TrimPrefix(b.plan.Steps[i].Action, "iam:"), b.plan.Steps[i].Target)
	}
	return nil
}

// finish turns the builder into a Planned change whose Apply makes the
// calls, then builds the result with result (which may read the entity
// back; done lists the calls made).
func finish[O any](b *changeBuilder, result func(ctx context.Context, done *deletion) (*O, error)) (*Planned[O], error) {
	return &Planned[O]{Plan: b.plan, Apply: func(ctx context.Context) (*O, error) {
		done := &deletion{}
		if err := b.run(ctx, done); err != nil {
			return nil, done.fail(err)
		}
		return result(ctx, done)
	}}, nil
}

// Entity names in plans, as IAM's ARNs end (without the account).
func userEntity(name string) string            { return "user/" + name }
func groupEntity(name string) string           { return "group/" + name }
func roleEntity(name string) string            { return "role/" + name }
func instanceProfileEntity(name string) string { return "instance-profile/" + name }
