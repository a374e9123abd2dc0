package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// User tags. They are data a workflow keeps on a user (a key rotation's
// state, an owner) and also grants: a policy that tests aws:PrincipalTag
// gives or takes access with them, which is why untagging is destructive.

func init() {
	implement("list_user_tags", listUserTags)
	implementChange("tag_user", tagUser)
	implementChange("untag_user", untagUser)
}

// IAM's tag rules: at most 50 tags per resource (and per request); keys of
// 1-128 and values of 0-256 Unicode letters, digits, spaces and _.:/=+-@;
// keys unique without regard to case; the aws: prefix reserved for AWS.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

const tagCharsText = "letters, digits, spaces and _.:/=+-@"

// checkTagKey says what is wrong with a tag key, or "".
func checkTagKey(k string) string {
	switch n := utf8.RuneCountInString(k); {
	case n == 0:
		return "a tag key must not be empty"
	case n > maxTagKeyLen:
		return "tag key " + quote(k) + " is longer than the 128 characters IAM allows"
	case !tagChars.MatchString(k):
		return "tag key " + quote(k) + " may contain only " + tagCharsText
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return "tag key " + quote(k) + " starts with aws:, which is reserved for AWS"
	}
	return ""
}

func quote(s string) string { return `"` + s + `"` }

func listUserTags(ctx context.Context, c *Catalogue, in *api.UserPageInput) (*api.UserTagsOutput, error) {
	out, err := c.clients.IAM.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
	if err != nil {
		return nil, err
	}
	tags := tagMap(out.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	return &api.UserTagsOutput{Tags: tags, Page: page(out.IsTruncated, out.Marker)}, nil
}

// tagUser checks every tag before calling IAM, so that a bad tag is named
// and none is written: IAM's own refusal names a position in its request
// (tags.3.member.key), which the caller never saw. The plan reads the
// user's tags, so that its undo names the values it overwrites.
func tagUser(ctx context.Context, c *Catalogue, in *api.TagUserInput) (*Planned[api.Result], error) {
	keys, list, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	current, err := c.userTags(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	// IAM matches keys without regard to case and keeps the spelling it
	// has: tagging "Team" over "team" sets the value of "team".
	var added []string
	previous := map[string]string{}
	for _, k := range keys {
		if had, ok := findKey(current, k); !ok {
			added = append(added, k)
		} else if current[had] != in.Tags[k] {
			previous[had] = current[had]
		}
	}
	if len(current)+len(added) > maxTags {
		return nil, refuseAtPlan(api.LimitExceeded, "user %s has %d tags and this adds %d new keys, more than the %d IAM allows per user. Nothing was tagged; remove tags first with untag_user", in.UserName, len(current), len(added), maxTags)
	}
	b := newChange("tag IAM user "+in.UserName+" with "+strings.Join(keys, ", ")+"; policies that test aws:PrincipalTag see the new values").
		call("TagUser", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(in.UserName), Tags: list})
			return err
		}).
		detail("sets " + tagsJSON(in.Tags)).
		affects(userEntity(in.UserName))
	var undo []string
	if len(added) > 0 {
		undo = append(undo, "untag_user "+in.UserName+" with tag_keys "+tagsJSON(added))
	}
	if len(previous) > 0 {
		undo = append(undo, "tag_user "+in.UserName+" with the values they have now, "+tagsJSON(previous))
	}
	if len(undo) == 0 {
		b.detail("sets " + tagsJSON(in.Tags) + "; the user has these tags with these values already: nothing will change")
		b.undo("nothing to undo")
	} else {
		b.undo(strings.Join(undo, ", then "))
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "tagged user " + in.UserName + " with " + strings.Join(keys, ", ") + " (existing tags with these keys were overwritten)"}, nil
	})
}

