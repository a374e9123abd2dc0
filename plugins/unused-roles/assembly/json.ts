// JSON for the plugin contract, both ways: a strict reader and a writer.
//
// The reader is strict because the plugin's input comes from outside (an MCP
// client's arguments): one value and nothing after it, every key of an
// object once, strings and numbers exactly as RFC 8259 spells them, and a
// bounded depth. It never traps: a problem is an error message saying where,
// which the caller turns into an InvalidInput answer. (assemblyscript-json,
// which needs no compiler transform, ignores anything after the first value,
// keeps the last of two equal keys, and traps on malformed input, which
// would discard the instance instead of telling the assistant what to fix.)

export const enum Kind {
  Null,
  Bool,
  Num,
  Str,
  Arr,
  Obj,
}

// maxDepth bounds nesting, so that "[[[[…" cannot exhaust the stack.
const maxDepth = 64;

export class Value {
  kind: Kind;
  truth: bool = false;
  num: f64 = 0;
  // integral: the literal was an integer (no fraction, no exponent).
  integral: bool = false;
  str: string = "";
  items: Array<Value> | null = null;
  fields: Map<string, Value> | null = null;
  // keys in the order they were read, for messages that name the first
  // unknown key.
  keys: Array<string> | null = null;

  constructor(kind: Kind) {
    this.kind = kind;
  }

  // get returns an object's member, or null when it is absent (or this is
  // not an object).
  get(key: string): Value | null {
    const f = this.fields;
    if (f === null || !f.has(key)) return null;
    return f.get(key);
  }

  // getString returns an object's string member, or null when it is absent,
  // null or not a string.
  getString(key: string): string | null {
    const v = this.get(key);
    if (v === null || v.kind != Kind.Str) return null;
    return v.str;
  }

  // list returns an array's items, or an empty list when this is not an
  // array (a list the host answers with null is empty).
  list(): Array<Value> {
    const items = this.items;
    return items === null ? new Array<Value>() : items;
  }
}

// kindName names a kind for messages.
export function kindName(k: Kind): string {
  switch (k) {
    case Kind.Null:
      return "null";
    case Kind.Bool:
      return "a boolean";
    case Kind.Num:
      return "a number";
    case Kind.Str:
      return "a string";
    case Kind.Arr:
      return "an array";
  }
  return "an object";
}

// Parser reads one JSON text.
export class Parser {
  private b: Uint8Array;
  private i: i32 = 0;
  private depth: i32 = 0;
  // watchKey names a member of the top-level object whose value the
  // caller tells apart: call's arguments are the assistant's to fix, the
  // rest of call's input is the host's. inWatched is true while reading
  // that value, which starts at byte watchStart.
  private watchKey: string;
  private inWatched: bool = false;
  private watchStart: i32 = 0;
  // error says what was wrong when parse returned null; errorInWatched,
  // whether it was inside watchKey's value (error then counts bytes from
  // the start of that value).
  error: string = "";
  errorInWatched: bool = false;

  constructor(b: Uint8Array, watchKey: string = "") {
    this.b = b;
    this.watchKey = watchKey;
  }

  // parse reads the whole input as one value.
  parse(): Value | null {
    const v = this.value();
    if (v === null) return null;
    this.space();
    if (this.i < this.b.length) return this.fail("more after the first value");
    return v;
  }

  private fail(what: string): Value | null {
    if (this.error.length == 0) {
      this.errorInWatched = this.inWatched;
      this.error = what + " at byte " + (this.inWatched ? this.i - this.watchStart : this.i).toString();
    }
    return null;
  }

  private space(): void {
    const b = this.b;
    while (this.i < b.length) {
      const c = b[this.i];
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.i++;
    }
  }

  private value(): Value | null {
    this.space();
    if (this.i >= this.b.length) return this.fail("the input ends where a value should be");
    const c = this.b[this.i];
    if (c == 0x7b) return this.object(); // {
    if (c == 0x5b) return this.array(); // [
    if (c == 0x22) {
      const s = this.readString();
      if (s === null) return null;
      const v = new Value(Kind.Str);
      v.str = s;
      return v;
    }
    if (c == 0x74) return this.word("true", Kind.Bool, true);
    if (c == 0x66) return this.word("false", Kind.Bool, false);
    if (c == 0x6e) return this.word("null", Kind.Null, false);
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail("not a JSON value");
  }

  private word(w: string, kind: Kind, truth: bool): Value | null {
    const b = this.b;
    if (this.i + w.length > b.length) return this.fail("not a JSON value");
    for (let k = 0; k < w.length; k++) {
      if (<i32>b[this.i + k] != w.charCodeAt(k)) return this.fail("not a JSON value");
    }
    this.i += w.length;
    const v = new Value(kind);
    v.truth = truth;
    return v;
  }

  private digits(): i32 {
    const b = this.b;
    const start = this.i;
    while (this.i < b.length && b[this.i] >= 0x30 && b[this.i] <= 0x39) this.i++;
    return this.i - start;
  }

