import type { ParsedEntities } from './account-entities.ts';
import type { Entity } from './entity.ts';

/**
 * One entity per job line. The key carries the line itself, so an edited job shows as one
 * removed and one added job: what an operator reads as "this job changed into that one".
 * System crontabs (/etc/crontab, /etc/cron.d) have a user column; per-user spool files do not.
 */
export function cronEntities(text: string, file: string, rule: string, spoolUser?: string): ParsedEntities {
  const entities: Entity[] = [];
  const seen = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (line === '' || line.startsWith('#') || /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line)) continue;
    const f = line.split(' ');
    const nFields = f[0]!.startsWith('@') ? 1 : 5;
    const schedule = f.slice(0, nFields).join(' ');
    const user = spoolUser ?? f[nFields] ?? '';
    const command = f.slice(spoolUser ? nFields : nFields + 1).join(' ');
    const key = `${file}: ${line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    entities.push({ kind: 'cron', key, rule, attrs: { file, user, schedule, command } });
  }
  return { entities, diagnostics: [] };
}
