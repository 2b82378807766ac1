import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cvss3BaseScore, severityLabelOf, summarizeSeverity } from './cvss-score.ts';

test('CVSS 3.x base scores of well-known vectors', () => {
  const cases: [string, number][] = [
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0], // Log4Shell
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', 6.5],
    ['CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
    ['CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N', 1.6],
  ];
  for (const [v, want] of cases) assert.equal(cvss3BaseScore(v), want, v);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L'), undefined);
  assert.equal(cvss3BaseScore('AV:N/AC:L/Au:N/C:P/I:P/A:P'), undefined);
});

test('labels and fallbacks', () => {
  assert.equal(severityLabelOf(9.8), 'CRITICAL');
  assert.equal(severityLabelOf(7.0), 'HIGH');
  assert.equal(severityLabelOf(3.9), 'LOW');
  assert.deepEqual(
    summarizeSeverity([
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N' },
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    ]),
    { score: 9.8, label: 'CRITICAL' },
  );
  assert.deepEqual(summarizeSeverity([{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N' }], 'moderate'), { label: 'MEDIUM' });
  assert.deepEqual(summarizeSeverity([]), {});
});
