// {{name}}: a railyard PII detector that finds e-mail addresses.
//
// For each `@` in a message, the address is extended left over
// [A-Za-z0-9._%+-] (the local part) and right over [A-Za-z0-9.-] (the
// domain, trailing dots dropped). It is reported when the local part is not
// empty and the domain has a dot with a character on each side: a finding
// `{{name}}.email`, category `EMAIL_ADDRESS`, score 0.9, whose span is the
// address's byte range in the message. The host decides what to do with
// findings (redact, block, flag) from the policy.
//
// No config.

const NAME = '{{name}}';
const VERSION = '0.1.0'; // build.sh writes this version into the manifest too

export function info() {
  return { name: NAME, version: VERSION, stages: ['request', 'response'] };
}

// Returning a value is the WIT result's `ok`; throwing (a string or an
// Error) is its `err`.
export function detect(payload) {
  const findings = [];
  payload.messages.forEach((message, index) => {
    for (const [start, end] of emails(message.content)) {
      findings.push({
        ruleId: `${NAME}.email`,
        category: 'EMAIL_ADDRESS',
        score: 0.9,
        span: { message: index, start, end },
        replacement: null,
      });
    }
  });
  return findings;
}

// Byte ranges [start, end) of the e-mail addresses in `text`. The
// character classes are ASCII, so walking UTF-16 units finds the same
// addresses as walking bytes; only the offsets need converting. Linear:
// each extension stops at the next `@`, and `indexOf` (native code) finds
// the `@`s, so a long message without any costs little.
function emails(text) {
  const offset = byteOffsets(text);
  const found = [];
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && isLocal(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isDomain(text.charCodeAt(end))) end++;
    while (end > at + 1 && text[end - 1] === '.') end--;
    const domain = text.slice(at + 1, end);
    const dot = domain.indexOf('.', 1);
    if (start < at && dot !== -1 && dot < domain.length - 1) {
      const byteStart = offset(start);
      found.push([byteStart, byteStart + (end - start)]); // the address is ASCII
    }
  }
  return found;
}

function isAlphanumeric(c) {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

// [A-Za-z0-9._%+-]
function isLocal(c) {
  return isAlphanumeric(c) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d;
}

// [A-Za-z0-9.-]
function isDomain(c) {
  return isAlphanumeric(c) || c === 0x2e || c === 0x2d;
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
