package api

// The direct host functions: iam_call and iam_batch again, for a plugin
// that can hand the host a pointer into its own memory. Through HostModule
// (Extism's calling convention) a request and its answer are copied through
// the Extism kernel's memory, which a guest reads eight bytes per host call;
// a page of authorization details is then hundreds of thousands of calls.
// Through HostDirectModule the host reads the request straight out of the
// plugin's memory and writes the answer straight into it: two host calls per
// request, whatever its size. The JSON is the same; what the host checks,
// counts and audits is the same. A plugin may use either; the Go SDK uses
// this one.
//
// The calls, all i32 (memory offsets and lengths in the plugin's own
// linear memory):
//
//	iam_call(req_ptr, req_len) -> answer_len
//	iam_batch(req_ptr, req_len) -> answer_len
//	answer(dst_ptr, answer_len)
//
// iam_call and iam_batch take the JSON of HostIAMCall and HostIAMBatch and
// keep their answer (an IAMResponse, or a list of them) on the host; the
// plugin then allocates answer_len bytes and calls answer, which copies
// the answer there and forgets it. answer with another length, an offset
// outside the plugin's memory, or no answer waiting, traps the plugin.
const (
	HostDirectModule = "iam-mcp:host/direct"
	HostDirectAnswer = "answer"
)
