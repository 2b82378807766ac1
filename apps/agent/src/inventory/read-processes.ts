import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { RunningProcess } from '@palisade/vuln';

/**
 * Lists running processes from a procfs, one entry per executable (kernel threads, which have
 * no exe, are listed by name once). Processes that exit while being read are skipped.
 */
export async function readProcesses(procDir: string): Promise<RunningProcess[]> {
  let pids: string[];
  try {
    pids = (await readdir(procDir)).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
  } catch {
    return [];
  }
  const seen = new Set<string>();
  const out: RunningProcess[] = [];
  for (const pid of pids) {
    const dir = path.join(procDir, pid);
    const name = (await readFile(path.join(dir, 'comm'), 'utf8').catch(() => undefined))?.trim();
    if (name === undefined) continue;
    const exe = await readlink(path.join(dir, 'exe')).catch(() => undefined);
    const key = exe ?? `[${name}]`;
    if (seen.has(key)) continue;
    seen.add(key);
    const status = await readFile(path.join(dir, 'status'), 'utf8').catch(() => '');
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    const p: RunningProcess = { pid: Number(pid), name };
    if (exe) p.exe = exe.replace(/ \(deleted\)$/, '');
    if (uid !== undefined) p.uid = Number(uid);
    out.push(p);
  }
  return out;
}
