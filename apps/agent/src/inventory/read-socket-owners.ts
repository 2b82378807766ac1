import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export interface SocketOwner {
  pid: number;
  process: string;
}

/**
 * Maps socket inodes to the process holding them, by reading `/proc/<pid>/fd/*` links
 * (`socket:[inode]`). Processes that vanish or are not readable are skipped silently: the
 * map is a best-effort annotation of the port list, never a reason to fail collection.
 */
export async function readSocketOwners(procDir: string, wanted: ReadonlySet<number>): Promise<Map<number, SocketOwner>> {
  const owners = new Map<number, SocketOwner>();
  if (wanted.size === 0) return owners;
  let pids: string[];
  try {
    pids = (await readdir(procDir)).filter((n) => /^\d+$/.test(n));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    if (owners.size === wanted.size) break;
    const fdDir = path.join(procDir, pid, 'fd');
    let fds: string[];
    try {
      fds = await readdir(fdDir);
    } catch {
      continue;
    }
    let name: string | undefined;
    for (const fd of fds) {
      let target: string;
      try {
        target = await readlink(path.join(fdDir, fd));
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m) continue;
      const inode = Number(m[1]);
      if (!wanted.has(inode) || owners.has(inode)) continue;
      name ??= (await readFile(path.join(procDir, pid, 'comm'), 'utf8').catch(() => '')).trim();
      owners.set(inode, { pid: Number(pid), process: name });
    }
  }
  return owners;
}
