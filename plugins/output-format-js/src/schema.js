// The JSON Schema subset output-format supports: compiled once from the
// config, then applied to parsed answers.
//
// Supported keywords (JSON Schema 2020-12 meanings):
//
//   type                  "null" "boolean" "object" "array" "number"
//                         "string" "integer", or an array of them
//   properties            schemas for named properties
//   required              property names that must be present
//   additionalProperties  true or false only (false: no other properties)
//   items                 one schema every array element must match
//   enum, const           allowed values (deep equality)
//   minLength, maxLength  string length in characters (code points)
//   minimum, maximum      inclusive number bounds
//   minItems, maxItems    array length
//   pattern               a JavaScript RegExp (Unicode mode), unanchored
//
// `true` and `false` are schemas too (anything; nothing). The annotations
// `$schema`, `$id`, `$comment`, `title`, `description`, `default` and
// `examples` are accepted and ignored. Any other keyword ($ref, oneOf,
// format, ...) is refused when the schema is read, rather than silently
// not checked.

const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'];
const ANNOTATIONS = ['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples'];
const KEYWORDS = [
  'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const',
  'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'pattern',
];

/** A schema the config cannot use; `pointer` says where in it. */
export class SchemaError extends Error {
  constructor(pointer, message) {
    super(`${pointer === '' ? 'at the top' : `at ${pointer}`}: ${message}`);
  }
}

/** JSON pointer (RFC 6901) of a path of keys and indices. */
export function pointer(path) {
  return path.map((step) => '/' + escapeStep(String(step))).join('');
}

function escapeStep(step) {
  return step.replace(/~/g, '~0').replace(/\//g, '~1');
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v) => Number.isInteger(v) && v >= 0;

/**
 * Checks a parsed schema and compiles it: booleans stay booleans, objects
 * become `{ types, properties, required, ... }` with patterns as RegExps.
 * Throws SchemaError.
 */
export function compile(schema, at = '') {
  if (schema === true || schema === false) return schema;
  if (!isObject(schema)) {
    throw new SchemaError(at, `expected a schema (an object, true or false), got ${JSON.stringify(schema)}`);
  }
  const node = {};
  for (const key of Object.keys(schema)) {
    const value = schema[key];
    const here = `${at}/${escapeStep(key)}`;
    const fail = (message) => {
      throw new SchemaError(here, message);
    };
    switch (key) {
      case 'type': {
        const types = Array.isArray(value) ? value : [value];
        if (types.length === 0 || !types.every((t) => TYPES.includes(t))) {
          fail(`expected one of ${TYPES.join(', ')} or a non-empty array of them, got ${JSON.stringify(value)}`);
        }
        node.types = types;
        break;
      }
      case 'properties':
        if (!isObject(value)) fail('expected an object of schemas');
        // A prototype-less object: looking a name up finds only these.
        node.properties = Object.create(null);
        node.propertyList = [];
        for (const name of Object.keys(value)) {
          const property = compile(value[name], `${here}/${escapeStep(name)}`);
          node.properties[name] = property;
          // Names every object inherits (toString, __proto__) need an
          // own-property test; for the rest, `value[name] !== undefined`
          // is that test (JSON has no undefined) and much cheaper.
          if (property !== true) node.propertyList.push({ name, property, inherited: name in Object.prototype });
        }
        break;
      case 'required':
        if (!Array.isArray(value) || !value.every((n) => typeof n === 'string')) fail('expected an array of property names');
        node.required = value;
        break;
      case 'additionalProperties':
        if (typeof value !== 'boolean') fail('only true or false is supported');
        node.additionalProperties = value;
        break;
      case 'items':
        if (Array.isArray(value)) fail('only one schema for every element is supported (not an array of schemas)');
        node.items = compile(value, here);
        break;
      case 'enum':
        if (!Array.isArray(value) || value.length === 0) fail('expected a non-empty array of values');
        node.enum = value;
        // Without objects or arrays in it, strict equality (includes) will do.
        node.enumOfScalars = value.every((v) => v === null || typeof v !== 'object');
        break;
      case 'const':
        node.const = { value };
        break;
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
        if (!isCount(value)) fail(`expected a whole number of 0 or more, got ${JSON.stringify(value)}`);
        node[key] = value;
        break;
      case 'minimum':
      case 'maximum':
        if (typeof value !== 'number') fail(`expected a number, got ${JSON.stringify(value)}`);
        node[key] = value;
        break;
      case 'pattern':
        if (typeof value !== 'string') fail('expected a regular expression as a string');
        try {
          node.pattern = new RegExp(value, 'u');
        } catch (e) {
          fail(`not a valid JavaScript regular expression: ${e.message}`);
        }
        break;
      default:
        if (!ANNOTATIONS.includes(key)) {
          fail(`unsupported keyword \`${key}\`; supported: ${KEYWORDS.join(', ')}`);
        }
    }
  }
  // A schema without checks accepts anything; `true` skips visiting.
  return Object.keys(node).length === 0 ? true : node;
}

/** The JSON type name of a parsed value ("integer" for whole numbers). */
function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value; // boolean, string, object
}

