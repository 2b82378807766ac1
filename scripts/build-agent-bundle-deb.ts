import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentBundle } from './build-agent-bundle.ts';

// not imported from build-agent-bundle.ts: that file is also the command, and importing the
// running entry module from itself (through this file) would wait on its own top-level await
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The prefix the packages install into (the systemd unit's paths). */
export const PACKAGE_PREFIX = '/opt/palisade';

/**
 * The newest GLIBC_x.y symbol version any ELF file under `dir` needs (the addons and helpers are
 * built on the build host, so this follows its glibc; the .rpm gets the same from rpmbuild's
 * ELF dependency generator). 2.28 when nothing asks for more.
 */
export function glibcNeeded(dir: string): string {
  let best = [2, 28];
  try {
    execFileSync('objdump', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('objdump (binutils) is needed to find the glibc version the native addons require');
  }
  const elves = execFileSync('find', [dir, '-type', 'f', '(', '-name', '*.node', '-o', '-perm', '-u+x', ')'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const f of elves) {
    let syms: string;
    try {
      syms = execFileSync('objdump', ['-T', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
    } catch {
      continue; // not ELF (the sh launcher)
    }
    for (const m of syms.matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
      const v = [Number(m[1]), Number(m[2])];
      if (v[0]! > best[0]! || (v[0] === best[0] && v[1]! > best[1]!)) best = v;
    }
  }
  return best.join('.');
}

/**
 * The `.deb` of an agent bundle, built with `dpkg-deb`: the bundle under /opt/palisade, the unit
 * in /lib/systemd/system, maintainer scripts from deploy/agent-bundle/deb/. install.sh and
 * uninstall.sh are left out: dpkg installs and removes the files itself.
 */
export function buildAgentDeb(bundle: AgentBundle, outDir: string): string {
  const root = join(outDir, `palisade-agent_${bundle.version}_amd64`);
  rmSync(root, { recursive: true, force: true });
  const prefix = join(root, PACKAGE_PREFIX.slice(1));
  mkdirSync(prefix, { recursive: true });
  for (const part of ['bin', 'lib', 'share']) cpSync(join(bundle.dir, part), join(prefix, part), { recursive: true });
  copyFileSync(join(bundle.dir, 'VERSION'), join(prefix, 'VERSION'));
  const unitDir = join(root, 'lib', 'systemd', 'system');
  mkdirSync(unitDir, { recursive: true });
  copyFileSync(join(bundle.dir, 'systemd', 'palisade-agent.service'), join(unitDir, 'palisade-agent.service'));

  const debian = join(root, 'DEBIAN');
  mkdirSync(debian);
  const installedKb = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', root], { encoding: 'utf8' }).split('\t')[0]);
  writeFileSync(
    join(debian, 'control'),
    [
      'Package: palisade-agent',
      `Version: ${bundle.version}`,
      'Section: admin',
      'Priority: optional',
      'Architecture: amd64',
      'Maintainer: Palisade developers <palisade@localhost>',
      // the bundled JS needs Node.js >= 20.19; the addons need the glibc they were linked against
      `Depends: nodejs (>= 20.19), libc6 (>= ${glibcNeeded(root)})`,
      // the firewall module and IPS transparent mode call nft; the firewall's log rules call dmesg
      'Recommends: nftables, util-linux',
      `Installed-Size: ${installedKb}`,
      'Homepage: https://github.com/palisade/palisade',
      'Description: Palisade workload security agent',
      ' The Palisade agent: protection modules (intrusion prevention, firewall, ...) on this',
      ' host, managed by a Palisade manager. Activate with',
      ' /opt/palisade/bin/palisade agent activate, then systemctl enable --now palisade-agent.',
      '',
    ].join('\n'),
  );
  for (const script of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(repoRoot, 'deploy', 'agent-bundle', 'deb', script), join(debian, script));
    chmodSync(join(debian, script), 0o755);
  }
  const deb = join(outDir, `palisade-agent_${bundle.version}_amd64.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb], { stdio: ['ignore', 'ignore', 'pipe'] });
  rmSync(root, { recursive: true, force: true });
  return deb;
}
