import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments, type SchemaOptions, type YAMLMap, type YAMLSeq } from 'yaml';
import { renderDeployScript } from '../apps/manager/src/services/deploy-script-template.ts';
import { type HelmContext, renderHelmTemplate } from './deploy-helm-renderer.ts';
import { repoRoot } from './support/real-processes.ts';

/**
 * The kits that cannot run here (CloudFormation, Helm, Docker, Chef, Elastic Beanstalk) checked
 * against what they must agree with: CloudFormation templates parse with their tags and use only
 * resource types, properties and attributes from a schema of the used types (and pass cfn-lint
 * when it is installed); the chart renders and every object matches a schema of the Kubernetes
 * types it produces; the agent container gets exactly the systemd unit's capabilities.
 */
const deploy = join(repoRoot, 'deploy');

// --- CloudFormation -------------------------------------------------------------------------
const CFN_TAGS = [
  'Ref',
  'Sub',
  'GetAtt',
  'Join',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Select',
  'Split',
  'GetAZs',
  'Base64',
  'FindInMap',
  'ImportValue',
  'Condition',
];
const cfnTags: SchemaOptions['customTags'] = CFN_TAGS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const resolve = (v: unknown) => ({
    [key]: name === 'GetAtt' && typeof v === 'string' ? [v.slice(0, v.indexOf('.')), v.slice(v.indexOf('.') + 1)] : v,
  });
  return [
    { tag: `!${name}`, resolve: (v: string) => resolve(v) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (v: YAMLSeq) => resolve(v.toJSON()) },
    { tag: `!${name}`, collection: 'map' as const, resolve: (v: YAMLMap) => resolve(v.toJSON()) },
  ];
}) as SchemaOptions['customTags'];

interface ResourceSchema {
  properties: string[];
  required: string[];
  nested?: Record<string, string[]>;
  attributes: string[];
}
const cfnSchema = JSON.parse(readFileSync(join(deploy, 'cloudformation', 'schema', 'resource-types.json'), 'utf8')) as Record<
  string,
  ResourceSchema
>;
const PSEUDO = [
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
];

/** Every problem in one template: unknown types, properties, attributes, references. */
function checkTemplate(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const params = Object.keys((doc.Parameters ?? {}) as object);
  const resources = (doc.Resources ?? {}) as Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] }
  >;
  const names = new Set([...params, ...Object.keys(resources), ...PSEUDO]);
  const checkGetAtt = (where: string, res: string, attr: string) => {
    const r = resources[res];
    if (!r) problems.push(`${where}: GetAtt of unknown resource ${res}`);
    else if (!cfnSchema[r.Type]?.attributes.includes(attr)) problems.push(`${where}: ${r.Type} has no attribute ${attr}`);
  };
  const walk = (where: string, v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(`${where}[${i}]`, x));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.Ref === 'string' && !names.has(o.Ref)) problems.push(`${where}: Ref to unknown ${o.Ref}`);
      if (Array.isArray(o['Fn::GetAtt'])) checkGetAtt(where, o['Fn::GetAtt'][0] as string, o['Fn::GetAtt'][1] as string);
      if (o['Fn::Sub'] !== undefined) {
        const [text, vars] = Array.isArray(o['Fn::Sub'])
          ? (o['Fn::Sub'] as [string, Record<string, unknown>])
          : [o['Fn::Sub'] as string, {}];
        for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const ref = m[1]!;
          if (ref in vars) continue;
          const dot = ref.indexOf('.');
          if (dot > 0 && !ref.startsWith('AWS::')) checkGetAtt(`${where} Sub`, ref.slice(0, dot), ref.slice(dot + 1));
          else if (!names.has(ref)) problems.push(`${where}: Sub references unknown ${ref}`);
        }
        walk(where, vars);
      }
      for (const [k, x] of Object.entries(o)) if (k !== 'Fn::Sub') walk(`${where}.${k}`, x);
    }
  };
  for (const [name, r] of Object.entries(resources)) {
    const schema = cfnSchema[r.Type];
    if (!schema) {
      problems.push(`${name}: resource type ${r.Type} is not in the schema`);
      continue;
    }
    const props = r.Properties ?? {};
    for (const p of Object.keys(props)) if (!schema.properties.includes(p)) problems.push(`${name}: ${r.Type} has no property ${p}`);
    for (const p of schema.required) if (!(p in props)) problems.push(`${name}: ${r.Type} requires ${p}`);
    for (const [path, allowed] of Object.entries(schema.nested ?? {})) {
      // "A[].B" -> every item of A, then its B
      let values: unknown[] = [props];
      for (const part of path.split('.')) {
        const list = part.endsWith('[]');
        const key = list ? part.slice(0, -2) : part;
        values = values.flatMap((v) => {
          const x = (v as Record<string, unknown>)?.[key];
          return x === undefined ? [] : list && Array.isArray(x) ? x : [x];
        });
      }
      for (const v of values) {
        if (!v || typeof v !== 'object' || Array.isArray(v) || 'Ref' in v || Object.keys(v).some((k) => k.startsWith('Fn::'))) continue;
        for (const k of Object.keys(v)) if (!allowed.includes(k)) problems.push(`${name}: ${path} has no field ${k}`);
      }
    }
    for (const d of [r.DependsOn ?? []].flat()) if (!resources[d]) problems.push(`${name}: DependsOn unknown ${d}`);
    walk(name, props);
  }
  walk('Outputs', doc.Outputs ?? {});
  return problems;
}

