import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import {
  cronEntities,
  DEFAULT_SOURCES,
  dpkgPackageEntities,
  type Entity,
  groupEntities,
  type IntegrityRuleSet,
  kernelModuleEntities,
  listeningPortEntities,
  type ParsedEntities,
  serviceEntities,
  type UnitDirEntry,
  userEntities,
} from '@palisade/integrity';
import { issueFromError, type ScanIssue } from './scan-issue.ts';

export interface SystemCollectResult {
  entities: Entity[];
  issues: ScanIssue[];
}

/**
 * Reads the text sources of the non-file rules (passwd, /proc/net, dpkg status, unit
 * directories, crontabs) under `root` and hands them to the pure parsers. A missing source is an
 * issue, not a failure: /etc/shadow is unreadable without root, containers have no dpkg.
 */
export function collectSystemEntities(rules: IntegrityRuleSet, root: string): SystemCollectResult {
  const prefix = root === '/' ? '' : root.replace(/\/+$/, '');
  const issues: ScanIssue[] = [];
  const entities: Entity[] = [];
  const read = (path: string, quietMissing = false): string | undefined => {
    try {
      return readFileSync(prefix + path, 'utf8');
    } catch (err) {
      const issue = issueFromError(path, err, 'read source');
      if (!(quietMissing && issue.kind === 'vanished'))
        issues.push({ ...issue, kind: issue.kind === 'vanished' ? 'missing-source' : issue.kind });
      return undefined;
    }
  };
  const add = (p: ParsedEntities) => {
    entities.push(...p.entities);
    for (const d of p.diagnostics)
      issues.push({ path: d.file ?? '', kind: 'error', code: d.code, message: `line ${d.line}: ${d.message}` });
  };
  const listDir = (dir: string): string[] | undefined => {
    try {
      return readdirSync(prefix + dir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') issues.push(issueFromError(dir, err, 'list directory'));
      return undefined;
    }
  };

  for (const rule of rules.rules) {
    if (rule.type === 'files') continue;
    const sources = rule.paths.length ? rule.paths : DEFAULT_SOURCES[rule.type];
    switch (rule.type) {
      case 'users': {
        const passwd = sources.find((s) => !s.endsWith('shadow'));
        const shadow = sources.find((s) => s.endsWith('shadow'));
        const text = passwd ? read(passwd) : undefined;
        if (text !== undefined) add(userEntities(text, shadow ? read(shadow) : undefined, rule.id, passwd));
        break;
      }
      case 'groups':
        for (const s of sources) {
          const text = read(s);
          if (text !== undefined) add(groupEntities(text, rule.id, s));
        }
        break;
      case 'ports':
        for (const s of sources) {
          const text = read(s, true);
          if (text !== undefined) add(listeningPortEntities(text, basename(s).startsWith('udp') ? 'udp' : 'tcp', rule.id, s));
        }
        break;
      case 'packages':
        for (const s of sources) {
          const text = read(s, true);
          if (text !== undefined) add(dpkgPackageEntities(text, rule.id));
        }
        break;
      case 'kernel-modules':
        for (const s of sources) {
          const text = read(s, true);
          if (text !== undefined) add(kernelModuleEntities(text, rule.id));
        }
        break;
      case 'crontabs':
        for (const s of sources) {
          let isDir = false;
          try {
            isDir = lstatSync(prefix + s).isDirectory();
          } catch {
            continue;
          }
          const files = isDir ? (listDir(s) ?? []).filter((n) => !n.startsWith('.')).map((n) => `${s}/${n}`) : [s];
          // Per-user spool files have no user column: the file name is the user.
          const spool = isDir && /\/spool\//.test(s);
          for (const f of files) {
            const text = read(f);
            if (text !== undefined) add(cronEntities(text, f, rule.id, spool ? basename(f) : undefined));
          }
        }
        break;
      case 'services': {
        const listing: UnitDirEntry[] = [];
        for (const dir of sources) {
          for (const name of listDir(dir) ?? []) {
            const path = `${dir}/${name}`;
            let st;
            try {
              st = lstatSync(prefix + path);
            } catch {
              continue;
            }
            if (st.isDirectory() && /\.(wants|requires)$/.test(name)) {
              for (const sub of listDir(path) ?? []) listing.push({ dir, name: `${name}/${sub}` });
            } else if (st.isSymbolicLink()) {
              let target: string | undefined;
              try {
                target = readlinkSync(prefix + path);
              } catch {}
              listing.push({ dir, name, ...(target !== undefined ? { target } : {}) });
            } else if (st.isFile()) {
              const text = read(path);
              listing.push({ dir, name, ...(text !== undefined ? { sha256: createHash('sha256').update(text).digest('hex') } : {}) });
            }
          }
        }
        add(serviceEntities(listing, sources, rule.id));
        break;
      }
    }
  }
  return { entities, issues };
}
