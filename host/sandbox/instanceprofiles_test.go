package sandbox

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func profileCreate(t *testing.T, c *iam.Client, name, path string) *types.InstanceProfile {
	t.Helper()
	return must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Path: aws.String(path)})).InstanceProfile
}

func profileAddRole(c *iam.Client, profile, role string) error {
	return second(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(profile), RoleName: aws.String(role)}))
}

func TestInstanceProfileLifecycle(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	out := must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String("WebServers"), Path: aws.String("/ec2/"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	}))
	p := out.InstanceProfile
	if *p.Arn != "arn:aws:iam::123456789012:instance-profile/ec2/WebServers" || !strings.HasPrefix(*p.InstanceProfileId, "AIPA") ||
		len(*p.InstanceProfileId) != 21 || p.Roles == nil || len(p.Roles) != 0 || len(p.Tags) != 1 || p.CreateDate.IsZero() {
		t.Fatalf("CreateInstanceProfile: %+v", p)
	}
	_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("webservers")})
	roleWantMessage(t, err, "EntityAlreadyExists", "Instance Profile webservers already exists.")
	wantStatus(t, err, 409)

	// The profile shows its role in the list shape, trust document URL-encoded.
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(roleTrustAwkward),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	roleCreate(t, c, "other")
	ok(t, profileAddRole(c, "WEBSERVERS", "WEB"))
	g := must[*iam.GetInstanceProfileOutput](t)(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("webServers")})).InstanceProfile
	if *g.InstanceProfileName != "WebServers" || len(g.Roles) != 1 || *g.Roles[0].RoleName != "web" || len(g.Tags) != 1 {
		t.Fatalf("GetInstanceProfile: %+v", g)
	}
	if r := g.Roles[0]; roleDecode(t, r.AssumeRolePolicyDocument) != roleTrustAwkward || len(r.Tags) != 0 || r.RoleLastUsed != nil ||
		*r.Arn != "arn:aws:iam::123456789012:role/web" {
		t.Fatalf("profile role: %+v", r)
	}

	// One role per profile: another role, or the same one again, is refused.
	roleWantMessage(t, profileAddRole(c, "WebServers", "other"), "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	err = profileAddRole(c, "WebServers", "web")
	wantCode(t, err, "LimitExceeded")
	wantStatus(t, err, 409)

	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("WebServers")})
	roleWantMessage(t, err, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	wantStatus(t, err, 409)

	// Tags.
	ok(t, second(c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("WebServers"),
		Tags: []types.Tag{{Key: aws.String("ENV"), Value: aws.String("dev")}, {Key: aws.String("owner"), Value: aws.String("ops")}}})))
	tags := must[*iam.ListInstanceProfileTagsOutput](t)(c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("WebServers")}))
	if len(tags.Tags) != 2 || *tags.Tags[0].Value != "dev" {
		t.Fatalf("tags: %+v", tags.Tags)
	}
	ok(t, second(c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("WebServers"), TagKeys: []string{"env"}})))
	tags = must[*iam.ListInstanceProfileTagsOutput](t)(c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("WebServers")}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "owner" {
		t.Fatalf("tags after untag: %+v", tags.Tags)
	}

	// Removing: a role that is not in the profile is NoSuchEntity.
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("WebServers"), RoleName: aws.String("other")})
	wantCode(t, err, "NoSuchEntity")
	wantStatus(t, err, 404)
	ok(t, second(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("webservers"), RoleName: aws.String("Web")})))
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("WebServers"), RoleName: aws.String("web")})
	wantCode(t, err, "NoSuchEntity")
	ok(t, profileAddRole(c, "WebServers", "other")) // the slot is free again

	ok(t, second(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("WebServers"), RoleName: aws.String("other")})))
	ok(t, second(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("webservers")})))
	_, err = c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("WebServers")})
	roleWantMessage(t, err, "NoSuchEntity", "Instance Profile WebServers cannot be found.")
}

