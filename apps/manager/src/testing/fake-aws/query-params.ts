/**
 * The AWS Query protocol flattens lists and structures into dotted form keys. EC2 numbers list
 * members directly (`InstanceId.1`, `Filter.1.Value.1`); the other Query services put `member`
 * between (`InstanceIds.member.1`). These helpers read them back.
 */
export type QueryParams = Map<string, string>;

export function parseQueryBody(body: string): QueryParams {
  return new Map(new URLSearchParams(body));
}

/** `prefix.1`, `prefix.2`, … in order until the first gap. */
export function listParam(p: QueryParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`)!);
  return out;
}

/** Indexed structures: `prefix.1.*`, `prefix.2.*` — returns the sub-prefixes. */
export function structPrefixes(p: QueryParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; [...p.keys()].some((k) => k.startsWith(`${prefix}.${i}.`)); i++) out.push(`${prefix}.${i}`);
  return out;
}

/** EC2 `Filter.N.Name` / `Filter.N.Value.M` as name -> values. */
export function ec2Filters(p: QueryParams): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of structPrefixes(p, 'Filter')) out.set(p.get(`${f}.Name`) ?? '', listParam(p, `${f}.Value`));
  return out;
}

/** EC2 `Tag.N.Key` / `Tag.N.Value` under a prefix. */
export function ec2Tags(p: QueryParams, prefix: string): { key: string; value: string }[] {
  return structPrefixes(p, prefix).map((t) => ({ key: p.get(`${t}.Key`) ?? '', value: p.get(`${t}.Value`) ?? '' }));
}

export function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** `<name>value</name>` with the value escaped; undefined gives nothing, as AWS omits empty members. */
export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`;
}
