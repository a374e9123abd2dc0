package iam

// TEMPORARY, removed before this change lands: the old shape of mutating
// implementations, so that the package builds while each family file moves
// to implementChange.

import (
	"context"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func implementLegacy[I, O any](name string, fn func(ctx context.Context, c *Catalogue, in *I) (*O, error)) {
	implementChange(name, func(_ context.Context, c *Catalogue, in *I) (*Planned[O], error) {
		return &Planned[O]{Plan: api.Plan{Summary: "LEGACY " + name}, Apply: func(ctx context.Context) (*O, error) { return fn(ctx, c, in) }}, nil
	})
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
