/** A problem met during a scan. Scans never abort on these; they are reported with the result. */
export interface ScanIssue {
  path: string;
  /** `unreadable` (permission), `vanished` (gone between listing and reading), `error` (anything else). */
  kind: 'unreadable' | 'vanished' | 'error' | 'missing-source';
  code: string;
  message: string;
}

export function issueFromError(path: string, err: unknown, what: string): ScanIssue {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
  const kind = code === 'ENOENT' || code === 'ENOTDIR' ? 'vanished' : code === 'EACCES' || code === 'EPERM' ? 'unreadable' : 'error';
  return { path, kind, code, message: `${what}: ${(err as Error)?.message ?? String(err)}` };
}
