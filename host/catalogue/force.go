package catalogue

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Paging and force deletion, shared by every family.

// deletion records the steps of a force delete, so that the result — or the
// error, if a step fails half-way — says exactly what was already removed.
type deletion struct {
	steps []api.DeleteStep
}

func (d *deletion) did(action, target string) {
	d.steps = append(d.steps, api.DeleteStep{Action: action, Target: target})
}

// fail wraps a step's failure with what was done before it.
func (d *deletion) fail(err error) error {
	ae := asAPIError(err)
	if len(d.steps) == 0 {
		return ae
	}
	done := make([]string, len(d.steps))
	for i, s := range d.steps {
		done[i] = s.Action + " " + s.Target
	}
	return api.Errorf(ae.Code, "%s (already done before this failed: %s)", ae.Message, strings.Join(done, "; "))
}

func (d *deletion) output(name, what string) *api.DeleteOutput {
	steps := d.steps
	if steps == nil {
		steps = []api.DeleteStep{}
	}
	msg := "deleted " + what + " " + name
	if len(steps) > 0 {
		msg += fmt.Sprintf(" after %d clean-up steps", len(steps))
	}
	return &api.DeleteOutput{Deleted: name, Steps: steps, Result: api.Result{Message: msg}}
}

// pager is the shape every SDK v2 paginator has, so that one function can
// drain any of them.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*iam.Options)) (O, error)
}

// allPages reads every page of a list and returns its items (never nil).
func allPages[O, T any](ctx context.Context, p pager[O], items func(O) []T) ([]T, error) {
	out := []T{}
	for p.HasMorePages() {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, items(o)...)
	}
	return out, nil
}

// deleteChange plans a delete of kind name (user, group, role) whose
// clean-up calls, with force, b already holds — one per item the planner
// found, across all pages, in a working order — and adds the delete itself
// last. Without force, IAM's DeleteConflict becomes a message that names
// the blocker, says nothing changed and offers force; clears says what
// force removes. Everything found is listed as affected; a delete is never
// undone.
func deleteChange(b *changeBuilder, force bool, kind, name, clears, action string, del func(ctx context.Context) error) (*Planned[api.DeleteOutput], error) {
	b.call(action, kind+"/"+name, del)
	b.affects(kind + "/" + name)
	if len(b.plan.Undo) == 0 {
		b.final("a deleted " + kind + " cannot be restored: recreating one of the same name gives it a new id, and policies that named the old one by id no longer apply")
	}
	return &Planned[api.DeleteOutput]{Plan: b.plan, Apply: func(ctx context.Context) (*api.DeleteOutput, error) {
		d := &deletion{}
		if err := b.run(ctx, d); err != nil {
			if !force && len(d.steps) == 0 && isCode(err, "DeleteConflict") {
				return nil, api.Errorf(api.DeleteConflict, "IAM refused to delete %s %s: %s Nothing was changed. Remove those first, or call delete_%s again with force=true to remove %s.",
					kind, name, iamMessage(err), strings.ReplaceAll(kind, " ", "_"), clears)
			}
			return nil, d.fail(err)
		}
		d.steps = d.steps[:len(d.steps)-1] // the delete itself is not a clean-up step
		return d.output(name, kind), nil
	}}, nil
}

// listAll reads every page of a list before anything is removed —
// removing while paging would shift later pages under IAM's marker and
// skip some — and adds one call per item to b: action on the item's
// target, made by remove.
func listAll[O any](ctx context.Context, b *changeBuilder, action string, p pager[O], names func(O) []string, target func(name string) string, remove func(ctx context.Context, name string) error) error {
	list, err := allPages(ctx, p, names)
	if err != nil {
		return err
	}
	removeEach(b, action, list, target, remove)
	return nil
}

// removeEach adds one call per name to b: action on the name's target,
// made by remove. The names are all read first (see listAll).
func removeEach(b *changeBuilder, action string, names []string, target func(name string) string, remove func(ctx context.Context, name string) error) {
	for _, n := range names {
		b.call(action, target(n), func(ctx context.Context) error { return remove(ctx, n) })
		b.affects(target(n))
	}
}

// iamMessage is IAM's own sentence from an AWS error, without the
// catalogue's generic hint, for messages that give a more precise one.
func iamMessage(err error) string {
	var se smithy.APIError
	if errors.As(err, &se) {
		return se.ErrorMessage()
	}
	return asAPIError(err).Message
}

// isCode reports whether err is an AWS API error with the given code.
func isCode(err error, code string) bool {
	var se smithy.APIError
	return errors.As(err, &se) && se.ErrorCode() == code
}
