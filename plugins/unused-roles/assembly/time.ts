// Dates as the catalogue writes them (RFC 3339, e.g.
// "2025-03-01T09:30:00Z", with an optional fraction and offset), as seconds
// since 1970, and back.

export const daySeconds: i64 = 86400;

// noTime is what parseTime returns for text that is not such a date.
export const noTime: i64 = i64.MIN_VALUE;

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's algorithm).
function daysFromCivil(y: i64, m: i64, d: i64): i64 {
  if (m <= 2) y -= 1;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const mp = (m + 9) % 12;
  const doy = (153 * mp + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

function num(s: string, at: i32, n: i32): i32 {
  let v = 0;
  for (let k = at; k < at + n; k++) {
    const c = s.charCodeAt(k) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

// parseTime reads an RFC 3339 date-time; noTime when it is not one.
export function parseTime(s: string): i64 {
  if (s.length < 20) return noTime;
  if (s.charAt(4) != "-" || s.charAt(7) != "-" || (s.charAt(10) != "T" && s.charAt(10) != "t") || s.charAt(13) != ":" || s.charAt(16) != ":") return noTime;
  const y = num(s, 0, 4);
  const mo = num(s, 5, 2);
  const d = num(s, 8, 2);
  const h = num(s, 11, 2);
  const mi = num(s, 14, 2);
  const sec = num(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return noTime;
  let k = 19;
  if (s.charAt(k) == ".") {
    k++;
    const start = k;
    while (k < s.length && s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x39) k++;
    if (k == start) return noTime;
  }
  let offset: i64 = 0;
  if (k < s.length && (s.charAt(k) == "Z" || s.charAt(k) == "z")) {
    k++;
  } else if (k + 6 == s.length && (s.charAt(k) == "+" || s.charAt(k) == "-") && s.charAt(k + 3) == ":") {
    const oh = num(s, k + 1, 2);
    const om = num(s, k + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return noTime;
    offset = <i64>(oh * 3600 + om * 60);
    if (s.charAt(k) == "-") offset = -offset;
    k += 6;
  } else {
    return noTime;
  }
  if (k != s.length) return noTime;
  const days = daysFromCivil(<i64>y, <i64>mo, <i64>d);
  return days * daySeconds + <i64>(h * 3600 + mi * 60 + sec) - offset;
}

function pad(n: i64, w: i32): string {
  let s = n.toString();
  while (s.length < w) s = "0" + s;
  return s;
}

// formatTime writes seconds since 1970 as RFC 3339 in UTC.
export function formatTime(t: i64): string {
  let days = t / daySeconds;
  let rem = t % daySeconds;
  if (rem < 0) {
    rem += daySeconds;
    days -= 1;
  }
  // civil_from_days (Howard Hinnant).
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(rem / 3600, 2) + ":" + pad((rem / 60) % 60, 2) + ":" + pad(rem % 60, 2) + "Z";
}
