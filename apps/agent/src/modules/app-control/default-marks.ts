import { readFileSync } from 'node:fs';
import type { GateMarks } from './gate-process.ts';

/** Kernel and pseudo filesystems: no program lives there, and marking them costs every open. */
const PSEUDO = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'cgroup',
  'cgroup2',
  'securityfs',
  'debugfs',
  'tracefs',
  'bpf',
  'mqueue',
  'hugetlbfs',
  'pstore',
  'configfs',
  'fusectl',
  'binfmt_misc',
  'autofs',
  'efivarfs',
  'rpc_pipefs',
  'nsfs',
  'ramfs',
  'selinuxfs',
]);

/**
 * Every mounted filesystem a program could be dropped on and run from (/, /tmp, /dev/shm, /home,
 * overlay roots of containers...): dropped software is exactly what application control is for.
 */
export function defaultMarks(mountsText = readFileSync('/proc/self/mounts', 'utf8')): GateMarks {
  const mounts: string[] = [];
  for (const line of mountsText.split('\n')) {
    const [, target, fstype] = line.split(' ');
    if (!target || !fstype || PSEUDO.has(fstype)) continue;
    // /proc/mounts escapes spaces and friends as octal.
    const path = target.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (!mounts.includes(path)) mounts.push(path);
  }
  return { mounts, filesystems: [] };
}
