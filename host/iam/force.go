package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
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
	NextPage(ctx context.Context, optFns ...func(*awsiam.Options)) (O, error)
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

// removeAll collects every name first — removing while paging would shift
// later pages under IAM's marker and skip some — then removes each,
// recording the step as action on the name.
func removeAll[O any](ctx context.Context, d *deletion, action string, p pager[O], names func(O) []string, remove func(name string) error) error {
	list, err := allPages(ctx, p, names)
	if err != nil {
		return err
	}
	for _, n := range list {
		if err := remove(n); err != nil {
			return err
		}
		d.did(action, n)
	}
	return nil
}

// forceDelete is the shape of delete_group and delete_role (delete_user's,
// generalised): with force, clear what IAM would refuse the delete over,
// recording each step; without it, IAM's DeleteConflict becomes a message
// that names the blocker, says nothing changed and offers force.
func forceDelete(force bool, kind, name, clears string, clear func(d *deletion) error, del func() error) (*api.DeleteOutput, error) {
	d := &deletion{}
	if force {
		if err := clear(d); err != nil {
			return nil, d.fail(err)
		}
	}
	if err := del(); err != nil {
		if !force && isCode(err, "DeleteConflict") {
			return nil, api.Errorf(api.DeleteConflict, "IAM refused to delete %s %s: %s Nothing was changed. Remove those first, or call delete_%s again with force=true to remove %s.", kind, name, iamMessage(err), kind, clears)
		}
		return nil, d.fail(err)
	}
	return d.output(name, kind), nil
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
