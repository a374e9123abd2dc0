// The unused_roles tool: which roles nobody has used for a number of days,
// and the calls that would retire each. It only reads; the calls it lists
// are stated, never made.

import { Answer, HostError, calls, iamBatch, iamCall, nowSeconds, progress, request } from "./host";
import { Kind, Value, Writer, clip, concat, quote } from "./json";
import { daySeconds, formatTime, noTime, parseTime } from "./time";

export const toolName = "unused_roles";

// serviceLinkedPath is where IAM keeps service-linked roles: their AWS
// service creates, uses and deletes them, so they are never reported.
const serviceLinkedPath = "/aws-service-role/";

// pageSize is list_roles' largest page (IAM's MaxItems).
const pageSize = 1000;

// batchSize is how many get_role requests go to the host at once: enough
// for the host to run them concurrently, few enough that one batch's
// answers (a role with its trust policy and policy names each) stay well
// under a megabyte.
const batchSize = 100;

// markdownRows caps the table of the text answer; the structured answer
// lists every role.
const markdownRows = 50;

// Args are the tool's arguments, decoded.
export class Args {
  days: i64 = 90;
  pathPrefix: string = "";
  error: string = "";
}

// decodeArgs reads the arguments strictly: only days and path_prefix, each
// of its type and range. An absent or null argument takes its default.
export function decodeArgs(v: Value): Args {
  const a = new Args();
  if (v.kind != Kind.Obj) {
    a.error = "the arguments of unused_roles must be an object such as {\"days\": 90}";
    return a;
  }
  const keys = v.keys!;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    if (key != "days" && key != "path_prefix") {
      a.error = "unused_roles has no argument " + quote(clip(key, 64)) + "; it takes days (1-3650, default 90) and path_prefix (e.g. /service-role/)";
      return a;
    }
  }
  const days = v.get("days");
  if (days !== null && days.kind != Kind.Null) {
    if (days.kind != Kind.Num || days.num != Math.floor(days.num) || days.num < 1 || days.num > 3650) {
      a.error = "days must be a whole number of days from 1 to 3650 (default 90)";
      return a;
    }
    a.days = <i64>days.num;
  }
  const prefix = v.get("path_prefix");
  if (prefix !== null && prefix.kind != Kind.Null) {
    if (prefix.kind != Kind.Str) {
      a.error = "path_prefix must be a string, an IAM path such as /service-role/";
      return a;
    }
    const p = prefix.str;
    let ok = p.length >= 1 && p.length <= 512 && p.charAt(0) == "/";
    for (let k = 0; ok && k < p.length; k++) {
      const c = p.charCodeAt(k);
      ok = c >= 0x21 && c <= 0x7e;
    }
    if (!ok) {
      a.error = "path_prefix must be an IAM path of 1-512 printable ASCII characters starting with /, such as /service-role/";
      return a;
    }
    a.pathPrefix = p;
  }
  return a;
}

// Outcome is the tool's answer: a success (its structured content and its
// Markdown) or a tool error ("Code: message").
export class Outcome {
  isError: bool = false;
  text: string = "";
  structured: string = "";
}

export function toolError(code: string, message: string): Outcome {
  const o = new Outcome();
  o.isError = true;
  o.text = code + ": " + message;
  return o;
}

// hostFailure turns an error the host answered into the tool error the
// assistant reads: what was being done, and what to grant, raise or retry.
function hostFailure(e: HostError, op: string, doing: string): Outcome {
  const said = " (the host said: " + clip(e.message, 300) + ")";
  const c = e.code;
  if (c == "NotGranted") {
    return toolError(c, doing + " needs " + op + ", which this plugin was not granted: add " + op +
      " to the grants of this plugin's entry in the server's plugins file (e.g. plugins.yaml) and restart the server; nothing was changed" + said);
  }
  if (c == "Throttled") {
    return toolError(c, "IAM kept throttling while " + doing + "; nothing was changed. Retry in a few minutes, or narrow path_prefix to read fewer roles" + said);
  }
  if (c == "LimitExceeded") {
    return toolError(c, doing + " went past this plugin's limits; raise limits.max_iam_calls in its plugins-file entry, or narrow path_prefix" + said);
  }
  if (c == "AccessDenied") {
    return toolError(c, "the server's AWS credentials may not " + op + " while " + doing + ": allow the matching iam: action to the server's identity" + said);
  }
  if (c == "ServiceFailure" || c == "Unavailable") {
    return toolError(c, "IAM failed while " + doing + "; nothing was changed. Retry later" + said);
  }
  return toolError(c, doing + " failed: " + clip(e.message, 300));
}