const templates = readdirSync(join(deploy, 'cloudformation')).filter((f) => f.endsWith('.yaml'));

test('CloudFormation templates parse with their tags and use only types, properties and attributes that exist', () => {
  assert.deepEqual(templates.sort(), ['agents-asg.yaml', 'manager.yaml']);
  for (const file of templates) {
    const doc = parse(readFileSync(join(deploy, 'cloudformation', file), 'utf8'), { customTags: cfnTags }) as Record<string, unknown>;
    assert.equal(doc.AWSTemplateFormatVersion, '2010-09-09', file);
    assert.deepEqual(checkTemplate(doc), [], file);
  }
});

test('the schema check catches what it is for: an unknown property, attribute, type and reference', () => {
  const bad = parse(
    [
      'Parameters: {P: {Type: String}}',
      'Resources:',
      '  H: {Type: AWS::CloudFormation::WaitConditionHandle}',
      '  W: {Type: AWS::CloudFormation::WaitCondition, Properties: {Handle: !Ref H, Timeout: !Ref Nope, Cont: 1}}',
      '  X: {Type: AWS::EC2::NoSuchThing}',
      '  G: {Type: AWS::AutoScaling::AutoScalingGroup, Properties: {MinSize: "0", LaunchTemplate: {LaunchTemplateId: !Ref H, Versoin: 1}}}',
      'Outputs: {O: {Value: !GetAtt W.Reason}, S: {Value: !Sub "${W.Data} ${Missing}"}}',
    ].join('\n'),
    { customTags: cfnTags },
  ) as Record<string, unknown>;
  const problems = checkTemplate(bad).join('\n');
  for (const expected of [
    /Ref to unknown Nope/,
    /has no property Cont/,
    /AWS::EC2::NoSuchThing is not in the schema/,
    /requires MaxSize/,
    /LaunchTemplate has no field Versoin/,
    /has no attribute Reason/,
    /Sub references unknown Missing/,
  ]) {
    assert.match(problems, expected);
  }
});