function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal(a[k], b[k]));
}

/** A short rendering of a value for a reason: JSON, cut at 40 characters. */
function show(value) {
  const s = JSON.stringify(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * Appends `{ path, message }` for each way `value` breaks `node` to `out`,
 * until it holds `limit` of them. Only as deep as the schema goes: parts
 * of the answer the schema says nothing about are not visited.
 *
 * This is the per-value hot path: an answer can hold thousands of values,
 * and in QuickJS each interpreted operation costs on the order of a
 * thousand WebAssembly instructions of fuel. So it shares one path array
 * (indexed by depth, copied only into a report), creates no closures, and
 * prefers native calls (includes, RegExp.test) to JavaScript loops.
 */
export function validate(node, value, out, limit) {
  visit(node, value, { path: [], out, limit }, 0);
}

function visit(node, value, run, depth) {
  if (node === true || run.out.length >= run.limit) return;
  if (node === false) {
    report(run, depth, 'no value is allowed here (schema false)');
    return;
  }
  if (node.types !== undefined && !node.types.some(hasTypeOf, value)) {
    // The other keywords would only repeat that the type is wrong.
    report(run, depth, `expected ${node.types.join(' or ')}, got ${typeOf(value)} ${show(value)}`);
    return;
  }
  if (node.const !== undefined && !equal(value, node.const.value)) {
    report(run, depth, `expected the constant ${show(node.const.value)}, got ${show(value)}`);
  }
  if (node.enum !== undefined) {
    const scalar = value === null || typeof value !== 'object';
    const allowed = scalar && node.enumOfScalars ? node.enum.includes(value) : node.enum.some(equalTo, value);
    if (!allowed) report(run, depth, `expected one of ${show(node.enum)}, got ${show(value)}`);
  }
  const type = typeof value;
  if (type === 'string') {
    if (node.minLength !== undefined || node.maxLength !== undefined) {
      // value.length counts UTF-16 units: a character is one or two, so
      // the exact count is needed only when the bounds are close.
      const units = value.length;
      const min = node.minLength;
      const max = node.maxLength;
      if ((min !== undefined && units < 2 * min) || (max !== undefined && units > max)) {
        const length = characterCount(value);
        if (length < min) report(run, depth, `expected at least ${min} characters, got ${length}`);
        if (length > max) report(run, depth, `expected at most ${max} characters, got ${length}`);
      }
    }
    if (node.pattern !== undefined && !node.pattern.test(value)) {
      report(run, depth, `expected a string matching /${node.pattern.source}/, got ${show(value)}`);
    }
  } else if (type === 'number') {
    if (value < node.minimum) report(run, depth, `expected a number of at least ${node.minimum}, got ${value}`);
    if (value > node.maximum) report(run, depth, `expected a number of at most ${node.maximum}, got ${value}`);
  } else if (Array.isArray(value)) {
    if (value.length < node.minItems) report(run, depth, `expected at least ${node.minItems} items, got ${value.length}`);
    if (value.length > node.maxItems) report(run, depth, `expected at most ${node.maxItems} items, got ${value.length}`);
    const items = node.items;
    if (items !== undefined && items !== true) {
      const path = run.path;
      for (let i = 0; i < value.length; i++) {
        path[depth] = i;
        visit(items, value[i], run, depth + 1);
      }
    }
  } else if (value !== null) {
    if (node.required !== undefined) {
      for (const name of node.required) {
        if (!hasOwn.call(value, name)) report(run, depth, `missing the required property ${JSON.stringify(name)}`);
      }
    }
    const path = run.path;
    if (node.propertyList !== undefined) {
      for (const { name, property, inherited } of node.propertyList) {
        if (inherited ? hasOwn.call(value, name) : value[name] !== undefined) {
          path[depth] = name;
          visit(property, value[name], run, depth + 1);
        }
      }
    }
    if (node.additionalProperties === false) {
      const properties = node.properties;
      for (const name in value) {
        if (properties === undefined || properties[name] === undefined) {
          path[depth] = name;
          report(run, depth + 1, `property ${JSON.stringify(name)} is not allowed (additionalProperties is false)`);
        }
      }
    }
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

function report(run, depth, message) {
  if (run.out.length < run.limit) run.out.push({ path: run.path.slice(0, depth), message });
}

/** Characters (code points) in `s`: UTF-16 units less surrogate pairs. */
function characterCount(s) {
  return s.length - (s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g) || []).length;
}

// `this` is the value: Array.prototype.some passes it as thisArg, which
// saves a closure per call.
function hasTypeOf(type) {
  const actual = typeOf(this);
  return actual === type || (type === 'number' && actual === 'integer');
}

function equalTo(allowed) {
  return equal(allowed, this);
}
