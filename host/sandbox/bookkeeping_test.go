package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// stateWithKey writes a state file holding user "dana" with one access key,
// and returns its path and the key's id.
func stateWithKey(t *testing.T, clk *acctClock) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.json")
	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dana")}))
	return path, credsKey(t, sb, "dana")
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	ok(t, err)
	return b
}

// TestReadUseSurvivesRestart: a key's last use from read-only requests, and
// its user's service use, are in the state file after the reads, with no
// change of the account to carry them: a sandbox started from the file
// reports them. (Before, they waited for the next change and a restart
// lost them.)
func TestReadUseSurvivesRestart(t *testing.T) {
	clk := newAcctClock()
	path, key := stateWithKey(t, clk)

	// A server started from the file has not written it yet: its first
	// read with something to record writes it at once.
	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	clk.advance(time.Hour)
	usedAt := clk.now()
	must[*iam.GetUserOutput](t)(sb.asUser(key).GetUser(ctx, &iam.GetUserInput{}))

	again := newSandbox(t, Options{StateFile: path, Now: clk.now})
	l := lastUseOf(t, again.iam, key)
	if l.LastUsedDate == nil || !l.LastUsedDate.Equal(usedAt) || *l.ServiceName != "iam" || *l.Region != "us-east-1" {
		t.Fatalf("last use after a restart: %v %s %s, want %v iam us-east-1", l.LastUsedDate, aws.ToString(l.ServiceName), aws.ToString(l.Region), usedAt)
	}
	id := again.srv.acct.Users["dana"].ID
	if u := again.srv.acct.ServiceUse[id]["iam"]; u == nil || !u.When.Equal(usedAt) || u.Actions["GetUser"] == nil {
		t.Fatalf("service use after a restart: %+v", u)
	}
}

// TestReadUseCoalescedAndClosed: within the save interval, reads do not
// write the file each; Close writes what they recorded, the last of them
// included, and a restart reports it. Close again, with nothing new, does
// not write.
func TestReadUseCoalescedAndClosed(t *testing.T) {
	clk := newAcctClock()
	path, key := stateWithKey(t, clk)
	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	// An hour: no machine is slow enough for it to pass during the test,
	// so only the first read writes.
	sb.srv.saveEvery.Store(int64(time.Hour))
	dana := sb.asUser(key)

	must[*iam.GetUserOutput](t)(dana.GetUser(ctx, &iam.GetUserInput{}))
	first := readBytes(t, path)
	for range 20 {
		clk.advance(time.Minute)
		must[*iam.ListUsersOutput](t)(dana.ListUsers(ctx, &iam.ListUsersInput{}))
	}
	clk.advance(time.Minute)
	usedAt := clk.now()
	out := must[*sts.GetCallerIdentityOutput](t)(stsClient(sb.url, key).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(out.Arn) != "arn:aws:iam::123456789012:user/dana" {
		t.Fatalf("caller %s", aws.ToString(out.Arn))
	}
	if !bytes.Equal(first, readBytes(t, path)) {
		t.Fatal("reads within the save interval wrote the state file each")
	}
	ok(t, sb.srv.Close())
	closed := readBytes(t, path)
	if bytes.Equal(first, closed) {
		t.Fatal("Close did not write what the reads recorded")
	}
	ok(t, sb.srv.Close())
	if !bytes.Equal(closed, readBytes(t, path)) {
		t.Fatal("a second Close with nothing new wrote the file")
	}

	again := newSandbox(t, Options{StateFile: path, Now: clk.now})
	if l := lastUseOf(t, again.iam, key); l.LastUsedDate == nil || !l.LastUsedDate.Equal(usedAt) || *l.ServiceName != "sts" {
		t.Fatalf("last use after Close and restart: %v %s, want %v sts", l.LastUsedDate, aws.ToString(l.ServiceName), usedAt)
	}
	if u := again.srv.acct.ServiceUse[again.srv.acct.Users["dana"].ID]; u["iam"] == nil || u["sts"] == nil || u["iam"].Actions["ListUsers"] == nil {
		t.Fatalf("service use after Close and restart: %+v", u)
	}

	// The server goes on after Close, saving as before.
	sb.srv.saveEvery.Store(0)
	clk.advance(time.Minute)
	must[*iam.GetUserOutput](t)(dana.GetUser(ctx, &iam.GetUserInput{}))
	third := newSandbox(t, Options{StateFile: path, Now: clk.now})
	if l := lastUseOf(t, third.iam, key); !l.LastUsedDate.Equal(clk.now()) {
		t.Fatalf("a read after Close was not saved: %v", l.LastUsedDate)
	}
}

// TestCredentialReportSurvivesRestart: a generated report is kept over a
// restart (after Close, as a program that owns the sandbox stops), with its
// generation time and content, as IAM keeps it for four hours; after those
// it is ReportExpired, restart or not.
func TestCredentialReportSurvivesRestart(t *testing.T) {
	clk := newAcctClock()
	path, _ := stateWithKey(t, clk)
	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	clk.advance(time.Hour)
	generated := clk.now()
	must[*iam.GenerateCredentialReportOutput](t)(sb.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	want, _, _ := credentialReport(t, sb.iam)
	ok(t, sb.srv.Close())

	clk.advance(3*time.Hour + 59*time.Minute)
	again := newSandbox(t, Options{StateFile: path, Now: clk.now})
	got, byUser, _ := credentialReport(t, again.iam)
	if !got.GeneratedTime.Equal(generated) || !bytes.Equal(got.Content, want.Content) || byUser["dana"] == nil {
		t.Fatalf("report after a restart: generated %v (want %v), same content %v", got.GeneratedTime, generated, bytes.Equal(got.Content, want.Content))
	}
	// Still fresh: generating again keeps it (COMPLETE, not STARTED).
	if g := must[*iam.GenerateCredentialReportOutput](t)(again.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})); g.State != "COMPLETE" {
		t.Fatalf("generate on a fresh report after a restart: %s", g.State)
	}

	clk.advance(time.Minute)
	third := newSandbox(t, Options{StateFile: path, Now: clk.now})
	_, err := third.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	wantCode(t, err, "ReportExpired")
	wantStatus(t, err, 410)
}

