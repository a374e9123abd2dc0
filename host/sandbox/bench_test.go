package sandbox

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// bigQuotas lets benchmark accounts exceed IAM's default quotas.
var bigQuotas = Quotas{Users: 100000, Roles: 100000, Policies: 100000}

// populate fills an account through the handlers (not HTTP, which would
// only slow the set-up): users, roles with a trust policy, and customer
// managed policies.
func populate(tb testing.TB, s *Server, users, roles, policies int) {
	tb.Helper()
	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`
	run := func(action string, kv ...string) {
		form := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		if _, err := s.do(action, form); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 0; i < users; i++ {
		run("CreateUser", "UserName", fmt.Sprintf("user-%05d", i), "Path", fmt.Sprintf("/team%d/", i%20))
	}
	for i := 0; i < roles; i++ {
		run("CreateRole", "RoleName", fmt.Sprintf("role-%05d", i), "AssumeRolePolicyDocument", trust)
	}
	for i := 0; i < policies; i++ {
		run("CreatePolicy", "PolicyName", fmt.Sprintf("policy-%05d", i), "PolicyDocument", doc)
	}
}

// benchClient serves a populated sandbox on loopback and returns an SDK
// client for it: the numbers include the SDK's signing and XML decoding and
// a real HTTP round trip, as a user of the sandbox pays them.
func benchClient(b *testing.B, users int) *iam.Client {
	s, err := New(Options{Quotas: bigQuotas})
	if err != nil {
		b.Fatal(err)
	}
	populate(b, s, users, 0, 0)
	hs := httptest.NewServer(s)
	b.Cleanup(hs.Close)
	return iamClient(hs.URL, testKeyID, 1)
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkGetUser: one client, one request at a time, 10,000 users.
func BenchmarkGetUser(b *testing.B) {
	c := benchClient(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(fmt.Sprintf("user-%05d", i%10000))}); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkGetUserParallel: GOMAXPROCS clients at once (reads share the lock).
func BenchmarkGetUserParallel(b *testing.B) {
	c := benchClient(b, 10000)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(fmt.Sprintf("user-%05d", i%10000))}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

// BenchmarkListUsers: pages of 100 out of 10,000 users, walking the whole
// list with markers.
func BenchmarkListUsers(b *testing.B) {
	c := benchClient(b, 10000)
	var marker *string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(100), Marker: marker})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Users) == 0 {
			b.Fatal("empty page")
		}
		marker = out.Marker
	}
	reportRate(b)
}

// BenchmarkAccountMemory reports the heap an account of 10,000 users, 2,000
// roles and 500 policies holds.
func BenchmarkAccountMemory(b *testing.B) {
	var total uint64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := New(Options{Quotas: bigQuotas})
		if err != nil {
			b.Fatal(err)
		}
		populate(b, s, 10000, 2000, 500)
		runtime.GC()
		runtime.ReadMemStats(&after)
		total += after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(total)/float64(b.N)/(1<<20), "MiB/account")
}

// BenchmarkGetUserSignedByKey: reads signed by a user's own key, which
// record its last use, on 10,000 users, without and with a state file: what
// saving reads' bookkeeping (at most once a second, persist.go) costs a
// read-heavy client.
func BenchmarkGetUserSignedByKey(b *testing.B) {
	for _, withState := range []bool{false, true} {
		b.Run(fmt.Sprintf("state=%v", withState), func(b *testing.B) {
			opts := Options{Quotas: bigQuotas}
			if withState {
				opts.StateFile = filepath.Join(b.TempDir(), "s.json")
			}
			s, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			populate(b, s, 10000, 0, 0)
			if _, err := s.do("CreateAccessKey", url.Values{"UserName": {"user-00000"}}); err != nil {
				b.Fatal(err)
			}
			key := s.acct.Users["user-00000"].AccessKeys[0].ID
			hs := httptest.NewServer(s)
			b.Cleanup(hs.Close)
			c := iamClient(hs.URL, key, 1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			reportRate(b)
		})
	}
}
