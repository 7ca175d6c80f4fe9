// output-format: a railyard guardrail for model answers that must be JSON,
// optionally of a given shape (a JSON Schema).
//
// It runs on the `response` stage only and checks the assistant messages
// of the payload (by default only the last one):
//
// - An answer that is not JSON gives one finding `output-format.json`,
//   category OUTPUT_NOT_JSON, score 1.0, spanning the answer from the
//   start of the JSON text to where parsing failed (at least one
//   character); the verdict's reason says what was wrong there, with its
//   line and byte offset.
// - An answer that is JSON but breaks the schema gives one finding per
//   violation, `output-format.schema`, category OUTPUT_SCHEMA, score 1.0,
//   spanning the offending value in the message; the reason lists each
//   violation's JSON pointer and what was expected.
//
// Any finding makes the verdict `block` (or `flag`, see `action`); an
// answer that passes is allowed. Spans are UTF-8 byte offsets into the
// message content, as the contract says, whatever the JavaScript string
// indices were.
//
// Config (the policy's `[plugins.NAME.config]` table):
//
//   schema        a JSON Schema document, as one JSON string (see
//                 schema.js for the supported keywords). Without it the
//                 plugin checks nothing and allows every answer, saying so
//                 in its reason: an output-format rule needs to know the
//                 format, and prose answers must pass an unconfigured
//                 guardrail.
//   action        "block" (default) or "flag": what a finding does.
//   allow-fences  "true" (default) or "false": accept an answer that is
//                 exactly one Markdown code fence (```json or ```) around
//                 the JSON, with only whitespace outside it.
//   messages      "last" (default) or "all": which assistant messages.
//
// A schema that is not JSON or uses an unsupported keyword, or any other
// bad config value or unknown key, makes `check` return an error naming
// the key and what was expected: the host then applies the policy's
// failure mode.
//
// On a streamed answer the host also checks prefixes of the text; an
// unfinished JSON answer is "not JSON", so this guardrail holds the stream
// until the answer is complete and then decides on the whole answer.

import { config } from 'railyard:plugin/host@0.1.0';
import { Locator, byteOffsets, lineOf, syntaxError, utf8Length } from './json-text.js';
import { SchemaError, compile, pointer, validate } from './schema.js';

const NAME = 'output-format';
const VERSION = '0.1.0';
// At most this many findings per call: enough to fix an answer, and a
// bound on the work an answer with thousands of violations can cause.
const MAX_FINDINGS = 50;
// Violations quoted in the reason; the findings carry all of them.
const MAX_REASONS = 5;
// Tokens the syntax-error scanner may walk to locate an error that
// JSON.parse did not place: about 14 million fuel, inside the base budget.
const MAX_SCAN_TOKENS = 1000;

export function info() {
  return { name: NAME, version: VERSION, stages: ['response'] };
}

export function check(payload) {
  const settings = readConfig(config());
  if (payload.stage !== 'response') {
    return allow(`${NAME}: checks responses only`);
  }
  if (settings.schema === undefined) {
    return allow(`${NAME}: no schema configured, answers are not checked`);
  }
  const answers = [];
  payload.messages.forEach((m, index) => {
    if (m.role === 'assistant') answers.push(index);
  });
  if (answers.length === 0) {
    return allow(`${NAME}: no assistant message to check`);
  }
  const checked = settings.messages === 'last' ? answers.slice(-1) : answers;

  const findings = [];
  const reasons = [];
  for (const index of checked) {
    if (findings.length >= MAX_FINDINGS) break;
    checkAnswer(payload.messages[index].content, index, settings, findings, reasons);
  }
  if (findings.length === 0) {
    const what = checked.length === 1 ? 'the answer is' : `all ${checked.length} answers are`;
    return allow(`${NAME}: ${what} JSON matching the schema`);
  }
  const more = reasons.length > MAX_REASONS ? `; and ${reasons.length - MAX_REASONS} more` : '';
  return {
    action: settings.action,
    reason: `${NAME}: ${reasons.slice(0, MAX_REASONS).join('; ')}${more}`,
    findings,
  };
}

function allow(reason) {
  return { action: 'allow', reason, findings: [] };
}

/** Checks one answer; appends its findings and one reason per finding. */
function checkAnswer(content, index, settings, findings, reasons) {
  const [from, to] = jsonRegion(content, settings.allowFences);
  const text = content.slice(from, to);
  const span = (bytes, start, end) => ({ message: index, start: bytes.get(start), end: bytes.get(end) });

  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const { why, start, end } = notJson(content, from, text, e);
    findings.push(finding('json', 'OUTPUT_NOT_JSON', { message: index, start, end }));
    reasons.push(`message ${index} is not JSON: ${why}`);
    return;
  }
  const violations = [];
  validate(settings.schema, value, violations, MAX_FINDINGS - findings.length);
  // Where each offending value is in the message.
  const locator = new Locator(text);
  const ranges = violations.map((v) => locator.locate(v.path).map((i) => from + i));
  const bytes = byteOffsets(content, ranges.flat());
  violations.forEach((v, n) => {
    findings.push(finding('schema', 'OUTPUT_SCHEMA', span(bytes, ranges[n][0], ranges[n][1])));
    reasons.push(`message ${index} ${pointer(v.path) || '(root)'}: ${v.message}`);
  });
}