  private number(): Value | null {
    const b = this.b;
    const start = this.i;
    let integral = true;
    if (b[this.i] == 0x2d) this.i++;
    if (this.i >= b.length) return this.fail("a number without digits");
    if (b[this.i] == 0x30) {
      this.i++;
    } else if (this.digits() == 0) {
      return this.fail("a number without digits");
    }
    if (this.i < b.length && b[this.i] == 0x2e) {
      this.i++;
      integral = false;
      if (this.digits() == 0) return this.fail("a number with no digit after its point");
    }
    if (this.i < b.length && (b[this.i] == 0x65 || b[this.i] == 0x45)) {
      this.i++;
      integral = false;
      if (this.i < b.length && (b[this.i] == 0x2b || b[this.i] == 0x2d)) this.i++;
      if (this.digits() == 0) return this.fail("a number with no digit in its exponent");
    }
    const text = String.UTF8.decodeUnsafe(b.dataStart + <usize>start, <usize>(this.i - start));
    const v = new Value(Kind.Num);
    v.num = parseFloat(text);
    v.integral = integral;
    return v;
  }

  private hex4(): i32 {
    const b = this.b;
    if (this.i + 4 > b.length) return -1;
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = <i32>b[this.i + k];
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      if (d < 0) return -1;
      n = (n << 4) | d;
    }
    this.i += 4;
    return n;
  }

  // string reads a string literal; null on error.
  private readString(): string | null {
    const b = this.b;
    this.i++; // the opening quote
    let run = this.i;
    let parts: Array<string> | null = null;
    while (this.i < b.length) {
      const c = b[this.i];
      if (c == 0x22) {
        const last = String.UTF8.decodeUnsafe(b.dataStart + <usize>run, <usize>(this.i - run));
        this.i++;
        if (parts === null) return last;
        parts.push(last);
        return concat(parts);
      }
      if (c < 0x20) {
        this.fail("a control character inside a string");
        return null;
      }
      if (c != 0x5c) {
        this.i++;
        continue;
      }
      // An escape: keep the run before it, then its character.
      if (parts === null) parts = new Array<string>();
      parts.push(String.UTF8.decodeUnsafe(b.dataStart + <usize>run, <usize>(this.i - run)));
      this.i++;
      if (this.i >= b.length) break;
      const e = b[this.i];
      this.i++;
      if (e == 0x22) parts.push('"');
      else if (e == 0x5c) parts.push("\\");
      else if (e == 0x2f) parts.push("/");
      else if (e == 0x62) parts.push("\b");
      else if (e == 0x66) parts.push("\f");
      else if (e == 0x6e) parts.push("\n");
      else if (e == 0x72) parts.push("\r");
      else if (e == 0x74) parts.push("\t");
      else if (e == 0x75) {
        const u = this.hex4();
        if (u < 0) {
          this.fail("a \\u escape without four hex digits");
          return null;
        }
        // A surrogate pair written as two escapes is one character.
        if (u >= 0xd800 && u < 0xdc00 && this.i + 6 <= b.length && b[this.i] == 0x5c && b[this.i + 1] == 0x75) {
          const save = this.i;
          this.i += 2;
          const lo = this.hex4();
          if (lo >= 0xdc00 && lo < 0xe000) {
            parts.push(String.fromCharCodes([u, lo]));
          } else {
            this.i = save;
            parts.push(String.fromCharCode(u));
          }
        } else {
          parts.push(String.fromCharCode(u));
        }
      } else {
        this.i--;
        this.fail("an unknown escape in a string");
        return null;
      }
      run = this.i;
    }
    this.fail("a string that does not end");
    return null;
  }

  private array(): Value | null {
    if (++this.depth > maxDepth) return this.fail("more than " + maxDepth.toString() + " levels of nesting");
    this.i++; // [
    const v = new Value(Kind.Arr);
    const items = new Array<Value>();
    v.items = items;
    this.space();
    if (this.i < this.b.length && this.b[this.i] == 0x5d) {
      this.i++;
      this.depth--;
      return v;
    }
    for (;;) {
      const item = this.value();
      if (item === null) return null;
      items.push(item);
      this.space();
      if (this.i >= this.b.length) return this.fail("an array that does not end");
      const c = this.b[this.i];
      this.i++;
      if (c == 0x5d) break;
      if (c != 0x2c) return this.fail("expected , or ] in an array");
    }
    this.depth--;
    return v;
  }

  private object(): Value | null {
    if (++this.depth > maxDepth) return this.fail("more than " + maxDepth.toString() + " levels of nesting");
    this.i++; // {
    const v = new Value(Kind.Obj);
    const fields = new Map<string, Value>();
    const keys = new Array<string>();
    v.fields = fields;
    v.keys = keys;
    this.space();
    if (this.i < this.b.length && this.b[this.i] == 0x7d) {
      this.i++;
      this.depth--;
      return v;
    }
    for (;;) {
      this.space();
      if (this.i >= this.b.length || this.b[this.i] != 0x22) return this.fail("expected a key in quotes");
      const at = this.i;
      const key = this.readString();
      if (key === null) return null;
      if (fields.has(key)) {
        this.i = at;
        return this.fail("the key " + quote(clip(key, 64)) + " given twice");
      }
      this.space();
      if (this.i >= this.b.length || this.b[this.i] != 0x3a) return this.fail("expected : after a key");
      this.i++;
      const watched = this.depth == 1 && this.watchKey.length > 0 && key == this.watchKey;
      if (watched) {
        this.space();
        this.inWatched = true;
        this.watchStart = this.i;
      }
      const item = this.value();
      if (item === null) return null;
      if (watched) this.inWatched = false;
      fields.set(key, item);
      keys.push(key);
      this.space();
      if (this.i >= this.b.length) return this.fail("an object that does not end");
      const c = this.b[this.i];
      this.i++;
      if (c == 0x7d) break;
      if (c != 0x2c) return this.fail("expected , or } in an object");
    }
    this.depth--;
    return v;
  }
}

