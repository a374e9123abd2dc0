package sandbox

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestUserTagRules checks IAM's rules on tags through TagUser, UntagUser
// and ListUserTags: lengths counted in characters, IAM's character set,
// keys unique without regard to case, 50 tags, paging.
func TestUserTagRules(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ana")}))
	tag := func(tags ...types.Tag) error {
		_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("ana"), Tags: tags})
		return err
	}
	kv := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

	// 128 characters of a key and 256 of a value are allowed even when
	// they take more bytes; Unicode letters, spaces and _.:/=+-@ too.
	ok(t, tag(kv(strings.Repeat("é", 128), strings.Repeat("ü", 256)), kv("team name:a/b=c+d-e@f_g.h", "Équipe 1")))
	err := tag(kv(strings.Repeat("k", 129), "v"))
	wantCode(t, err, "ValidationError")
	if !strings.Contains(err.Error(), "tags.1.member.key") {
		t.Errorf("the error does not name the tag's position as IAM does: %v", err)
	}
	wantCode(t, tag(kv("ok", "v"), kv("k", strings.Repeat("v", 257))), "ValidationError")
	wantCode(t, tag(kv("bad*key", "v")), "ValidationError")
	wantCode(t, tag(kv("k", "bad#value")), "ValidationError")
	wantCode(t, tag(kv("Team", "a"), kv("team", "b")), "InvalidInput")

	// 50 tags per user in all.
	var many []types.Tag
	for i := 0; i < 48; i++ {
		many = append(many, kv(fmt.Sprintf("k%02d", i), "v"))
	}
	ok(t, tag(many...))
	wantCode(t, tag(kv("one-too-many", "v")), "LimitExceeded")
	page := must[*iam.ListUserTagsOutput](t)(c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("ana"), MaxItems: aws.Int32(20)}))
	if len(page.Tags) != 20 || !page.IsTruncated {
		t.Fatalf("first page: %d tags, truncated %v", len(page.Tags), page.IsTruncated)
	}

	untag := func(keys ...string) error {
		_, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("ana"), TagKeys: keys})
		return err
	}
	var fifty []string
	for i := 0; i < 51; i++ {
		fifty = append(fifty, fmt.Sprintf("k%02d", i))
	}
	wantCode(t, untag(fifty...), "ValidationError")
	wantCode(t, untag("bad*key"), "ValidationError")
	ok(t, untag(fifty[:48]...))
	ok(t, untag("never-set")) // unknown keys are ignored, as IAM ignores them
	left := must[*iam.ListUserTagsOutput](t)(c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("ana")}))
	if len(left.Tags) != 2 {
		t.Fatalf("after untagging: %+v", left.Tags)
	}
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("nobody"), Tags: []types.Tag{kv("k", "v")}})
	wantCode(t, err, "NoSuchEntity")
}