// checkTags checks tag_user's tags against IAM's rules and returns their
// keys, sorted, and the tags as IAM takes them.
func checkTags(tags map[string]string) ([]string, []types.Tag, error) {
	if len(tags) == 0 {
		return nil, nil, api.Errorf(api.InvalidInput, "argument \"tags\" is required: give at least one key and value, e.g. {\"team\":\"platform\"}")
	}
	if len(tags) > maxTags {
		return nil, nil, api.Errorf(api.InvalidInput, "argument \"tags\" has %d tags; IAM takes at most %d per user", len(tags), maxTags)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first problem named is the same every time
	seen := map[string]string{}
	list := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		v := tags[k]
		if msg := checkTagKey(k); msg != "" {
			return nil, nil, api.Errorf(api.InvalidInput, "argument \"tags\": %s; nothing was tagged", msg)
		}
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return nil, nil, api.Errorf(api.InvalidInput, "argument \"tags\": the value of tag %s is longer than the 256 characters IAM allows; nothing was tagged", quote(k))
		}
		if !tagChars.MatchString(v) {
			return nil, nil, api.Errorf(api.InvalidInput, "argument \"tags\": the value of tag %s may contain only %s; nothing was tagged", quote(k), tagCharsText)
		}
		if other, dup := seen[strings.ToLower(k)]; dup {
			return nil, nil, api.Errorf(api.InvalidInput, "argument \"tags\" has both %s and %s: IAM tag keys ignore case, so they are the same tag; keep one", quote(other), quote(k))
		}
		seen[strings.ToLower(k)] = k
		list = append(list, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return keys, list, nil
}

func untagUser(ctx context.Context, c *Catalogue, in *api.UntagUserInput) (*Planned[api.Result], error) {
	if len(in.TagKeys) > maxTags {
		return nil, api.Errorf(api.InvalidInput, "argument \"tag_keys\" has %d keys; IAM takes at most %d per request", len(in.TagKeys), maxTags)
	}
	for _, k := range in.TagKeys {
		// aws: keys cannot be set, but asking to remove one is harmless, so
		// only length and characters are checked here.
		if n := utf8.RuneCountInString(k); n == 0 || n > maxTagKeyLen || !tagChars.MatchString(k) {
			return nil, api.Errorf(api.InvalidInput, "argument \"tag_keys\" contains %s: a tag key is 1-128 %s; nothing was removed", quote(k), tagCharsText)
		}
	}
	current, err := c.userTags(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	removed := map[string]string{}
	var absent []string
	for _, k := range in.TagKeys {
		if had, ok := findKey(current, k); ok {
			removed[had] = current[had]
		} else {
			absent = append(absent, k)
		}
	}
	b := newChange("remove tags "+strings.Join(in.TagKeys, ", ")+" from IAM user "+in.UserName+"; access that policies grant through them (aws:PrincipalTag) goes with them").
		call("UntagUser", userEntity(in.UserName), func(ctx context.Context) error {
			_, err := c.clients.IAM.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String(in.UserName), TagKeys: in.TagKeys})
			return err
		}).
		affects(userEntity(in.UserName))
	switch {
	case len(removed) == 0:
		b.detail("the user has none of these tags: nothing will change")
		b.undo("nothing to undo")
	case len(absent) > 0:
		b.detail("removes " + tagsJSON(removed) + "; the user has no tag " + strings.Join(absent, ", ") + ", which IAM ignores")
		b.undo("tag_user " + in.UserName + " with " + tagsJSON(removed))
	default:
		b.detail("removes " + tagsJSON(removed))
		b.undo("tag_user " + in.UserName + " with " + tagsJSON(removed))
	}
	return finish(b, func(context.Context, *deletion) (*api.Result, error) {
		return &api.Result{Message: "removed tags " + strings.Join(in.TagKeys, ", ") + " from user " + in.UserName + " (keys it did not have are ignored, as IAM ignores them)"}, nil
	})
}

// userTags reads all of a user's tags (all pages), which checks that the
// user exists.
func (c *Catalogue) userTags(ctx context.Context, user string) (map[string]string, error) {
	tags, err := allPages(ctx, iam.NewListUserTagsPaginator(c.clients.IAM, &iam.ListUserTagsInput{UserName: aws.String(user)}),
		func(o *iam.ListUserTagsOutput) []types.Tag { return o.Tags })
	if err != nil {
		return nil, err
	}
	if m := tagMap(tags); m != nil {
		return m, nil
	}
	return map[string]string{}, nil
}

// findKey finds key among tags as IAM does, without regard to case, and
// returns the key as the user has it.
func findKey(tags map[string]string, key string) (string, bool) {
	if _, ok := tags[key]; ok {
		return key, true
	}
	for k := range tags {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// tagsJSON renders tags (a map, or a list of keys) for plans, as JSON so
// that a value with spaces or commas reads unambiguously; map keys sorted.
func tagsJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
