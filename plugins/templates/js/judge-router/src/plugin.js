// {{name}}: a railyard judge router that asks for a judge when another
// plugin is fairly sure it found something.
//
// Judge routers run last in a stage and see every finding the stage's
// other plugins produced. If any finding scores 0.5 or more, this one asks
// the host to send the payload to one judge, in the background (the caller
// is answered at once; the judgement is logged later), with the reason
// "finding <category> scored <score>" for the first such finding.
// Otherwise it asks for nothing.
//
// Config (from the policy's `[plugins.{{name}}.config]` table or the
// manifest's `[config]`):
//
//   judge = "privacy-judge"   # which judge, as the host names it; default "default"
//   rubric = "pii-leak"       # what it should judge by; default "default"

import { config } from 'railyard:plugin/host@0.1.0';

const NAME = '{{name}}';
const VERSION = '0.1.0'; // build.sh writes this version into the manifest too
// A finding at least this sure triggers the judge.
const MIN_SCORE = 0.5;

export function info() {
  return { name: NAME, version: VERSION, stages: ['request', 'response'] };
}

// Returning a value is the WIT result's `ok`; throwing (a string or an
// Error) is its `err`.
export function route(payload, findings) {
  const sure = findings.find((f) => f.score >= MIN_SCORE);
  if (sure === undefined) return [];
  const settings = config();
  // The last value wins when a key is given more than once.
  const setting = (key) => {
    let value = 'default';
    for (const [k, v] of settings) if (k === key) value = v;
    return value;
  };
  return [
    {
      judge: setting('judge'),
      rubric: setting('rubric'),
      mode: 'background',
      priority: 0,
      sampleRate: 1.0,
      reason: `finding ${sure.category} scored ${formatScore(sure.score)}`,
    },
  ];
}

// A score is an f32, which arrives as the nearest double (0.9 becomes
// 0.8999999761581421): six decimals without trailing zeros print "0.9".
function formatScore(score) {
  return String(Number(score.toFixed(6)));
}