// lastError says what was wrong with the input of parse's last null.
export let lastError = "";

// parse reads b as one JSON value; on error it returns null and sets
// lastError.
export function parse(b: Uint8Array): Value | null {
  const p = new Parser(b);
  const v = p.parse();
  lastError = p.error;
  return v;
}

// clip shortens s for a message, so that a huge input is never echoed.
export function clip(s: string, n: i32): string {
  if (s.length <= n) return s;
  return s.substring(0, n) + "…";
}

// concat joins strings in one pass. Array<string>#join is not used: at
// shrinkLevel 1 or more the compiler's standard library joins strings by
// repeated +=, which is quadratic (a 100 KB answer of 12,000 pieces took
// seconds in the plugin runtime).
export function concat(parts: Array<string>): string {
  let total = 0;
  for (let k = 0; k < parts.length; k++) total += parts[k].length;
  const out = changetype<string>(__new(<usize>total << 1, idof<string>()));
  let at: usize = 0;
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    const n = <usize>p.length << 1;
    memory.copy(changetype<usize>(out) + at, changetype<usize>(p), n);
    at += n;
  }
  return out;
}

const hexDigits = "0123456789abcdef";

// quote returns s as a JSON string literal.
export function quote(s: string): string {
  // Most strings need no escape: return them as they are, in quotes.
  let plain = true;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x20 || c == 0x22 || c == 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return '"' + s + '"';
  const out = new Array<string>();
  out.push('"');
  let run = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (k > run) out.push(s.substring(run, k));
    run = k + 1;
    if (c == 0x22) out.push('\\"');
    else if (c == 0x5c) out.push("\\\\");
    else if (c == 0x0a) out.push("\\n");
    else if (c == 0x0d) out.push("\\r");
    else if (c == 0x09) out.push("\\t");
    else out.push("\\u00" + hexDigits.charAt(c >> 4) + hexDigits.charAt(c & 15));
  }
  if (run < s.length) out.push(s.substring(run));
  out.push('"');
  return concat(out);
}

// Writer builds a JSON text piece by piece, placing the commas itself.
export class Writer {
  private parts: Array<string> = new Array<string>();
  // first[k] is true while the k-th open container has no member yet.
  private first: Array<bool> = new Array<bool>();
  private afterKey: bool = false;

  private sep(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const n = this.first.length;
    if (n == 0) return;
    if (this.first[n - 1]) this.first[n - 1] = false;
    else this.parts.push(",");
  }

  beginObject(): Writer {
    this.sep();
    this.parts.push("{");
    this.first.push(true);
    return this;
  }

  endObject(): Writer {
    this.parts.push("}");
    this.first.pop();
    return this;
  }

  beginArray(): Writer {
    this.sep();
    this.parts.push("[");
    this.first.push(true);
    return this;
  }

  endArray(): Writer {
    this.parts.push("]");
    this.first.pop();
    return this;
  }

  key(k: string): Writer {
    this.sep();
    this.parts.push(quote(k));
    this.parts.push(":");
    this.afterKey = true;
    return this;
  }

  str(s: string): Writer {
    this.sep();
    this.parts.push(quote(s));
    return this;
  }

  int(n: i64): Writer {
    this.sep();
    this.parts.push(n.toString());
    return this;
  }

  flag(b: bool): Writer {
    this.sep();
    this.parts.push(b ? "true" : "false");
    return this;
  }

  nil(): Writer {
    this.sep();
    this.parts.push("null");
    return this;
  }

  // raw appends a JSON text as it is (one the caller made).
  raw(json: string): Writer {
    this.sep();
    this.parts.push(json);
    return this;
  }

  toString(): string {
    return concat(this.parts);
  }
}
