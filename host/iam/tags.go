package iam

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// User tags. They are data a workflow keeps on a user (a key rotation's
// state, an owner) and also grants: a policy that tests aws:PrincipalTag
// gives or takes access with them, which is why untagging is destructive.

func init() {
	implement("list_user_tags", listUserTags)
	implementLegacy("tag_user", tagUser)
	implementLegacy("untag_user", untagUser)
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
	out, err := c.clients.IAM.ListUserTags(ctx, &awsiam.ListUserTagsInput{UserName: aws.String(in.UserName), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker)})
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
// (tags.3.member.key), which the caller never saw.
func tagUser(ctx context.Context, c *Catalogue, in *api.TagUserInput) (*api.Result, error) {
	if len(in.Tags) == 0 {
		return nil, api.Errorf(api.InvalidInput, "argument \"tags\" is required: give at least one key and value, e.g. {\"team\":\"platform\"}")
	}
	if len(in.Tags) > maxTags {
		return nil, api.Errorf(api.InvalidInput, "argument \"tags\" has %d tags; IAM takes at most %d per user", len(in.Tags), maxTags)
	}
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first problem named is the same every time
	seen := map[string]string{}
	list := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		v := in.Tags[k]
		if msg := checkTagKey(k); msg != "" {
			return nil, api.Errorf(api.InvalidInput, "argument \"tags\": %s; nothing was tagged", msg)
		}
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return nil, api.Errorf(api.InvalidInput, "argument \"tags\": the value of tag %s is longer than the 256 characters IAM allows; nothing was tagged", quote(k))
		}
		if !tagChars.MatchString(v) {
			return nil, api.Errorf(api.InvalidInput, "argument \"tags\": the value of tag %s may contain only %s; nothing was tagged", quote(k), tagCharsText)
		}
		if other, dup := seen[strings.ToLower(k)]; dup {
			return nil, api.Errorf(api.InvalidInput, "argument \"tags\" has both %s and %s: IAM tag keys ignore case, so they are the same tag; keep one", quote(other), quote(k))
		}
		seen[strings.ToLower(k)] = k
		list = append(list, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := c.clients.IAM.TagUser(ctx, &awsiam.TagUserInput{UserName: aws.String(in.UserName), Tags: list}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "tagged user " + in.UserName + " with " + strings.Join(keys, ", ") + " (existing tags with these keys were overwritten)"}, nil
}

func untagUser(ctx context.Context, c *Catalogue, in *api.UntagUserInput) (*api.Result, error) {
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
	if _, err := c.clients.IAM.UntagUser(ctx, &awsiam.UntagUserInput{UserName: aws.String(in.UserName), TagKeys: in.TagKeys}); err != nil {
		return nil, err
	}
	return &api.Result{Message: "removed tags " + strings.Join(in.TagKeys, ", ") + " from user " + in.UserName + " (keys it did not have are ignored, as IAM ignores them)"}, nil
}