// TestDerivedDataSavedWithNextWrite: generated reports and jobs are not
// worth a write of their own (one more Generate call rebuilds them): reads
// that make only them leave the file as it was, even with every read
// allowed to write — so the server's own read-only session writes nothing
// before Close —; the next write of the file carries them, be it a read
// that records a key's use, or Close.
func TestDerivedDataSavedWithNextWrite(t *testing.T) {
	clk := newAcctClock()
	path, key := stateWithKey(t, clk)
	before := readBytes(t, path)

	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	sb.srv.saveEvery.Store(0)
	must[*iam.GenerateCredentialReportOutput](t)(sb.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	job := must[*iam.GenerateServiceLastAccessedDetailsOutput](t)(sb.iam.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::123456789012:user/dana")}))
	must[*iam.GetCredentialReportOutput](t)(sb.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}))
	if !bytes.Equal(before, readBytes(t, path)) {
		t.Fatal("generating reports wrote the state file by itself")
	}
	// A read with a key writes its use, and the reports with it.
	must[*iam.GetUserOutput](t)(sb.asUser(key).GetUser(ctx, &iam.GetUserInput{}))
	again := newSandbox(t, Options{StateFile: path, Now: clk.now})
	if got, _, _ := credentialReport(t, again.iam); !got.GeneratedTime.Equal(clk.now()) {
		t.Fatalf("report saved with a key's use: %v", got.GeneratedTime)
	}
	must[*iam.GetServiceLastAccessedDetailsOutput](t)(again.iam.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId}))

	// On a server that records no use, Close writes them.
	job2 := must[*iam.GenerateServiceLastAccessedDetailsOutput](t)(again.iam.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::123456789012:user/dana")}))
	ok(t, again.srv.Close())
	third := newSandbox(t, Options{StateFile: path, Now: clk.now})
	must[*iam.GetServiceLastAccessedDetailsOutput](t)(third.iam.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job2.JobId}))
}