test('CloudFormation templates pass cfn-lint (the AWS resource specification)', (t) => {
  if (spawnSync('cfn-lint', ['--version']).status !== 0) return t.skip('cfn-lint is not installed');
  const r = spawnSync(
    'cfn-lint',
    templates.map((f) => join(deploy, 'cloudformation', f)),
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the user data of both templates reports failures to the WaitCondition with a reason', () => {
  for (const file of templates) {
    const text = readFileSync(join(deploy, 'cloudformation', file), 'utf8');
    assert.match(text, /\\"Status\\":\\"\$1\\",\\"Reason\\":\\"\$reason\\"/, `${file} signals Status and Reason`);
    assert.match(text, /signal FAILURE "/, file);
    const signal = /signal\(\) \{\n([\s\S]*?)\n\s*\}/.exec(text)![1]!;
    // the JSON the instance sends is valid for a reason with quotes, backslashes and newlines
    const body = signal
      .replace(/^\s+/gm, '')
      .replace(/'\$\{[A-Za-z]+\}'/, '"$OUT"')
      .replace(/curl [\s\S]*?--data-binary \\\n/, 'printf %s ');
    const dir = mkdtempSync(join(tmpdir(), 'palisade-cfn-'));
    try {
      writeFileSync(join(dir, 's.sh'), `iid=i-1\nsignal() {\n${body}\n}\nsignal FAILURE "$(printf 'a "quoted"\\\\ line\\nnext')"\n`);
      const out = spawnSync('bash', [join(dir, 's.sh')], { encoding: 'utf8' });
      const sent = JSON.parse(out.stdout.slice(0, out.stdout.lastIndexOf('}') + 1)) as { Status: string; Reason: string };
      assert.equal(sent.Status, 'FAILURE', out.stderr);
      assert.equal(sent.Reason, 'a "quoted"\\ line next');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

// --- Helm -----------------------------------------------------------------------------------
interface K8sSchema {
  kinds: Record<string, string | null>;
  types: Record<string, { fields: Record<string, string>; required: string[] }>;
}
const k8s = JSON.parse(readFileSync(join(deploy, 'helm', 'schema', 'k8s-subset.json'), 'utf8')) as K8sSchema;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;

function checkValue(path: string, ref: string, v: unknown, problems: string[]): void {
  if (ref.startsWith('[]')) {
    if (!Array.isArray(v)) problems.push(`${path}: expected a list`);
    else v.forEach((x, i) => checkValue(`${path}[${i}]`, ref.slice(2), x, problems));
  } else if (ref.startsWith('map<')) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) problems.push(`${path}: expected a map`);
    else for (const [k, x] of Object.entries(v)) checkValue(`${path}.${k}`, ref.slice(4, -1), x, problems);
  } else if (ref.startsWith('enum:')) {
    if (!ref.slice(5).split('|').includes(String(v))) problems.push(`${path}: ${JSON.stringify(v)} is not one of ${ref.slice(5)}`);
  } else if (ref === 'string') {
    if (typeof v !== 'string') problems.push(`${path}: expected a string, got ${JSON.stringify(v)}`);
  } else if (ref === 'integer') {
    if (!Number.isInteger(v)) problems.push(`${path}: expected an integer, got ${JSON.stringify(v)}`);
  } else if (ref === 'boolean') {
    if (typeof v !== 'boolean') problems.push(`${path}: expected a boolean`);
  } else if (ref === 'int-or-string') {
    if (!Number.isInteger(v) && typeof v !== 'string') problems.push(`${path}: expected an integer or a string`);
  } else if (ref === 'quantity') {
    if (!QUANTITY.test(String(v))) problems.push(`${path}: ${JSON.stringify(v)} is not a quantity`);
  } else {
    const t = k8s.types[ref];
    if (!t) throw new Error(`schema has no type ${ref}`);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return void problems.push(`${path}: expected an object (${ref})`);
    for (const [k, x] of Object.entries(v)) {
      if (!(k in t.fields)) problems.push(`${path}: ${ref} has no field ${k}`);
      else checkValue(`${path}.${k}`, t.fields[k]!, x, problems);
    }
    for (const r of t.required) if (!(r in v)) problems.push(`${path}: ${ref} requires ${r}`);
  }
}

function checkObject(o: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const kind = `${o.apiVersion}/${o.kind}`;
  if (!(kind in k8s.kinds)) return [`${kind} is not a known kind`];
  checkValue(`${o.kind}.metadata`, 'ObjectMeta', o.metadata, problems);
  const spec = k8s.kinds[kind];
  if (spec) checkValue(`${o.kind}.spec`, spec, o.spec, problems);
  return problems;
}

const chartDir = join(deploy, 'helm', 'palisade');
function renderChart(overrides: (values: Record<string, unknown>) => void = () => {}) {
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  overrides(values);
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
  const ctx: HelmContext = {
    Values: values,
    Release: { Name: 'pal', Namespace: 'security' },
    Chart: { Version: chart.version, AppVersion: chart.appVersion },
  };
  const objects: Record<string, unknown>[] = [];
  for (const f of readdirSync(join(chartDir, 'templates')).sort()) {
    const text = renderHelmTemplate(readFileSync(join(chartDir, 'templates', f), 'utf8'), ctx);
    for (const d of parseAllDocuments(text)) {
      assert.deepEqual(d.errors, [], `${f}: ${d.errors.join('; ')}\n${text}`);
      const o = d.toJSON() as Record<string, unknown> | null;
      if (o) objects.push(o);
    }
  }
  return objects;
}

test('the Helm chart renders to a manager Deployment, Service, volume claim and an agent DaemonSet that match the Kubernetes schema', () => {
  const objects = renderChart();
  assert.deepEqual(objects.map((o) => o.kind).sort(), ['DaemonSet', 'Deployment', 'PersistentVolumeClaim', 'Service']);
  for (const o of objects) assert.deepEqual(checkObject(o), [], `${o.kind}`);
  const ds = objects.find((o) => o.kind === 'DaemonSet') as { spec: { template: { spec: Record<string, unknown> } } };
  const pod = ds.spec.template.spec as {
    hostNetwork: boolean;
    hostPID: boolean;
    containers: { securityContext: { capabilities: { add: string[]; drop: string[] } }; volumeMounts: { mountPath: string }[] }[];
    initContainers: { env: { name: string; value?: string }[] }[];
  };
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.hostPID, true);
  assert.deepEqual(pod.containers[0]!.volumeMounts.map((m) => m.mountPath).sort(), [
    '/dev/kmsg',
    '/host',
    '/run/log/journal',
    '/var/lib/palisade-agent',
    '/var/log/journal',
  ]);
  // the container gets exactly the capabilities the systemd unit allows, no more
  const unit = readFileSync(join(deploy, 'systemd', 'palisade-agent.service'), 'utf8');
  const unitCaps = /^CapabilityBoundingSet=(.+)$/m
    .exec(unit)![1]!
    .split(/\s+/)
    .map((c) => c.replace(/^CAP_/, ''));
  assert.deepEqual([...pod.containers[0]!.securityContext.capabilities.add].sort(), unitCaps.sort());
  assert.deepEqual(pod.containers[0]!.securityContext.capabilities.drop, ['ALL']);
  // the default manager URL names the Service, whose name is also the manager's host name (its certificate)
  const url = pod.initContainers[0]!.env.find((e) => e.name === 'PALISADE_MANAGER_URL')!.value;
  assert.equal(url, 'https://pal-manager:4119');
  const svc = objects.find((o) => o.kind === 'Service') as { metadata: { name: string } };
  const dep = objects.find((o) => o.kind === 'Deployment') as { spec: { template: { spec: { hostname: string } } } };
  assert.equal(svc.metadata.name, 'pal-manager');
  assert.equal(dep.spec.template.spec.hostname, 'pal-manager');
});

test('chart values switch parts: PostgreSQL secret on, manager off, another manager URL', () => {
  const objects = renderChart((v) => {
    (v.manager as Record<string, unknown>).dbSecretName = 'palisade-db';
    (v.agent as Record<string, unknown>).managerUrl = 'https://manager.example:4119';
  });
  for (const o of objects) assert.deepEqual(checkObject(o), [], `${o.kind}`);
  const dep = objects.find((o) => o.kind === 'Deployment') as {
    spec: { template: { spec: { containers: { envFrom?: { secretRef: { name: string } }[] }[] } } };
  };
  assert.equal(dep.spec.template.spec.containers[0]!.envFrom?.[0]?.secretRef.name, 'palisade-db');
  const agentOnly = renderChart((v) => {
    (v.manager as Record<string, unknown>).enabled = false;
    (v.agent as Record<string, unknown>).managerUrl = 'https://manager.example:4119';
  });
  assert.deepEqual(
    agentOnly.map((o) => o.kind),
    ['DaemonSet'],
  );
  const env = (agentOnly[0] as { spec: { template: { spec: { initContainers: { env: { name: string; value?: string }[] }[] } } } }).spec
    .template.spec.initContainers[0]!.env;
  assert.equal(env.find((e) => e.name === 'PALISADE_MANAGER_URL')!.value, 'https://manager.example:4119');
});

test('the Kubernetes schema check catches a misspelt field, a wrong type and a bad enum', () => {
  const problems = checkObject({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'x' },
    spec: {
      selector: {},
      template: { spec: { containers: [{ name: 'a', imagePullPolcy: 'Always', ports: [{ containerPort: '80' }] }], dnsPolicy: 'Host' } },
    },
  }).join('\n');
  assert.match(problems, /Container has no field imagePullPolcy/);
  assert.match(problems, /containerPort: expected an integer/);
  assert.match(problems, /"Host" is not one of/);
});

// --- Docker, Chef, Elastic Beanstalk --------------------------------------------------------
test('Dockerfiles copy only what exists in the repository and the agent image uses the bundle the build names', () => {
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  for (const file of ['manager.Dockerfile', 'agent.Dockerfile']) {
    const text = readFileSync(join(deploy, 'docker', file), 'utf8').replace(/\\\n/g, ' ');
    const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.match(lines[0]!, /^FROM node:20-bookworm-slim/, `${file} starts from Node 20 (>= 20.19)`);
    const args = Object.fromEntries(lines.filter((l) => l.startsWith('ARG ')).map((l) => l.slice(4).split('=') as [string, string]));
    for (const l of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const parts = l.slice(5).trim().split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        const path = src.replace(/\$\{(\w+)\}/, (_m, n: string) => args[n] ?? '');
        if (path.startsWith('dist/agent/'))
          assert.equal(path, `dist/agent/palisade-agent-${version}-linux-x64.tar.gz`, `${file}: bundle name`);
        else assert.ok(existsSync(join(repoRoot, path)), `${file}: COPY ${path} exists`);
      }
    }
    for (const l of lines.filter((l) => /^(ENTRYPOINT|CMD) \[/.test(l))) JSON.parse(l.slice(l.indexOf('[')));
  }
});

test('the Chef cookbook and the Elastic Beanstalk hooks drive the deployment script through the variables it reads', () => {
  const script = renderDeployScript({
    managerUrl: 'https://m:4119',
    token: 'pat_x.y.z',
    tokenExpiresAt: '2030-01-01T00:00:00Z',
    policyName: null,
    caPem: null,
    bundle: { file: 'palisade-agent-0.1.0-linux-x64.tar.gz', sha256: '0'.repeat(64), url: null, version: '0.1.0' },
    tags: {},
    cloud: null,
    generatedAt: '2030-01-01T00:00:00Z',
  });
  const chefInstall = readFileSync(join(deploy, 'chef', 'palisade_agent', 'recipes', 'install.rb'), 'utf8');
  const used = [...chefInstall.matchAll(/'(PALISADE_[A-Z_]+)'/g)].map((m) => m[1]!);
  assert.ok(used.length >= 3);
  for (const v of used) assert.ok(script.includes(`\${${v}:-`), `the script reads ${v}`);
  for (const recipe of ['default', 'install', 'activate', 'upgrade', 'remove']) {
    assert.ok(existsSync(join(deploy, 'chef', 'palisade_agent', 'recipes', `${recipe}.rb`)), `${recipe} recipe`);
  }
  const eb = parse(readFileSync(join(deploy, 'ebextensions', '.ebextensions', 'palisade-agent.config'), 'utf8')) as {
    files: Record<string, { content: string }>;
    commands: Record<string, { command: string }>;
  };
  const installer = eb.files['/opt/palisade-eb/install-agent.sh']!.content;
  assert.match(installer, /PALISADE_RESULT_FILE=\S+ sh \/run\/palisade-deploy\.sh/);
  assert.ok(script.includes('${PALISADE_RESULT_FILE:-}'));
  assert.equal(eb.commands['01_palisade_agent']!.command, '/opt/palisade-eb/install-agent.sh');
  for (const sh of [installer]) assert.equal(spawnSync('bash', ['-n'], { input: sh }).status, 0);
  const hook = join(deploy, 'ebextensions', '.platform', 'hooks', 'postdeploy', '99-palisade-recommendation-scan.sh');
  assert.equal(spawnSync('bash', ['-n', hook]).status, 0);
  assert.match(readFileSync(hook, 'utf8'), /"kind":"send-inventory"/);
});
