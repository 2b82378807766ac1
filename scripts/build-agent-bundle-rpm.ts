import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentBundle } from './build-agent-bundle.ts';

// not imported from build-agent-bundle.ts: that file is also the command (see build-agent-bundle-deb.ts)
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export const RPM_SPEC = join(repoRoot, 'deploy', 'agent-bundle', 'palisade-agent.spec');
/** systemd macros for hosts without systemd-rpm-macros (Debian): see the file's header. */
export const RPM_SYSTEMD_FALLBACK = join(repoRoot, 'deploy', 'rpm', 'macros.systemd-fallback');

/** Whether `rpmbuild` can run here (the `rpm` package on Debian, `rpm-build` on Fedora/RHEL). */
export function rpmbuildAvailable(): boolean {
  try {
    execFileSync('rpmbuild', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True where rpm has no systemd macros of its own (Debian): the build loads RPM_SYSTEMD_FALLBACK. */
export function usesSystemdFallback(): boolean {
  return execFileSync('rpm', ['--eval', '%{?_unitdir}'], { encoding: 'utf8' }).trim() === '';
}

/**
 * The `.rpm` of an agent bundle: `rpmbuild -bb` of deploy/agent-bundle/palisade-agent.spec with
 * the bundle's tarball as Source0, in a private _topdir under `outDir` (removed afterwards).
 * Where the build host has no systemd macros (Debian) the fallback file supplies them, and
 * `--nodeps` skips the BuildRequires check, which only asks for those macros. Returns the path
 * of `palisade-agent-VERSION-1.x86_64.rpm` in `outDir`.
 */
export function buildAgentRpm(bundle: AgentBundle, outDir: string): string {
  const top = join(outDir, `rpmbuild-${bundle.version}`);
  rmSync(top, { recursive: true, force: true });
  const sources = join(top, 'SOURCES');
  mkdirSync(sources, { recursive: true });
  copyFileSync(bundle.tarball, join(sources, `palisade-agent-${bundle.version}-linux-x64.tar.gz`));
  const args = [
    '-bb',
    ...(usesSystemdFallback() ? ['--nodeps', '--load', RPM_SYSTEMD_FALLBACK] : []),
    '--define',
    `_topdir ${top}`,
    '--define',
    `_sourcedir ${sources}`,
    // scriptlets and the build run from here, not from a shared /var/tmp
    '--define',
    `_tmppath ${join(top, 'tmp')}`,
    RPM_SPEC,
  ];
  mkdirSync(join(top, 'tmp'));
  try {
    execFileSync('rpmbuild', args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`rpmbuild failed:\n${String(err.stderr ?? '').slice(-4000)}${String(err.stdout ?? '').slice(-2000)}`);
  }
  const built = join(top, 'RPMS', 'x86_64');
  const name = readdirSync(built).find((f) => f.startsWith(`palisade-agent-${bundle.version}-`) && f.endsWith('.x86_64.rpm'));
  if (!name) throw new Error(`rpmbuild wrote no palisade-agent-${bundle.version} package in ${built}`);
  const rpm = join(outDir, name);
  copyFileSync(join(built, name), rpm);
  rmSync(top, { recursive: true, force: true });
  return rpm;
}