function finding(rule, category, span) {
  return { ruleId: `${NAME}.${rule}`, category, score: 1.0, span, replacement: null };
}

/**
 * `[from, to)`: the part of `content` that should be JSON. The content
 * itself, or with fences allowed and the answer being exactly one fence
 * (whitespace around it), the fence's body. Plain string functions only:
 * the content may be a megabyte of prose.
 */
function jsonRegion(content, allowFences) {
  const whole = [0, content.length];
  if (!allowFences) return whole;
  const start = content.length - content.trimStart().length;
  const end = content.trimEnd().length;
  const FENCE = '```';
  if (end - start < 2 * FENCE.length || !content.startsWith(FENCE, start) || !content.endsWith(FENCE, end)) {
    return whole;
  }
  const newline = content.indexOf('\n', start);
  if (newline < 0 || newline >= end - FENCE.length) return whole;
  const language = content.slice(start + FENCE.length, newline).trim().toLowerCase();
  if (language !== '' && language !== 'json') return whole;
  const bodyEnd = end - FENCE.length;
  if (content.indexOf(FENCE, newline) !== bodyEnd) return whole; // more than one fence
  return [newline + 1, bodyEnd];
}

/**
 * What is wrong with `text` (the part of `content` from UTF-16 index
 * `from` that should be JSON) and where, given JSON.parse's error; and
 * the span of the finding: from the start of the JSON text to where
 * parsing failed, at least one character.
 *
 * Every offset costs a pass over the text before it (UTF-8 lengths are
 * counted natively, but at a few hundred fuel a byte), so nothing past the
 * failure is measured: a megabyte of prose fails at its first byte and
 * costs next to nothing.
 *
 * QuickJS's message gives the byte position of most grammar errors; for
 * the rest (a bad token, the text ending early) `syntaxError` finds it,
 * walking token by token. That costs fuel per token, so it gives up after
 * MAX_SCAN_TOKENS and the reason says so.
 */
function notJson(content, from, text, parseError) {
  const start = utf8Length(content.slice(0, from));
  const message = String(parseError && parseError.message);
  let at = start;
  let why;
  const engine = /^(.*) in JSON at position (\d+) \(line (\d+) column \d+\)$/.exec(message);
  if (engine) {
    at = start + Number(engine[2]);
    why = `${engine[1]}, at line ${engine[3]}, byte ${at}`;
  } else {
    const error = syntaxError(text, MAX_SCAN_TOKENS);
    if (error === undefined) {
      why = `${message} (not located: past the first ${MAX_SCAN_TOKENS} JSON tokens)`;
    } else if (error === null) {
      why = message; // valid JSON that the engine still refused
    } else {
      at = start + utf8Length(text.slice(0, error.index));
      const c = text.codePointAt(error.index);
      const found = c === undefined ? 'the end of the text' : JSON.stringify(String.fromCodePoint(c));
      why = `found ${found}, expected ${error.expected}, at line ${lineOf(text, error.index)}, byte ${at}`;
    }
  }
  const end = at > start || text === '' ? at : start + utf8Length(String.fromCodePoint(text.codePointAt(0)));
  return { why, start, end };
}

/** The validated config. Throws a message naming the key on a bad one. */
function readConfig(pairs) {
  const settings = { schema: undefined, action: 'block', allowFences: true, messages: 'last' };
  const seen = new Set();
  for (const [key, value] of pairs) {
    if (seen.has(key)) {
      throw `config key \`${key}\`: given more than once; expected one value`;
    }
    seen.add(key);
    switch (key) {
      case 'schema':
        settings.schema = readSchema(value);
        break;
      case 'action':
        settings.action = oneOf(key, value, ['block', 'flag']);
        break;
      case 'allow-fences':
        settings.allowFences = oneOf(key, value, ['true', 'false']) === 'true';
        break;
      case 'messages':
        settings.messages = oneOf(key, value, ['last', 'all']);
        break;
      default:
        if (key.startsWith('schema.')) {
          throw `config key \`${key}\`: the schema must be one JSON string (schema = '{"type": "object"}'), not a TOML table`;
        }
        throw `config key \`${key}\`: unknown; expected schema, action, allow-fences or messages`;
    }
  }
  return settings;
}

function oneOf(key, value, choices) {
  if (!choices.includes(value)) {
    throw `config key \`${key}\`: expected ${choices.map((c) => `"${c}"`).join(' or ')}, got ${JSON.stringify(value)}`;
  }
  return value;
}

// The compiled schema of the last config seen: an instance kept between
// calls (a policy's `reuse = true`) compiles its schema once.
let cachedSchema = { source: undefined, compiled: undefined };

function readSchema(source) {
  if (cachedSchema.source === source) return cachedSchema.compiled;
  let parsed;
  try {
    parsed = JSON.parse(source);
  } catch (e) {
    const error = syntaxError(source);
    const where = error ? `expected ${error.expected} at line ${lineOf(source, error.index)}` : e.message;
    throw `config key \`schema\`: not valid JSON: ${where}`;
  }
  let compiled;
  try {
    compiled = compile(parsed);
  } catch (e) {
    if (e instanceof SchemaError) throw `config key \`schema\`: ${e.message}`;
    throw e;
  }
  cachedSchema = { source, compiled };
  return compiled;
}