// Every profile action answers NoSuchEntity for a missing profile, and the
// membership actions for a missing role too.
func TestInstanceProfileNoSuchEntity(t *testing.T) {
	sb := newSandbox(t, Options{})
	c, n := sb.iam, aws.String("ghost")
	roleCreate(t, c, "real")
	profileCreate(t, c, "real", "/")
	existing := aws.String("real")
	errs := map[string]error{
		"GetInstanceProfile":                    second(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: n})),
		"DeleteInstanceProfile":                 second(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: n})),
		"AddRoleToInstanceProfile/profile":      profileAddRole(c, "ghost", "real"),
		"AddRoleToInstanceProfile/role":         profileAddRole(c, "real", "ghost"),
		"RemoveRoleFromInstanceProfile/profile": second(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: n, RoleName: existing})),
		"RemoveRoleFromInstanceProfile/role":    second(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: existing, RoleName: n})),
		"ListInstanceProfilesForRole":           second(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: n})),
		"TagInstanceProfile":                    second(c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: n, Tags: []types.Tag{{Key: n, Value: n}}})),
		"UntagInstanceProfile":                  second(c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: n, TagKeys: []string{"k"}})),
		"ListInstanceProfileTags":               second(c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: n})),
	}
	for name, err := range errs {
		t.Run(name, func(t *testing.T) {
			wantCode(t, err, "NoSuchEntity")
			wantStatus(t, err, 404)
		})
	}
}

func TestInstanceProfileValidation(t *testing.T) {
	sb := newSandbox(t, Options{Quotas: Quotas{InstanceProfiles: 2}})
	c := sb.iam
	create := func(name, path string) error {
		return second(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Path: aws.String(path)}))
	}
	for name, err := range map[string]error{
		"name too long":  create(strings.Repeat("p", 129), "/"),
		"bad characters": create("a/b", "/"),
		"bad path":       create("p", "ec2/"),
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, err, "ValidationError")
			wantStatus(t, err, 400)
		})
	}
	ok(t, create(strings.Repeat("p", 128), "/a/"))
	ok(t, create("second", "/"))
	err := create("third", "/")
	roleWantMessage(t, err, "LimitExceeded", "Cannot exceed quota for InstanceProfilesPerAccount: 2")
	wantStatus(t, err, 409)
}

func TestInstanceProfilePaging(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	roleCreate(t, c, "shared")
	for i := 0; i < 12; i++ {
		path := "/a/"
		if i%3 == 0 {
			path = "/b/"
		}
		name := fmt.Sprintf("profile%02d", i)
		profileCreate(t, c, name, path)
		if i%2 == 0 {
			ok(t, profileAddRole(c, name, "shared"))
		}
	}
	collect := func(next func() ([]types.InstanceProfile, bool)) (names []string, pages int) {
		for more := true; more; {
			var items []types.InstanceProfile
			items, more = next()
			pages++
			for _, p := range items {
				names = append(names, *p.InstanceProfileName)
			}
		}
		return names, pages
	}

	all := iam.NewListInstanceProfilesPaginator(c, &iam.ListInstanceProfilesInput{MaxItems: aws.Int32(5)})
	names, pages := collect(func() ([]types.InstanceProfile, bool) {
		out := must[*iam.ListInstanceProfilesOutput](t)(all.NextPage(ctx))
		return out.InstanceProfiles, all.HasMorePages()
	})
	if len(names) != 12 || pages != 3 || names[0] != "profile00" || names[11] != "profile11" {
		t.Fatalf("ListInstanceProfiles: %d profiles in %d pages: %v", len(names), pages, names)
	}

	// A role may sit in many profiles (one role per profile, not one profile per role).
	forRole := iam.NewListInstanceProfilesForRolePaginator(c, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("SHARED"), MaxItems: aws.Int32(2)})
	names, pages = collect(func() ([]types.InstanceProfile, bool) {
		out := must[*iam.ListInstanceProfilesForRoleOutput](t)(forRole.NextPage(ctx))
		for _, p := range out.InstanceProfiles {
			if len(p.Roles) != 1 || *p.Roles[0].RoleName != "shared" {
				t.Fatalf("profile %s roles %+v", *p.InstanceProfileName, p.Roles)
			}
		}
		return out.InstanceProfiles, forRole.HasMorePages()
	})
	if strings.Join(names, ",") != "profile00,profile02,profile04,profile06,profile08,profile10" || pages != 3 {
		t.Fatalf("ListInstanceProfilesForRole: %v in %d pages", names, pages)
	}

	out := must[*iam.ListInstanceProfilesOutput](t)(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/b/")}))
	if len(out.InstanceProfiles) != 4 || out.IsTruncated {
		t.Fatalf("path prefix: %+v", out.InstanceProfiles)
	}
	for _, p := range out.InstanceProfiles {
		if *p.Path != "/b/" || len(p.Tags) != 0 {
			t.Fatalf("path filter leaked %s", *p.Path)
		}
	}
	_, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{Marker: aws.String("!!not-a-marker")})
	wantCode(t, err, "InvalidInput")
}