function bad(what: string): Outcome {
  return toolError("Internal", "the host answered " + what + " in a shape this plugin does not know; report this to the plugin's author with the server's version");
}

// listed is a role as list_roles gives it.
class Listed {
  constructor(public name: string, public path: string, public arn: string, public created: string, public createdAt: i64) {}
}

// Unused is one role to report.
class Unused {
  name: string = "";
  path: string = "";
  arn: string = "";
  description: string = "";
  created: string = "";
  ageDays: i64 = 0;
  lastUsed: string = ""; // "" when IAM recorded no use
  lastRegion: string = "";
  idleDays: i64 = 0; // days since the last use, or since creation
  plan: string = ""; // a JSON array of {"op", "args"}
  steps: i32 = 0;
}

function byIdle(a: Unused, b: Unused): i32 {
  if (a.idleDays != b.idleDays) return a.idleDays > b.idleDays ? -1 : 1;
  if (a.name == b.name) return 0;
  return a.name < b.name ? -1 : 1;
}

// planOf is the calls that would retire a role, in the order IAM needs
// them: its managed policies detached, its inline policies deleted, it
// removed from its instance profiles, and then the role deleted.
function planOf(u: Unused, result: Value): bool {
  const w = new Writer();
  const role = quote(u.name);
  w.beginArray();
  let steps = 0;
  const attached = result.get("attached_policies");
  if (attached !== null) {
    const list = attached.list();
    for (let k = 0; k < list.length; k++) {
      const arn = list[k].getString("policy_arn");
      if (arn === null) return false;
      request(w, "detach_role_policy", "{\"role_name\":" + role + ",\"policy_arn\":" + quote(arn) + "}");
      steps++;
    }
  }
  const inline = result.get("inline_policies");
  if (inline !== null) {
    const list = inline.list();
    for (let k = 0; k < list.length; k++) {
      if (list[k].kind != Kind.Str) return false;
      request(w, "delete_role_policy", "{\"role_name\":" + role + ",\"policy_name\":" + quote(list[k].str) + "}");
      steps++;
    }
  }
  const profiles = result.get("instance_profiles");
  if (profiles !== null) {
    const list = profiles.list();
    for (let k = 0; k < list.length; k++) {
      if (list[k].kind != Kind.Str) return false;
      request(w, "remove_role_from_instance_profile", "{\"instance_profile_name\":" + quote(list[k].str) + ",\"role_name\":" + role + "}");
      steps++;
    }
  }
  request(w, "delete_role", "{\"role_name\":" + role + "}");
  steps++;
  w.endArray();
  u.plan = w.toString();
  u.steps = steps;
  return true;
}

function plural(n: i64, one: string, many: string): string {
  return n.toString() + " " + (n == 1 ? one : many);
}

function cell(s: string): string {
  return s.replaceAll("|", "\\|");
}

