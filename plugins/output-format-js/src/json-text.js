// JSON as text: where a syntax error is, where a value sits, and UTF-8
// byte offsets for both.
//
// JSON.parse (native code) decides whether an answer is JSON and builds
// the value. It says nothing reliable about *where* things are: its error
// messages vary by case and engine, and the values it returns have no
// positions. This module answers those two questions from the text, and
// only runs on the slow paths (a parse failure, a schema violation).
//
// Cost matters more than usual: the plugin runs in QuickJS under the
// host's fuel budget, where each interpreted JavaScript operation costs
// about a thousand WebAssembly instructions and a loop over every
// character of a 1 MiB answer would not fit. So the scanning is done by
// sticky regular expressions that consume whole tokens, and the UTF-8
// conversion by native string functions; no code here loops per
// character over the input.

const WHITESPACE = /[ \t\n\r]*/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
// The longest valid beginning of a string: where a bad one goes wrong.
const STRING_PREFIX = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;
// Everything up to the next character that matters when skipping a
// container: a quote or a bracket.
const PLAIN = /[^"{}[\]]*/y;

/** End of `re`'s match at `at`, or -1. */
function matchEnd(re, text, at) {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : -1;
}

function skipWhitespace(text, at) {
  WHITESPACE.lastIndex = at;
  WHITESPACE.test(text);
  return WHITESPACE.lastIndex;
}

/**
 * The first syntax error in `text` as JSON (RFC 8259), as
 * `{ index, expected }` (`index` a UTF-16 index); null if it is JSON;
 * undefined if it takes more than `maxTokens` tokens to tell. Iterative,
 * so deep nesting cannot overflow the stack.
 */
export function syntaxError(text, maxTokens = Infinity) {
  const closers = []; // the bracket each open container needs, innermost last
  let want = 'value'; // 'value' | 'key' | 'after-value'
  let i = 0;
  for (let tokens = 0; tokens < maxTokens; tokens++) {
    i = skipWhitespace(text, i);
    const c = text.charAt(i);
    if (want === 'value') {
      if (c === '{' || c === '[') {
        closers.push(c === '{' ? '}' : ']');
        i = skipWhitespace(text, i + 1);
        if (text.charAt(i) === closers[closers.length - 1]) {
          closers.pop();
          i += 1;
          want = 'after-value';
        } else {
          want = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      if (c === '"') {
        const end = matchEnd(STRING, text, i);
        if (end < 0) return badString(text, i);
        i = end;
      } else {
        const end = matchEnd(c === 't' || c === 'f' || c === 'n' ? LITERAL : NUMBER, text, i);
        if (end < 0) return { index: i, expected: 'a JSON value' };
        i = end;
      }
      want = 'after-value';
    } else if (want === 'key') {
      if (c !== '"') return { index: i, expected: 'a property name in double quotes' };
      const end = matchEnd(STRING, text, i);
      if (end < 0) return badString(text, i);
      i = skipWhitespace(text, end);
      if (text.charAt(i) !== ':') return { index: i, expected: "':' after the property name" };
      i += 1;
      want = 'value';
    } else if (closers.length === 0) {
      return i === text.length ? null : { index: i, expected: 'nothing after the JSON value' };
    } else {
      const closer = closers[closers.length - 1];
      if (c === ',') {
        i += 1;
        want = closer === '}' ? 'key' : 'value';
      } else if (c === closer) {
        closers.pop();
        i += 1;
      } else {
        return { index: i, expected: `',' or '${closer}'` };
      }
    }
  }
  return undefined;
}

function badString(text, start) {
  const at = matchEnd(STRING_PREFIX, text, start);
  const c = text.charAt(at);
  const expected =
    c === '' ? 'the closing \'"\' of the string'
    : c === '\\' ? 'a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)'
    : 'no control characters inside a string (escape them)';
  return { index: at, expected };
}

/** Index just after the JSON value that starts at `at` in valid JSON. */
function skipValue(text, at) {
  const c = text.charAt(at);
  if (c === '"') return matchEnd(STRING, text, at);
  if (c !== '{' && c !== '[') {
    return matchEnd(c === 't' || c === 'f' || c === 'n' ? LITERAL : NUMBER, text, at);
  }
  let depth = 0;
  let i = at;
  for (;;) {
    i = matchEnd(PLAIN, text, i);
    const b = text.charAt(i);
    if (b === '"') {
      i = matchEnd(STRING, text, i);
      continue;
    }
    depth += b === '{' || b === '[' ? 1 : -1;
    i += 1;
    if (depth === 0) return i;
  }
}

/**
 * Finds values in `text`, which must be valid JSON, by path (object keys
 * and array indices), as `[start, end)` UTF-16 indices. It remembers the
 * element positions of each array and the members of each object it has
 * walked, so locating many values costs about one pass over the part of
 * the text they are in, not one pass each. When an object repeats a key,
 * the last one counts, as in JSON.parse.
 */
export class Locator {
  constructor(text) {
    this.text = text;
    this.arrays = new Map(); // '[' position -> element start positions found so far
    this.objects = new Map(); // '{' position -> Map of key -> value start position
  }

  locate(path) {
    let i = skipWhitespace(this.text, 0);
    for (const step of path) {
      i = this.text.charAt(i) === '[' ? this.element(i, step) : this.member(i, step);
    }
    return [i, skipValue(this.text, i)];
  }

  element(open, n) {
    const text = this.text;
    let starts = this.arrays.get(open);
    if (starts === undefined) {
      starts = [skipWhitespace(text, open + 1)];
      this.arrays.set(open, starts);
    }
    while (starts.length <= n) {
      const comma = skipWhitespace(text, skipValue(text, starts[starts.length - 1]));
      starts.push(skipWhitespace(text, comma + 1));
    }
    return starts[n];
  }

  member(open, name) {
    const text = this.text;
    let members = this.objects.get(open);
    if (members === undefined) {
      members = new Map();
      this.objects.set(open, members);
      let i = skipWhitespace(text, open + 1);
      while (text.charAt(i) === '"') {
        const keyEnd = matchEnd(STRING, text, i);
        const key = JSON.parse(text.slice(i, keyEnd));
        i = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1); // past the ':'
        members.set(key, i);
        i = skipWhitespace(text, skipValue(text, i));
        if (text.charAt(i) !== ',') break; // the closing '}'
        i = skipWhitespace(text, i + 1);
      }
    }
    return members.get(name);
  }
}

/** 1-based line number of UTF-16 index `index` in `text`. */
export function lineOf(text, index) {
  // split on a one-character string is the cheapest native scan QuickJS has.
  return text.slice(0, index).split('\n').length;
}

/** UTF-8 length of `s`: encodeURIComponent writes each UTF-8 byte as %XX,
 * and unescape turns each back into one character. */
export function utf8Length(s) {
  return unescape(encodeURIComponent(s)).length;
}

/**
 * UTF-8 byte offsets of some UTF-16 indices into `text`, as a Map from
 * index to offset. Spans are byte offsets; JavaScript strings index by
 * UTF-16 unit. One pass over the text, however many indices.
 */
export function byteOffsets(text, indices) {
  const offsets = new Map();
  let index = 0;
  let bytes = 0;
  for (const next of [...new Set(indices)].sort((a, b) => a - b)) {
    bytes += utf8Length(text.slice(index, next));
    index = next;
    offsets.set(next, bytes);
  }
  return offsets;
}
