import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAssignment, setPath, unsetPath } from './setting-path.ts';

test('assignments parse JSON values and keep other text as strings', () => {
  assert.deepEqual(parseAssignment('heartbeatSeconds=30'), { path: ['heartbeatSeconds'], value: 30 });
  assert.deepEqual(parseAssignment('modules.ips.mode=prevent'), { path: ['modules', 'ips', 'mode'], value: 'prevent' });
  assert.deepEqual(parseAssignment('modules.ips.settings.sets=["crs"]').value, ['crs']);
  assert.throws(() => parseAssignment('novalue'));
  assert.throws(() => parseAssignment('a..b=1'));
});

test('set creates parents, unset removes empty parents so the value is inherited', () => {
  const s: Record<string, unknown> = {};
  setPath(s, ['modules', 'ips', 'mode'], 'prevent');
  setPath(s, ['heartbeatSeconds'], 10);
  assert.deepEqual(s, { modules: { ips: { mode: 'prevent' } }, heartbeatSeconds: 10 });
  unsetPath(s, ['modules', 'ips', 'mode']);
  assert.deepEqual(s, { heartbeatSeconds: 10 });
});
