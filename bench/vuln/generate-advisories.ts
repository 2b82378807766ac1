import { strToU8, type Zippable, zipSync } from 'fflate';

/** Small deterministic PRNG (mulberry32) so that every run benchmarks the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface EcosystemShape {
  ecosystem: string;
  share: number;
  packages: number;
  name: (i: number) => string;
  version: (r: () => number, major: number) => string;
  idPrefix: string;
  /** Debian/Ubuntu records list every affected version, which dominates their size. */
  versionsList: boolean;
}

const int = (r: () => number, n: number) => Math.floor(r() * n);

export const SHAPES: EcosystemShape[] = [
  {
    ecosystem: 'Debian:12',
    share: 0.3,
    packages: 12000,
    name: (i) => `deb-pkg-${i}`,
    version: (r, m) => `${m}.${int(r, 20)}.${int(r, 10)}-${1 + int(r, 5)}${r() < 0.4 ? `+deb12u${1 + int(r, 6)}` : ''}`,
    idPrefix: 'DEBIAN-CVE-2',
    versionsList: true,
  },
  {
    ecosystem: 'Ubuntu:22.04:LTS',
    share: 0.1,
    packages: 8000,
    name: (i) => `deb-pkg-${i}`,
    version: (r, m) => `${m}.${int(r, 20)}.${int(r, 10)}-${1 + int(r, 5)}ubuntu${int(r, 4)}.${int(r, 9)}`,
    idPrefix: 'UBUNTU-CVE-2',
    versionsList: true,
  },
  {
    ecosystem: 'npm',
    share: 0.25,
    packages: 30000,
    name: (i) => (i % 7 === 0 ? `@scope${i % 50}/npm-pkg-${i}` : `npm-pkg-${i}`),
    version: (r, m) => `${m}.${int(r, 30)}.${int(r, 20)}${r() < 0.05 ? `-beta.${int(r, 5)}` : ''}`,
    idPrefix: 'GHSA-npm',
    versionsList: false,
  },
  {
    ecosystem: 'PyPI',
    share: 0.12,
    packages: 10000,
    name: (i) => `Py_Pkg-${i}`,
    version: (r, m) => `${m}.${int(r, 30)}${r() < 0.5 ? `.${int(r, 10)}` : ''}${r() < 0.05 ? `rc${int(r, 3)}` : ''}`,
    idPrefix: 'PYSEC-2',
    versionsList: false,
  },
  {
    ecosystem: 'Maven',
    share: 0.15,
    packages: 10000,
    name: (i) => `org.example${i % 300}:artifact-${i}`,
    version: (r, m) => `${m}.${int(r, 20)}.${int(r, 10)}${r() < 0.1 ? '.RELEASE' : ''}`,
    idPrefix: 'GHSA-mvn',
    versionsList: false,
  },
  {
    ecosystem: 'Go',
    share: 0.08,
    packages: 5000,
    name: (i) => `github.com/org${i % 400}/mod-${i}`,
    version: (r, m) => `${m}.${int(r, 30)}.${int(r, 20)}`,
    idPrefix: 'GO-2',
    versionsList: false,
  },
];

function advisory(shape: EcosystemShape, n: number, r: () => number): object {
  const pkgIndex = int(r, shape.packages);
  const major = 1 + int(r, 5);
  const fixed = shape.version(r, major);
  const introduced = r() < 0.6 ? '0' : shape.version(r, major - 1 < 0 ? 0 : major - 1);
  const events: object[] = [{ introduced }, r() < 0.95 ? { fixed } : { last_affected: fixed }];
  const affected: Record<string, unknown> = {
    package: { ecosystem: shape.ecosystem, name: shape.name(pkgIndex), purl: `pkg:generic/${shape.name(pkgIndex)}` },
    ranges: [{ type: 'ECOSYSTEM', events }],
    database_specific: { source: `https://example.org/${shape.idPrefix}/${n}` },
  };
  if (shape.versionsList) affected.versions = Array.from({ length: 5 + int(r, 20) }, () => shape.version(r, major));
  const year = 2015 + int(r, 11);
  return {
    schema_version: '1.6.0',
    id: `${shape.idPrefix}${String(year).slice(1)}-${n}`,
    modified: `${year}-0${1 + int(r, 9)}-1${int(r, 9)}T00:00:00Z`,
    published: `${year}-01-01T00:00:00Z`,
    aliases: [`CVE-${year}-${10000 + n}`],
    summary: `Generated advisory ${n} for ${shape.name(pkgIndex)}`,
    details: 'A generated advisory of realistic size. '.repeat(4 + int(r, 12)),
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    affected: [affected],
    references: [{ type: 'ADVISORY', url: `https://example.org/advisories/${n}` }],
  };
}

/** One all.zip per ecosystem, like osv.dev publishes them, totalling `total` advisories. */
export function generateAllZips(total: number, seed = 42): { ecosystem: string; zip: Uint8Array; count: number }[] {
  const r = rng(seed);
  let n = 0;
  return SHAPES.map((shape) => {
    const count = Math.round(total * shape.share);
    const files: Zippable = {};
    for (let i = 0; i < count; i++, n++) {
      const a = advisory(shape, n, r) as { id: string };
      files[`${a.id}.json`] = strToU8(JSON.stringify(a));
    }
    return { ecosystem: shape.ecosystem, zip: zipSync(files, { level: 1 }), count };
  });
}

/** An inventory of `size` packages: one in five names one of the advised packages. */
export function generateInventory(size: number, seed = 7) {
  const r = rng(seed);
  const items = [];
  for (let i = 0; i < size; i++) {
    const shape = SHAPES[int(r, SHAPES.length)]!;
    const hit = r() < 0.2;
    const name = hit ? shape.name(int(r, shape.packages)) : `unadvised-${shape.ecosystem}-${i}`;
    items.push({ ecosystem: shape.ecosystem, name, version: shape.version(r, 1 + int(r, 5)), purl: '', location: '/bench' });
  }
  return items;
}
