package catalogue

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func TestUserTags(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	if raw := rawCall(t, c, "list_user_tags", `{"user_name":"sam.lee"}`); raw != `{"tags":{},"is_truncated":false}` {
		t.Fatalf("no tags yet: %s", raw)
	}
	res := call[api.Result](t, c, "tag_user", `{"user_name":"sam.lee","tags":{"team":"platform","rotation:AKIAEXAMPLE":"step=create","owner":"Zoë Müller"}}`)
	if !strings.Contains(res.Message, "owner, rotation:AKIAEXAMPLE, team") {
		t.Fatalf("tag_user: %+v", res)
	}
	call[api.Result](t, c, "tag_user", `{"user_name":"sam.lee","tags":{"team":"data","empty":""}}`)
	got := call[api.UserTagsOutput](t, c, "list_user_tags", `{"user_name":"sam.lee"}`)
	want := map[string]string{"team": "data", "rotation:AKIAEXAMPLE": "step=create", "owner": "Zoë Müller", "empty": ""}
	if fmt.Sprint(got.Tags) != fmt.Sprint(want) || got.IsTruncated {
		t.Fatalf("tags: %v", got.Tags)
	}
	// Tags show on the user too.
	if u := call[api.GetUserOutput](t, c, "get_user", `{"user_name":"sam.lee"}`); u.User.Tags["team"] != "data" {
		t.Fatalf("get_user tags: %v", u.User.Tags)
	}
	page := call[api.UserTagsOutput](t, c, "list_user_tags", `{"user_name":"sam.lee","max_items":3}`)
	if len(page.Tags) != 3 || !page.IsTruncated || page.Marker == "" {
		t.Fatalf("page: %+v", page)
	}
	rest := call[api.UserTagsOutput](t, c, "list_user_tags", `{"user_name":"sam.lee","marker":"`+page.Marker+`"}`)
	if len(rest.Tags) != 1 || rest.IsTruncated {
		t.Fatalf("rest: %+v", rest)
	}

	call[api.Result](t, c, "untag_user", `{"user_name":"sam.lee","tag_keys":["team","never-set"]}`)
	if got := call[api.UserTagsOutput](t, c, "list_user_tags", `{"user_name":"sam.lee"}`); len(got.Tags) != 3 || got.Tags["team"] != "" {
		t.Fatalf("after untag: %v", got.Tags)
	}
}

func TestUserTagsErrors(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	fails := func(args, mention string) {
		t.Helper()
		if msg := callFails(t, c, "tag_user", args, api.InvalidInput); !strings.Contains(msg, mention) {
			t.Fatalf("tag_user %s: %s lacks %q", args, msg, mention)
		}
	}
	fails(`{"user_name":"sam.lee"}`, `"tags" is required`)
	fails(`{"user_name":"sam.lee","tags":{}}`, `"tags" is required`)
	fails(`{"user_name":"sam.lee","tags":{"`+strings.Repeat("k", 129)+`":"v"}}`, "128 characters")
	fails(`{"user_name":"sam.lee","tags":{"team":"`+strings.Repeat("v", 257)+`"}}`, `tag "team" is longer than the 256`)
	fails(`{"user_name":"sam.lee","tags":{"bad*key":"v"}}`, `"bad*key" may contain only`)
	fails(`{"user_name":"sam.lee","tags":{"team":"a#b"}}`, `value of tag "team" may contain only`)
	fails(`{"user_name":"sam.lee","tags":{"aws:owner":"me"}}`, "reserved for AWS")
	fails(`{"user_name":"sam.lee","tags":{"Team":"a","team":"b"}}`, `"Team" and "team"`)
	fails(`{"user_name":"sam.lee","tags":{"":"v"}}`, "must not be empty")
	many := map[string]string{}
	for i := 0; i < 51; i++ {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	b := fmt.Sprintf(`{"user_name":"sam.lee","tags":%s}`, mustJSON(t, many))
	fails(b, "at most 50")
	callFails(t, c, "tag_user", `{"user_name":"sam.lee","tags":{"team":1}}`, api.InvalidInput)
	callFails(t, c, "tag_user", `{"user_name":"nobody","tags":{"team":"x"}}`, api.NoSuchEntity)
	callFails(t, c, "tag_user", `{"user_name":"bad name","tags":{"team":"x"}}`, api.InvalidInput)
	// Nothing was written by any refused call.
	if got := call[api.UserTagsOutput](t, c, "list_user_tags", `{"user_name":"sam.lee"}`); len(got.Tags) != 0 {
		t.Fatalf("a refused tag_user wrote %v", got.Tags)
	}

	// 50 per user in all: IAM refuses the 51st across calls.
	fifty := map[string]string{}
	for i := 0; i < 50; i++ {
		fifty[fmt.Sprintf("k%d", i)] = "v"
	}
	call[api.Result](t, c, "tag_user", fmt.Sprintf(`{"user_name":"sam.lee","tags":%s}`, mustJSON(t, fifty)))
	callFails(t, c, "tag_user", `{"user_name":"sam.lee","tags":{"one-more":"v"}}`, api.LimitExceeded)

	callFails(t, c, "untag_user", `{"user_name":"sam.lee","tag_keys":[]}`, api.InvalidInput)
	callFails(t, c, "untag_user", `{"user_name":"sam.lee"}`, api.InvalidInput)
	if msg := callFails(t, c, "untag_user", `{"user_name":"sam.lee","tag_keys":["bad*key"]}`, api.InvalidInput); !strings.Contains(msg, "bad*key") {
		t.Fatalf("bad key: %s", msg)
	}
	keys := make([]string, 51)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	callFails(t, c, "untag_user", fmt.Sprintf(`{"user_name":"sam.lee","tag_keys":%s}`, mustJSON(t, keys)), api.InvalidInput)
	callFails(t, c, "untag_user", `{"user_name":"nobody","tag_keys":["k1"]}`, api.NoSuchEntity)
	callFails(t, c, "list_user_tags", `{"user_name":"nobody"}`, api.NoSuchEntity)
	callFails(t, c, "list_user_tags", `{}`, api.InvalidInput)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