// run answers one call of the tool.
export function run(a: Args): Outcome {
  const now = nowSeconds();
  if (now < 0) return toolError("Internal", "the plugin could not read the clock (WASI clock_time_get); report this with the server's version");
  const cutoff = now - a.days * daySeconds;
  const under = a.pathPrefix.length > 0 ? a.pathPrefix : "/";

  // Every role under the prefix, page by page. list_roles gives no last
  // use (IAM leaves RoleLastUsed out of lists), so this only sorts out
  // which roles need a get_role.
  const candidates = new Array<Listed>();
  let listed = 0;
  let serviceLinked = 0;
  let tooRecent = 0;
  let marker = "";
  for (;;) {
    let args = "{\"max_items\":" + pageSize.toString();
    if (a.pathPrefix.length > 0) args += ",\"path_prefix\":" + quote(a.pathPrefix);
    if (marker.length > 0) args += ",\"marker\":" + quote(marker);
    args += "}";
    const ans = iamCall("list_roles", args);
    const err = ans.error;
    if (err !== null) return hostFailure(err, "list_roles", "listing the roles under " + under);
    const res = ans.result!;
    const roles = res.get("roles");
    if (roles === null) return bad("list_roles");
    const list = roles.list();
    for (let k = 0; k < list.length; k++) {
      const r = list[k];
      const name = r.getString("role_name");
      const path = r.getString("path");
      const arn = r.getString("arn");
      const created = r.getString("create_date");
      if (name === null || path === null || arn === null || created === null) return bad("list_roles");
      const createdAt = parseTime(created);
      if (createdAt == noTime) return bad("list_roles (create_date " + quote(clip(created, 40)) + ")");
      listed++;
      if (path.startsWith(serviceLinkedPath)) {
        serviceLinked++;
      } else if (createdAt > cutoff) {
        // Created within the window: it cannot have gone unused for all
        // of it, whatever its last use, so it needs no get_role.
        tooRecent++;
      } else {
        candidates.push(new Listed(name, path, arn, created, createdAt));
      }
    }
    const truncated = res.get("is_truncated");
    if (truncated === null || truncated.kind != Kind.Bool || !truncated.truth) break;
    const next = res.getString("marker");
    if (next === null || next.length == 0 || next == marker) return bad("list_roles (a truncated page without a new marker)");
    marker = next;
    progress(<i64>calls, 0, "listed " + plural(listed, "role", "roles"));
  }

  // Each remaining role's last use, a batch of get_role at a time: the
  // host runs a batch's requests concurrently.
  const unused = new Array<Unused>();
  let vanished = 0;
  const total = candidates.length;
  for (let start = 0; start < total; start += batchSize) {
    const end = min(start + batchSize, total);
    const w = new Writer();
    w.beginArray();
    for (let k = start; k < end; k++) request(w, "get_role", "{\"role_name\":" + quote(candidates[k].name) + "}");
    w.endArray();
    const answers = iamBatch(w.toString(), end - start);
    for (let k = start; k < end; k++) {
      const c = candidates[k];
      const ans: Answer = answers[k - start];
      const err = ans.error;
      if (err !== null) {
        if (err.code == "NoSuchEntity") {
          vanished++; // deleted since it was listed
          continue;
        }
        return hostFailure(err, "get_role", "reading the last use of role " + c.name);
      }
      const res = ans.result!;
      const role = res.get("role");
      if (role === null || role.kind != Kind.Obj) return bad("get_role");
      const lastUsed = role.getString("last_used_date");
      let lastAt = noTime;
      if (lastUsed !== null && lastUsed.length > 0) {
        lastAt = parseTime(lastUsed);
        if (lastAt == noTime) return bad("get_role (last_used_date " + quote(clip(lastUsed, 40)) + ")");
      }
      const idleSince = lastAt != noTime ? lastAt : c.createdAt;
      if (idleSince > cutoff) continue; // used within the window
      const u = new Unused();
      u.name = c.name;
      u.path = c.path;
      u.arn = c.arn;
      const desc = role.getString("description");
      u.description = desc === null ? "" : desc;
      u.created = c.created;
      u.ageDays = (now - c.createdAt) / daySeconds;
      if (lastAt != noTime) {
        u.lastUsed = lastUsed!;
        const region = role.getString("last_used_region");
        u.lastRegion = region === null ? "" : region;
      }
      u.idleDays = (now - idleSince) / daySeconds;
      if (!planOf(u, res)) return bad("get_role (its policies or instance profiles)");
      unused.push(u);
    }
    progress(<i64>calls, <i64>(calls + total - end), "read the last use of " + end.toString() + " of " + plural(total, "role", "roles"));
  }
  unused.sort(byIdle);

  const md = markdown(a, cutoff, under, listed, serviceLinked, tooRecent, total - vanished, unused);
  const w = new Writer();
  w.beginObject();
  w.key("days").int(a.days);
  if (a.pathPrefix.length > 0) w.key("path_prefix").str(a.pathPrefix);
  w.key("now").str(formatTime(now));
  w.key("cutoff").str(formatTime(cutoff));
  w.key("roles_listed").int(listed);
  w.key("service_linked_skipped").int(serviceLinked);
  w.key("too_recent").int(tooRecent);
  w.key("checked").int(total - vanished);
  w.key("vanished").int(vanished);
  w.key("unused").beginArray();
  for (let k = 0; k < unused.length; k++) {
    const u = unused[k];
    w.beginObject();
    w.key("role_name").str(u.name);
    w.key("arn").str(u.arn);
    w.key("path").str(u.path);
    w.key("description").str(u.description);
    w.key("create_date").str(u.created);
    w.key("age_days").int(u.ageDays);
    w.key("no_use_recorded").flag(u.lastUsed.length == 0);
    if (u.lastUsed.length > 0) {
      w.key("last_used_date").str(u.lastUsed);
      w.key("last_used_region").str(u.lastRegion);
    } else {
      w.key("last_used_date").nil();
      w.key("last_used_region").nil();
    }
    w.key("idle_days").int(u.idleDays);
    w.key("plan").raw(u.plan);
    w.endObject();
  }
  w.endArray();
  w.key("iam_calls").int(calls);
  w.key("markdown").str(md);
  w.endObject();
  const o = new Outcome();
  o.text = md;
  o.structured = w.toString();
  return o;
}

