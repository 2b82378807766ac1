import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAffectedByRange, prepareRange, fixedVersionFor } from './affected-range.ts';
import { compareDpkgVersions } from './version/dpkg-version.ts';
import { compareSemverVersions } from './version/semver-version.ts';

const semver = (events: object[]) => prepareRange(events, compareSemverVersions);

test('introduced/fixed: half-open interval', () => {
  const r = semver([{ introduced: '1.0.0' }, { fixed: '1.2.0' }]);
  assert.equal(isAffectedByRange(r, '0.9.9'), false);
  assert.equal(isAffectedByRange(r, '1.0.0'), true);
  assert.equal(isAffectedByRange(r, '1.1.9'), true);
  assert.equal(isAffectedByRange(r, '1.2.0'), false);
  assert.equal(isAffectedByRange(r, '2.0.0'), false);
  assert.equal(fixedVersionFor(r, '1.1.0'), '1.2.0');
});

test('introduced "0" covers everything before the fix, even versions that sort below "0"', () => {
  const r = semver([{ introduced: '0' }, { fixed: '1.0.0' }]);
  assert.equal(isAffectedByRange(r, '0.0.0-alpha'), true);
  assert.equal(isAffectedByRange(r, '1.0.0'), false);
});

test('last_affected is inclusive', () => {
  const r = semver([{ introduced: '3.0.0-alpha1' }, { last_affected: '3.0.0-beta3' }]);
  assert.equal(isAffectedByRange(r, '3.0.0-beta3'), true);
  assert.equal(isAffectedByRange(r, '3.0.0-beta4'), false);
  assert.equal(isAffectedByRange(r, '3.0.0'), false);
});

test('several introduced/fixed pairs, listed out of order, are evaluated after sorting', () => {
  const r = semver([{ fixed: '3.2.4' }, { introduced: '3.0' }, { fixed: '2.2.24' }, { introduced: '3.2' }, { introduced: '0' }, { fixed: '3.1.12' }]);
  assert.equal(isAffectedByRange(r, '2.2.23'), true);
  assert.equal(isAffectedByRange(r, '2.2.24'), false);
  assert.equal(isAffectedByRange(r, '2.9.0'), false);
  assert.equal(isAffectedByRange(r, '3.0.5'), true);
  assert.equal(isAffectedByRange(r, '3.1.12'), false);
  assert.equal(isAffectedByRange(r, '3.2.3'), true);
  assert.equal(isAffectedByRange(r, '3.2.4'), false);
  assert.equal(fixedVersionFor(r, '3.0.5'), '3.1.12');
});

test('limit: versions at or past every limit are outside the range', () => {
  const r = semver([{ introduced: '1.0.0' }, { limit: '1.5.0' }]);
  assert.equal(isAffectedByRange(r, '1.4.0'), true);
  assert.equal(isAffectedByRange(r, '1.5.0'), false);
  assert.equal(isAffectedByRange(semver([{ introduced: '1.0.0' }, { limit: '*' }]), '9.0.0'), true);
});

test('a range without any introduced event affects nothing', () => {
  assert.equal(isAffectedByRange(semver([{ fixed: '1.0.0' }]), '0.5.0'), false);
});

test('the range uses the ordering it was prepared with (dpkg tilde)', () => {
  const r = prepareRange([{ introduced: '0' }, { fixed: '1.1.0l-1~deb9u6' }], compareDpkgVersions);
  assert.equal(isAffectedByRange(r, '1.1.0l-1~deb9u5'), true);
  assert.equal(isAffectedByRange(r, '1.1.0l-1~deb9u6'), false);
  assert.equal(isAffectedByRange(r, '1.1.0l-1'), false);
});
