package sandbox

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestUserLifecycle(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Alice"), Path: aws.String("/eng/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})
	ok(t, err)
	u := out.User
	if *u.Arn != "arn:aws:iam::123456789012:user/eng/Alice" || !strings.HasPrefix(*u.UserId, "AIDA") || len(*u.UserId) != 21 {
		t.Fatalf("unexpected user %+v", u)
	}
	if u.CreateDate == nil || u.CreateDate.IsZero() {
		t.Fatal("no CreateDate")
	}

	// Names are unique case-insensitively.
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	wantCode(t, err, "EntityAlreadyExists")
	wantStatus(t, err, 409)

	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ALICE")})
	ok(t, err)
	if *got.User.UserName != "Alice" || len(got.User.Tags) != 1 || *got.User.Tags[0].Value != "core" {
		t.Fatalf("GetUser: %+v", got.User)
	}

	_, err = c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("Alice"), NewUserName: aws.String("Alicia"), NewPath: aws.String("/ops/")})
	ok(t, err)
	got, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("Alicia")})
	ok(t, err)
	if *got.User.Path != "/ops/" {
		t.Fatalf("path after update: %s", *got.User.Path)
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("Alice")})
	wantCode(t, err, "NoSuchEntity")
	wantStatus(t, err, 404)

	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("Alicia"), Tags: []types.Tag{{Key: aws.String("TEAM"), Value: aws.String("sec")}, {Key: aws.String("cost"), Value: aws.String("42")}}})
	ok(t, err)
	tags, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("Alicia")})
	ok(t, err)
	if len(tags.Tags) != 2 {
		t.Fatalf("tags: %+v", tags.Tags)
	}
	_, err = c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("Alicia"), TagKeys: []string{"cost"}})
	ok(t, err)

	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("Alicia")})
	ok(t, err)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("Alicia")})
	wantCode(t, err, "NoSuchEntity")
}

func TestUserValidation(t *testing.T) {
	sb := newSandbox(t, Options{})
	cases := []struct {
		name string
		in   iam.CreateUserInput
	}{
		{"bad characters", iam.CreateUserInput{UserName: aws.String("bad name!")}},
		{"too long", iam.CreateUserInput{UserName: aws.String(strings.Repeat("a", 65))}},
		{"path without trailing slash", iam.CreateUserInput{UserName: aws.String("ok"), Path: aws.String("/eng")}},
		{"path with space", iam.CreateUserInput{UserName: aws.String("ok"), Path: aws.String("/a b/")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sb.iam.CreateUser(ctx, &tc.in)
			wantCode(t, err, "ValidationError")
			wantStatus(t, err, 400)
		})
	}
	_, err := sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(strings.Repeat("a", 64))})
	ok(t, err)
}

func TestListUsersPaging(t *testing.T) {
	sb := newSandbox(t, Options{})
	for i := 0; i < 250; i++ {
		path := "/a/"
		if i%2 == 1 {
			path = "/b/"
		}
		_, err := sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user%03d", i)), Path: aws.String(path)})
		ok(t, err)
	}
	// The SDK's own paginator follows Marker/IsTruncated.
	p := iam.NewListUsersPaginator(sb.iam, &iam.ListUsersInput{MaxItems: aws.Int32(40)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		ok(t, err)
		pages++
		if len(out.Users) > 40 {
			t.Fatalf("page of %d > MaxItems", len(out.Users))
		}
		for _, u := range out.Users {
			names = append(names, *u.UserName)
		}
	}
	if len(names) != 250 || pages != 7 {
		t.Fatalf("got %d users in %d pages", len(names), pages)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("not sorted or duplicated at %d: %s %s", i, names[i-1], names[i])
		}
	}
	// Default page size is 100; path prefix filters.
	out, err := sb.iam.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/b/")})
	ok(t, err)
	if len(out.Users) != 100 || !out.IsTruncated {
		t.Fatalf("default page: %d truncated=%v", len(out.Users), out.IsTruncated)
	}
	for _, u := range out.Users {
		if *u.Path != "/b/" {
			t.Fatalf("path filter leaked %s", *u.Path)
		}
	}
	_, err = sb.iam.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1001)})
	wantCode(t, err, "ValidationError")
	_, err = sb.iam.ListUsers(ctx, &iam.ListUsersInput{Marker: aws.String("!!not-a-marker")})
	wantCode(t, err, "InvalidInput")
}

func TestGroupsAndMembership(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	g := must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Devs"), Path: aws.String("/eng/")}))
	if *g.Group.Arn != "arn:aws:iam::123456789012:group/eng/Devs" {
		t.Fatalf("arn %s", *g.Group.Arn)
	}
	_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	wantCode(t, err, "EntityAlreadyExists")

	ok(t, second(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("BOB")})))
	gg := must[*iam.GetGroupOutput](t)(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Devs")}))
	if len(gg.Users) != 1 || *gg.Users[0].UserName != "bob" {
		t.Fatalf("members %+v", gg.Users)
	}
	lg := must[*iam.ListGroupsForUserOutput](t)(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")}))
	if len(lg.Groups) != 1 {
		t.Fatalf("groups for user %+v", lg.Groups)
	}

	// DeleteConflict both ways while the membership stands.
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Devs")})
	wantCode(t, err, "DeleteConflict")
	wantStatus(t, err, 409)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
	wantCode(t, err, "DeleteConflict")

	// A renamed user stays a member.
	ok(t, second(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("bob"), NewUserName: aws.String("robert")})))
	gg = must[*iam.GetGroupOutput](t)(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Devs")}))
	if len(gg.Users) != 1 || *gg.Users[0].UserName != "robert" {
		t.Fatalf("members after rename %+v", gg.Users)
	}

	// Ten groups per user.
	for i := 0; i < 9; i++ {
		name := fmt.Sprintf("g%d", i)
		must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}))
		ok(t, second(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("robert")})))
	}
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g10")}))
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g10"), UserName: aws.String("robert")})
	wantCode(t, err, "LimitExceeded")

	_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("g10"), UserName: aws.String("robert")})
	wantCode(t, err, "NoSuchEntity")
	ok(t, second(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Devs"), UserName: aws.String("robert")})))
	ok(t, second(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Devs")})))

	ok(t, second(c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("g0"), NewGroupName: aws.String("renamed"), NewPath: aws.String("/x/")})))
	lg = must[*iam.ListGroupsForUserOutput](t)(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("robert")}))
	found := false
	for _, g := range lg.Groups {
		if *g.GroupName == "renamed" && *g.Path == "/x/" {
			found = true
		}
	}
	if !found {
		t.Fatalf("renamed group not listed: %+v", lg.Groups)
	}
}

// second drops a result and keeps the error, for calls whose output is empty.
func second[T any](_ T, err error) error { return err }