function markdown(a: Args, cutoff: i64, under: string, listed: i32, serviceLinked: i32, tooRecent: i32, checked: i32, unused: Array<Unused>): string {
  const day = formatTime(cutoff).substring(0, 10);
  const out = new Array<string>();
  out.push("# Roles unused for " + a.days.toString() + " days\n\n");
  if (unused.length == 0) {
    out.push("Every role under " + cell(under) + " has been used since " + day + ", or is younger than that.\n\n");
  } else {
    out.push(plural(unused.length, "role", "roles") + " under " + cell(under) + " not used since " + day +
      ". Nothing was changed: each has the calls that would retire it (in the structured answer's `plan`), to run only once you know nothing needs it; `delete_role` cannot be undone.\n\n");
    out.push("| Role | Last used | Region | Age (days) | Calls to retire |\n| --- | --- | --- | ---: | ---: |\n");
    const rows = min(unused.length, markdownRows);
    for (let k = 0; k < rows; k++) {
      const u = unused[k];
      const last = u.lastUsed.length > 0 ? u.lastUsed.substring(0, 10) + " (" + u.idleDays.toString() + " days ago)" : "no use recorded";
      const region = u.lastRegion.length > 0 ? u.lastRegion : "–";
      out.push("| " + cell(u.name) + " | " + last + " | " + cell(region) + " | " + u.ageDays.toString() + " | " + u.steps.toString() + " |\n");
    }
    if (unused.length > rows) out.push("\n…and " + (unused.length - rows).toString() + " more in the structured answer.\n");
    out.push("\n");
  }
  out.push("Listed " + plural(listed, "role", "roles") + " and read the last use of " + checked.toString() + " with " + plural(calls, "IAM call", "IAM calls") +
    "; skipped " + plural(serviceLinked, "service-linked role", "service-linked roles") + " (managed by AWS services) and " +
    plural(tooRecent, "role", "roles") + " created after " + day + ". IAM records a role's last use for the past 400 days only.\n");
  return concat(out);
}