// TestReadsOfNoKeyLeaveTheFile: requests signed by the bootstrap key, or by
// any made-up key id, record nothing, so they write nothing: a client
// cannot grow the state file with ids it invents, and reads that record
// nothing cost no write.
func TestReadsOfNoKeyLeaveTheFile(t *testing.T) {
	clk := newAcctClock()
	path, _ := stateWithKey(t, clk)
	before := readBytes(t, path)
	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	sb.srv.saveEvery.Store(0)
	for i := range 50 {
		id := fmt.Sprintf("AKIAMADEUP%010d", i)
		must[*iam.ListUsersOutput](t)(sb.asUser(id).ListUsers(ctx, &iam.ListUsersInput{}))
	}
	must[*iam.GetAccountSummaryOutput](t)(sb.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}))
	ok(t, sb.srv.Close())
	if !bytes.Equal(before, readBytes(t, path)) {
		t.Fatal("requests of keys of no user changed the state file")
	}
	if n := len(sb.srv.acct.KeyUse); n != 0 {
		t.Fatalf("%d made-up key ids recorded", n)
	}
}

// TestBookkeepingSaveConcurrent: many readers with a key at once, each
// read allowed to write (interval 0), with changes and Close in between:
// no race (run with -race), no error, and the file holds the newest use.
func TestBookkeepingSaveConcurrent(t *testing.T) {
	clk := newAcctClock()
	path, key := stateWithKey(t, clk)
	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	sb.srv.saveEvery.Store(0)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := sb.asUser(key)
			for i := range 10 {
				if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
					errs <- err
				}
				if g == 1 {
					// Close while others read and change: it only saves.
					if err := sb.srv.Close(); err != nil {
						errs <- err
					}
				}
				if g == 0 && i%3 == 0 {
					name := fmt.Sprintf("u%d", i)
					if _, err := sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	clk.advance(time.Hour)
	must[*iam.GetUserOutput](t)(sb.asUser(key).GetUser(ctx, &iam.GetUserInput{}))
	ok(t, sb.srv.Close())
	again := newSandbox(t, Options{StateFile: path, Now: clk.now})
	if l := lastUseOf(t, again.iam, key); !l.LastUsedDate.Equal(clk.now()) {
		t.Fatalf("newest use after concurrent saves: %v, want %v", l.LastUsedDate, clk.now())
	}
	if len(again.srv.acct.Users) != 5 { // dana and u0, u3, u6, u9
		t.Fatalf("%d users after concurrent saves", len(again.srv.acct.Users))
	}
}

// TestBookkeepingSaveFailure: a bookkeeping write that fails does not fail
// the read (IAM never fails a read for its bookkeeping); Close reports it,
// naming the file; once the file can be written again, Close writes it.
func TestBookkeepingSaveFailure(t *testing.T) {
	clk := newAcctClock()
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "s.json")
	ok(t, os.Mkdir(filepath.Dir(path), 0o700))
	sb := newSandbox(t, Options{StateFile: path, Now: clk.now})
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("finn")}))
	key := credsKey(t, sb, "finn")
	sb.srv.saveEvery.Store(0)

	// The directory goes away: no temporary file can be made beside the
	// state file.
	moved := filepath.Join(dir, "moved")
	ok(t, os.Rename(filepath.Dir(path), moved))
	clk.advance(time.Hour)
	must[*iam.GetUserOutput](t)(sb.asUser(key).GetUser(ctx, &iam.GetUserInput{}))
	err := sb.srv.Close()
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Close after a failed write: %v", err)
	}

	ok(t, os.Rename(moved, filepath.Dir(path)))
	ok(t, sb.srv.Close())
	again := newSandbox(t, Options{StateFile: path, Now: clk.now})
	if l := lastUseOf(t, again.iam, key); l.LastUsedDate == nil || !l.LastUsedDate.Equal(clk.now()) {
		t.Fatalf("use after the write recovered: %v", l.LastUsedDate)
	}
}

// TestCloseWithoutStateFile: Close on a server without a state file does
// nothing and fails nothing.
func TestCloseWithoutStateFile(t *testing.T) {
	sb := newSandbox(t, Options{})
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("gus")}))
	must[*iam.GetUserOutput](t)(sb.asUser(credsKey(t, sb, "gus")).GetUser(ctx, &iam.GetUserInput{}))
	ok(t, sb.srv.Close())
	ok(t, sb.srv.Close())
}
