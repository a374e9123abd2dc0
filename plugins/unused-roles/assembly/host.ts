// The plugin's side of docs/plugins.md's contract: the Extism kernel's
// input, output and memory blocks (through @extism/as-pdk's declarations),
// the host functions of module iam_mcp, and WASI's wall clock.

import {
  alloc,
  error_set,
  free,
  input_length,
  input_load_u64,
  input_load_u8,
  length,
  load_u64,
  load_u8,
  log_error,
  output_set,
  store_u64,
  store_u8,
} from "@extism/as-pdk/lib/env";

import { Kind, Value, Writer, clip, parse, lastError } from "./json";

// The host functions. Every one is (i64) -> i64 in Wasm: the offset of a
// kernel block holding the JSON input, and the offset of one holding the
// JSON output (0: none).
@external("iam_mcp", "iam_call")
declare function host_iam_call(input: u64): u64;
@external("iam_mcp", "iam_batch")
declare function host_iam_batch(input: u64): u64;
@external("iam_mcp", "progress")
declare function host_progress(input: u64): u64;

// WASI's clock, which the runtime gives every plugin (the real wall clock).
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, time: usize): u16;

const clockRealtime: u32 = 0;

// nowSeconds is the wall clock in seconds since 1970, or -1 when WASI
// refuses to say.
export function nowSeconds(): i64 {
  const out = memory.data(8);
  if (clock_time_get(clockRealtime, 1000000000, out) != 0) return -1;
  return <i64>(load<u64>(out) / 1000000000);
}

// maxInput caps what the plugin reads of call's input before reading it:
// this tool's arguments are two short values.
export const maxInput: u64 = 64 << 10;

// inputLength is the length of the export's input.
export function inputLength(): u64 {
  return input_length();
}

// readInput copies the export's input, eight bytes a kernel call.
export function readInput(): Uint8Array {
  const n = <i32>input_length();
  const buf = new Uint8Array(n);
  const p = buf.dataStart;
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(p + <usize>i, input_load_u64(<u64>i));
  for (; i < n; i++) store<u8>(p + <usize>i, input_load_u8(<u64>i));
  return buf;
}

function utf8(s: string): Uint8Array {
  // Unpaired surrogates become U+FFFD: the host reads UTF-8, not WTF-8.
  return Uint8Array.wrap(String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE));
}

// block copies bytes into a new kernel block and returns its offset.
function block(b: Uint8Array): u64 {
  const n = b.length;
  const off = alloc(<u64>n);
  const p = b.dataStart;
  let i = 0;
  for (; i + 8 <= n; i += 8) store_u64(off + <u64>i, load<u64>(p + <usize>i));
  for (; i < n; i++) store_u8(off + <u64>i, load<u8>(p + <usize>i));
  return off;
}

// take copies a kernel block out and frees it, as the contract asks of
// the plugin for every block the host hands over.
function take(off: u64): Uint8Array {
  if (off == 0) return new Uint8Array(0);
  const n = <i32>length(off);
  const buf = new Uint8Array(n);
  const p = buf.dataStart;
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(p + <usize>i, load_u64(off + <u64>i));
  for (; i < n; i++) store<u8>(p + <usize>i, load_u8(off + <u64>i));
  free(off);
  return buf;
}

// setOutput sets the export's output.
export function setOutput(s: string): void {
  const b = utf8(s);
  output_set(block(b), <u64>b.length);
}

// setError sets the export's error message (the export then returns 1).
export function setError(s: string): void {
  error_set(block(utf8(s)));
}

// logError writes a line to the server's log (Extism's log_error, which
// takes the block and frees it).
export function logError(s: string): void {
  log_error(block(utf8(s)));
}

// HostError is an error the host answered: a code of docs/plugins.md's
// table and its message.
export class HostError {
  constructor(public code: string, public message: string) {}
}

// Answer is one answer of iam_call or iam_batch: a result or an error.
export class Answer {
  result: Value | null = null;
  error: HostError | null = null;
}

// calls counts the IAM operations this tool call asked for (each request
// of a batch counts, as against max_iam_calls).
export let calls: i32 = 0;

export function resetCalls(): void {
  calls = 0;
}

// answerOf reads {"result": …} or {"error": {"code", "message"}}.
function answerOf(v: Value): Answer {
  const a = new Answer();
  const e = v.get("error");
  if (e !== null && e.kind == Kind.Obj) {
    const code = e.getString("code");
    const msg = e.getString("message");
    a.error = new HostError(code === null ? "Internal" : code, msg === null ? "" : msg);
    return a;
  }
  const r = v.get("result");
  if (r === null) {
    a.error = new HostError("Internal", "the host answered with neither a result nor an error");
    return a;
  }
  a.result = r;
  return a;
}

function unreadable(what: string): Answer {
  const a = new Answer();
  a.error = new HostError("Internal", "the host's answer to " + what + " is not the contract's JSON (" + clip(lastError, 120) + ")");
  return a;
}

// request writes {"op": op, "args": args} into w; args is a JSON object
// text.
export function request(w: Writer, op: string, args: string): void {
  w.beginObject().key("op").str(op).key("args").raw(args).endObject();
}

// iamCall runs one catalogue operation; args is its input, a JSON object.
export function iamCall(op: string, args: string): Answer {
  const w = new Writer();
  request(w, op, args);
  const inBlock = block(utf8(w.toString()));
  calls++;
  const out = take(host_iam_call(inBlock));
  free(inBlock);
  const v = parse(out);
  if (v === null || v.kind != Kind.Obj) return unreadable(op);
  return answerOf(v);
}

// iamBatch runs requests (a JSON array of {"op", "args"}, count long),
// which the host runs concurrently, and returns their answers in order.
// A batch the host refuses whole is one answer repeated for each request.
export function iamBatch(requests: string, count: i32): Array<Answer> {
  const inBlock = block(utf8(requests));
  calls += count;
  const out = take(host_iam_batch(inBlock));
  free(inBlock);
  const answers = new Array<Answer>();
  const v = parse(out);
  if (v !== null && v.kind == Kind.Obj) {
    // Refused as a whole: nothing in it ran.
    const whole = answerOf(v);
    for (let k = 0; k < count; k++) answers.push(whole);
    return answers;
  }
  if (v === null || v.kind != Kind.Arr || v.list().length != count) {
    const bad = unreadable("a batch of " + count.toString());
    for (let k = 0; k < count; k++) answers.push(bad);
    return answers;
  }
  const items = v.list();
  for (let k = 0; k < count; k++) {
    const item = items[k];
    answers.push(item.kind == Kind.Obj ? answerOf(item) : unreadable("a batch of " + count.toString()));
  }
  return answers;
}

// progress tells the MCP client how far the call has come; total 0 is
// unknown. The host forwards only increasing values, and never fails.
export function progress(done: i64, total: i64, message: string): void {
  const w = new Writer();
  w.beginObject().key("progress").int(done);
  if (total > 0) w.key("total").int(total);
  w.key("message").str(message).endObject();
  const inBlock = block(utf8(w.toString()));
  const out = host_progress(inBlock);
  if (out != 0) free(out);
  free(inBlock);
}
