// Driver for policy's differential test: runs each case through
// @cloud-copilot/iam-simulate (the oracle) and prints its decision.
//
// The oracle is AGPL-3.0-or-later. It is a test-only dependency: this file
// runs it out of process, from `go test`, and nothing of it is linked into,
// vendored in or shipped with iam-mcp-server.
//
// Usage:
//
//	node driver.mjs < cases              one JSON line per case on stdout
//	node driver.mjs --bench [--min-ms N] timing of the oracle on the cases
//
// Input is one JSON array of cases or JSON lines, one case per line. A case:
//
//	{
//	  "id": 7,
//	  "identity":  [POLICY, ...],       identity-based policies
//	  "boundary":  [POLICY, ...],       permissions boundary (optional)
//	  "scps":      [POLICY, ...],       SCPs, one OU level (optional)
//	  "resourcePolicy": POLICY,         resource-based policy (optional)
//	  "principal": "arn:aws:iam::111122223333:user/alice",
//	  "action":    "s3:GetObject",
//	  "resource":  "arn:aws:s3:::bucket/key",
//	  "resourceAccount": "111122223333",
//	  "context":   {"aws:username": ["alice"], "aws:TagKeys": ["a", "b"]}
//	}
//
// POLICY is a policy document as a JSON object. The output line for a case
// is {"id": 7, "decision": "allowed"|"explicitDeny"|"implicitDeny"} with,
// when they apply, "ignoredContextKeys" (context keys the oracle dropped as
// not applicable to the action) and "error" (the oracle refused the input).
//
// --bench decides every case, then runs all of them again and again, to warm
// up and then for at least --min-ms milliseconds (default 1000), and prints
// one JSON object: the decisions, the evaluations timed and the nanoseconds
// per evaluation of runSimulation (the oracle's public, validating entry
// point) and of runUnsafeSimulation (its entry point without validation),
// measured in process so that starting node and reading JSON do not count.

import { readFileSync } from 'node:fs';
import {
  isConditionKeyArray,
  runSimulation,
  runUnsafeSimulation,
  typeForContextKey
} from '@cloud-copilot/iam-simulate';

// decisionNames spells the oracle's results as Evaluate's Decision values.
const decisionNames = {
  Allowed: 'allowed',
  ExplicitlyDenied: 'explicitDeny',
  ImplicitlyDenied: 'implicitDeny'
};

// readCases reads all of stdin: a JSON array of cases, or one case a line.
function readCases() {
  const text = readFileSync(0, 'utf8').trim();
  if (text === '') {
    return [];
  }
  if (text.startsWith('[')) {
    return JSON.parse(text);
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

// named gives each policy of a layer the name the oracle's input requires.
function named(prefix, policies) {
  return (policies ?? []).map((policy, i) => ({ name: `${prefix}${i}`, policy }));
}

// simulation turns a case into the oracle's input. Context values are given
// as lists; runSimulation reduces them to one string for single-valued keys.
function simulation(c) {
  const boundary = named('boundary', c.boundary);
  const scps = named('scp', c.scps);
  return {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: c.context ?? {}
    },
    identityPolicies: named('identity', c.identity),
    permissionBoundaryPolicies: boundary.length > 0 ? boundary : undefined,
    serviceControlPolicies: scps.length > 0 ? [{ orgIdentifier: 'ou-scps', policies: scps }] : [],
    resourceControlPolicies: [],
    resourcePolicy: c.resourcePolicy ?? undefined,
    // The oracle drops aws:ResourceTag/* for S3 unless the bucket has ABAC
    // on; Evaluate takes the context as given, so turn it on.
    additionalSettings: { s3: { bucketAbacEnabled: true } }
  };
}

// decide runs one case through runSimulation, the oracle's public entry
// point, which validates the policies and the request first: a refusal is
// reported as an error, never guessed into a decision.
async function decide(c) {
  const out = { id: c.id };
  try {
    const res = await runSimulation(simulation(c), {});
    if (res.resultType === 'error') {
      out.error = JSON.stringify(res.errors);
      return out;
    }
    out.decision = decisionNames[res.overallResult] ?? res.overallResult;
    const ignored = res.resultType === 'single' ? res.result.ignoredContextKeys : [];
    if (ignored && ignored.length > 0) {
      out.ignoredContextKeys = ignored;
    }
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e);
  }
  return out;
}

// unsafeSimulation is simulation with the context typed the way
// runSimulation would type it, since runUnsafeSimulation does not.
async function unsafeSimulation(c) {
  const sim = simulation(c);
  const ctx = {};
  for (const [k, v] of Object.entries(c.context ?? {})) {
    let array = false;
    try {
      array = isConditionKeyArray(await typeForContextKey(k));
    } catch {
      array = false;
    }
    ctx[k] = array ? v : v[0];
  }
  sim.request.contextVariables = ctx;
  return sim;
}

// bench is --bench: see the top of the file. runUnsafeSimulation's figure is
// the cost of the oracle's evaluation core alone; its decisions are not
// checked (without validation it does not learn, for one, which actions
// take no resource).
async function bench(cases, minMs) {
  const sims = cases.map(simulation);
  const unsafeSims = [];
  for (const c of cases) {
    unsafeSims.push(await unsafeSimulation(c));
  }
  // The decisions, so the caller can check both engines did the same work.
  const decisions = [];
  for (const c of cases) {
    const d = await decide(c);
    decisions.push(d.decision ?? 'error: ' + d.error);
  }
  const safe = await timeRuns(sims, (s) => runSimulation(s, {}), minMs);
  const unsafe = await timeRuns(unsafeSims, (s) => runUnsafeSimulation(s, {}), minMs);
  return {
    cases: cases.length,
    decisions,
    evaluations: safe.n,
    nsPerEval: safe.ns,
    unsafeEvaluations: unsafe.n,
    unsafeNsPerEval: unsafe.ns
  };
}

// timeRuns runs fn over all inputs, again and again: for a third of minMs to
// warm the JIT up, then for at least minMs, timed. It returns the timed
// evaluations and the nanoseconds per evaluation.
async function timeRuns(inputs, fn, minMs) {
  if (inputs.length === 0) {
    return { n: 0, ns: 0 };
  }
  const pass = async () => {
    for (const x of inputs) {
      await fn(x);
    }
  };
  const ms = (t) => BigInt(Math.round(t * 1e6));
  let start = process.hrtime.bigint();
  while (process.hrtime.bigint() - start < ms(minMs / 3)) {
    await pass();
  }
  let n = 0;
  start = process.hrtime.bigint();
  let now = start;
  while (now - start < ms(minMs)) {
    await pass();
    n += inputs.length;
    now = process.hrtime.bigint();
  }
  return { n, ns: Number(now - start) / n };
}

async function main() {
  const args = process.argv.slice(2);
  const cases = readCases();
  if (args.includes('--bench')) {
    const i = args.indexOf('--min-ms');
    const minMs = i >= 0 ? Number(args[i + 1]) : 1000;
    process.stdout.write(JSON.stringify(await bench(cases, minMs)) + '\n');
    return;
  }
  const lines = [];
  for (const c of cases) {
    lines.push(JSON.stringify(await decide(c)));
  }
  process.stdout.write(lines.join('\n') + (lines.length > 0 ? '\n' : ''));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
