// Plugin unused-roles: the IAM roles nobody has used for a number of days,
// each with its last use and the calls that would retire it.
//
// Written in AssemblyScript against docs/plugins.md's contract alone: the
// exports describe and call, the host functions of module iam_mcp, and the
// Extism kernel through @extism/as-pdk. Build it with `make plugins` (npm ci,
// then `npm run build`, whose flags are in asconfig.json).

import { inputLength, logError, maxInput, readInput, resetCalls, setError, setOutput } from "./host";
import { Kind, Parser, Writer, clip, quote } from "./json";
import { Outcome, decodeArgs, run, toolError, toolName } from "./roles";

const planItem =
  '{"type":"object","properties":{"op":{"type":"string","description":"a catalogue operation"},' +
  '"args":{"type":"object","description":"its arguments, exactly as the tool of the same name takes them"}},' +
  '"required":["op","args"],"additionalProperties":false}';

const roleSchema =
  '{"type":"object","properties":{' +
  '"role_name":{"type":"string"},"arn":{"type":"string"},"path":{"type":"string"},' +
  '"description":{"type":"string"},' +
  '"create_date":{"type":"string","description":"RFC 3339"},' +
  '"age_days":{"type":"integer","description":"whole days since the role was created"},' +
  '"no_use_recorded":{"type":"boolean","description":"IAM recorded no use of the role (it keeps the past 400 days)"},' +
  '"last_used_date":{"type":["string","null"],"description":"when the role was last used (RFC 3339), null when no use is recorded"},' +
  '"last_used_region":{"type":["string","null"],"description":"the region of that use"},' +
  '"idle_days":{"type":"integer","description":"whole days since the last use, or since creation when no use is recorded"},' +
  '"plan":{"type":"array","items":' + planItem + ',"description":"the calls that would retire the role, in order; stated, not run"}},' +
  '"required":["role_name","arn","path","description","create_date","age_days","no_use_recorded","last_used_date","last_used_region","idle_days","plan"],' +
  '"additionalProperties":false}';

const outputSchema =
  '{"type":"object","properties":{' +
  '"days":{"type":"integer"},' +
  '"path_prefix":{"type":"string"},' +
  '"now":{"type":"string","description":"the time ages are counted from (RFC 3339)"},' +
  '"cutoff":{"type":"string","description":"now less days: a role last used (or, never used, created) at or before this is reported"},' +
  '"roles_listed":{"type":"integer","description":"roles under path_prefix"},' +
  '"service_linked_skipped":{"type":"integer","description":"service-linked roles (path /aws-service-role/), which their AWS service manages"},' +
  '"too_recent":{"type":"integer","description":"roles created after cutoff, which cannot have gone unused that long"},' +
  '"checked":{"type":"integer","description":"roles whose last use was read"},' +
  '"vanished":{"type":"integer","description":"roles deleted between the listing and the reading"},' +
  '"unused":{"type":"array","items":' + roleSchema + ',"description":"the roles not used since cutoff, longest idle first"},' +
  '"iam_calls":{"type":"integer"},' +
  '"markdown":{"type":"string","description":"the same, as a short Markdown report"}},' +
  '"required":["days","now","cutoff","roles_listed","service_linked_skipped","too_recent","checked","vanished","unused","iam_calls","markdown"],' +
  '"additionalProperties":false}';

const inputSchema =
  '{"type":"object","properties":{' +
  '"days":{"type":"integer","minimum":1,"maximum":3650,"default":90,"description":"report roles not used for this many days (default 90)"},' +
  '"path_prefix":{"type":"string","minLength":1,"maxLength":512,"pattern":"^/[!-~]*$","description":"only roles whose path starts with this, e.g. /service-role/ (default: every role)"}},' +
  '"additionalProperties":false}';

const description =
  "List the IAM roles nobody has used for `days` days (default 90): last used before then, or never used and created before then. " +
  "Each comes with its last use (date and region), its age, and the exact calls that would retire it, in order " +
  "(detach_role_policy, delete_role_policy, remove_role_from_instance_profile, then delete_role): stated, not run, since this tool only reads. " +
  "Service-linked roles (path /aws-service-role/) are skipped: their AWS service manages them. " +
  "IAM records a role's last use for the past 400 days only.";

