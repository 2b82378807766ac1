import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APP_CONTROL_MODES, enforcementFor } from './enforcement-mode.ts';
import type { Verdict } from './app-control-policy.ts';

test('the mode table', () => {
  const verdicts: Verdict[] = ['allow', 'unknown', 'block'];
  const table = Object.fromEntries(
    APP_CONTROL_MODES.map((m) => [
      m,
      verdicts.map((v) => (enforcementFor(m, v, false).deny ? 'D' : enforcementFor(m, v, false).report ? 'R' : '-')).join(''),
    ]),
  );
  assert.deepEqual(table, { off: '---', detect: '-RR', 'block-unrecognized': '-DD', 'block-explicit': '-RD' });
});

test('maintenance learns unknown software but keeps explicit blocks', () => {
  assert.deepEqual(enforcementFor('block-unrecognized', 'unknown', true), { deny: false, report: false, learn: true });
  assert.equal(enforcementFor('block-unrecognized', 'block', true).deny, true);
  assert.equal(enforcementFor('off', 'unknown', true).learn, false);
});
