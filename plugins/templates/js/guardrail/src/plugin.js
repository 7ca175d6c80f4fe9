// {{name}}: a railyard guardrail that blocks messages containing banned words.
//
// Every message of the payload is searched for every banned word, ignoring
// ASCII case. Each hit is a finding (`{{name}}.banned`, category
// `BANNED_WORD`, score 1.0) whose span is the hit's byte range in that
// message. Any hit blocks the payload with the reason "banned word".
//
// Config (from the policy's `[plugins.{{name}}.config]` table or the
// manifest's `[config]`):
//
//   banned = ["forbidden-word", "another one"]   # default: ["forbidden-word"]
//
// An array arrives from the host as one ["banned", word] pair per element.

import { config } from 'railyard:plugin/host@0.1.0';

const NAME = '{{name}}';
const VERSION = '0.1.0'; // build.sh writes this version into the manifest too
// Banned when the config names none.
const DEFAULT_BANNED = 'forbidden-word';

export function info() {
  return { name: NAME, version: VERSION, stages: ['request', 'response'] };
}

// Returning a value is the WIT result's `ok`; throwing (a string or an
// Error) is its `err`, which the host records before applying the policy's
// failure mode.
export function check(payload) {
  let banned = config()
    .filter(([key]) => key === 'banned')
    .map(([, word]) => word);
  if (banned.length === 0) banned = [DEFAULT_BANNED];

  // One RegExp per word, built once per call, not once per message (an
  // empty word matches nothing); and one for any of them, so that a
  // message without any banned word costs a single native search.
  const patterns = banned.filter((word) => word !== '').map(asciiCaseInsensitive);
  const any = new RegExp(patterns.map((p) => p.source).join('|') || '(?!)');

  const findings = [];
  payload.messages.forEach((message, index) => {
    if (!any.test(message.content)) return;
    for (const pattern of patterns) {
      for (const [start, end] of hits(message.content, pattern)) {
        findings.push({
          ruleId: `${NAME}.banned`,
          category: 'BANNED_WORD',
          score: 1.0,
          span: { message: index, start, end },
          replacement: null,
        });
      }
    }
  });

  if (findings.length === 0) {
    return { action: 'allow', reason: '', findings };
  }
  return { action: 'block', reason: 'banned word', findings };
}

// A RegExp that finds `word` ignoring ASCII case: each ASCII letter
// becomes a class like [wW], everything else matches as itself. (The `i`
// flag would fold other scripts too.)
//
// The search is native code: QuickJS interprets JavaScript slowly (a loop
// over every character of a 1 MiB message would not fit the host's fuel
// budget) but runs RegExp, indexOf and friends compiled.
function asciiCaseInsensitive(word) {
  const pattern = word.replace(/[A-Za-z]|[.*+?^${}()|[\]\\]/g, (c) =>
    /[A-Za-z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : `\\${c}`,
  );
  return new RegExp(pattern, 'g');
}

// Byte ranges [start, end) of the non-overlapping matches of `pattern` in
// `text`.
function hits(text, pattern) {
  const found = [];
  let offset;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    offset = offset || byteOffsets(text);
    const start = offset(match.index);
    found.push([start, start + utf8Length(match[0])]);
  }
  return found;
}

// Spans are UTF-8 byte offsets; JavaScript strings index by UTF-16 unit.
// This turns increasing string indices into byte offsets, in one pass.
function byteOffsets(text) {
  let index = 0;
  let bytes = 0;
  return (to) => {
    bytes += utf8Length(text.slice(index, to));
    index = to;
    return bytes;
  };
}

// encodeURIComponent writes each UTF-8 byte as %XX; unescape turns each
// back into one character: what is left is as long as the UTF-8 bytes.
function utf8Length(s) {
  return unescape(encodeURIComponent(s)).length;
}