// describe: who the plugin is and what it asks for (list_roles, and
// get_role for each role's last use); it only reads.
export function describe(): i32 {
  const w = new Writer();
  w.beginObject();
  w.key("name").str("unused-roles");
  w.key("version").str("0.1.0");
  w.key("description").str("IAM roles unused for N days, with their last use and a plan to retire them");
  w.key("tools").beginArray();
  w.beginObject();
  w.key("name").str(toolName);
  w.key("description").str(description);
  w.key("input_schema").raw(inputSchema);
  w.key("output_schema").raw(outputSchema);
  w.key("operations").beginArray().str("list_roles").str("get_role").endArray();
  w.endObject();
  w.endArray();
  w.endObject();
  setOutput(w.toString());
  return 0;
}

function answer(o: Outcome): string {
  const w = new Writer();
  w.beginObject();
  w.key("content").beginArray().beginObject().key("type").str("text").key("text").str(o.text).endObject().endArray();
  if (!o.isError) w.key("structured_content").raw(o.structured);
  w.key("is_error").flag(o.isError);
  w.endObject();
  return w.toString();
}

// call: {"tool": …, "arguments": {…}}, read strictly. A malformed call is
// an Extism error (the host's fault or a bug); bad arguments are a tool
// error the assistant reads and can fix.
export function call(): i32 {
  resetCalls();
  // The host sends the tool's name and the assistant's arguments: input
  // this large can only be arguments no call of this tool needs.
  const n = inputLength();
  if (n > maxInput) {
    setOutput(answer(toolError("InvalidInput", "the arguments are " + n.toString() + " bytes; unused_roles takes days and path_prefix, a few dozen bytes")));
    return 0;
  }
  const p = new Parser(readInput(), "arguments");
  const v = p.parse();
  if (v === null) {
    if (p.errorInWatched) {
      setOutput(answer(toolError("InvalidInput", "the arguments are not JSON as unused_roles reads it: " + p.error)));
      return 0;
    }
    setError("unused-roles: call's input is not JSON: " + p.error);
    return 1;
  }
  if (v.kind != Kind.Obj) {
    setError("unused-roles: call's input is not a JSON object");
    return 1;
  }
  const keys = v.keys!;
  for (let k = 0; k < keys.length; k++) {
    if (keys[k] != "tool" && keys[k] != "arguments") {
      setError("unused-roles: call's input has the unknown key " + quote(clip(keys[k], 64)) + "; the contract's are tool and arguments");
      return 1;
    }
  }
  const tool = v.getString("tool");
  if (tool === null) {
    setError("unused-roles: call's input has no tool name");
    return 1;
  }
  if (tool != toolName) {
    setError("unused-roles has no tool " + quote(clip(tool, 64)) + "; its only tool is " + toolName);
    return 1;
  }
  const argv = v.get("arguments");
  if (argv === null) {
    setError("unused-roles: call's input has no arguments");
    return 1;
  }
  const args = decodeArgs(argv);
  if (args.error.length > 0) {
    setOutput(answer(toolError("InvalidInput", args.error)));
    return 0;
  }
  setOutput(answer(run(args)));
  return 0;
}

// @ts-ignore: decorator (compiled where first used: abort is reached from the standard library before this file's globals)
@lazy let aborting = false;

// abort replaces AssemblyScript's env.abort import (asconfig.json's
// "use"), which the host does not provide: a failed bounds check or cast
// traps, so that the host fails the call and replaces this instance. The
// host reports a trap as such and reads no error_set message after one, so
// what went wrong goes to the server's log, for the plugin's author.
function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  if (!aborting) {
    aborting = true;
    const m = message === null ? "" : message;
    const f = fileName === null ? "" : fileName;
    logError("unused-roles failed: " + m + " (" + f + ":" + line.toString() + ":" + column.toString() + "); report this to the plugin's author");
  }
  unreachable();
}
