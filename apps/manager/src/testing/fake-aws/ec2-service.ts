import { FakeAwsError } from './fake-aws-error.ts';
import type { FakeAwsState, FakeInstance, FakeSecurityGroup, FakeTag } from './fake-aws-state.ts';
import { ec2Filters, ec2Tags, el, listParam, type QueryParams, structPrefixes } from './query-params.ts';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const STATE_CODES: Record<FakeInstance['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const tagSet = (tags: FakeTag[]) =>
  `<tagSet>${tags.map((t) => `<item>${el('key', t.key)}${el('value', t.value)}</item>`).join('')}</tagSet>`;

function reply(action: string, requestId: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}">${el('requestId', requestId)}${inner}</${action}Response>`;
}

/** `TagSpecification.N` entries for one resource type, as EC2's create calls carry them. */
function tagSpecs(p: QueryParams, resourceType: string): FakeTag[] {
  return structPrefixes(p, 'TagSpecification')
    .filter((s) => p.get(`${s}.ResourceType`) === resourceType)
    .flatMap((s) => ec2Tags(p, `${s}.Tag`));
}

function instanceXml(i: FakeInstance, groups: Map<string, FakeSecurityGroup>): string {
  return (
    `<item>${el('instanceId', i.instanceId)}${el('imageId', i.imageId)}` +
    `<instanceState>${el('code', STATE_CODES[i.state])}${el('name', i.state)}</instanceState>` +
    `${el('privateIpAddress', i.privateIp)}${el('ipAddress', i.publicIp)}${el('instanceType', i.instanceType)}${el('launchTime', i.launchTime)}` +
    `${el('subnetId', i.subnetId)}${el('vpcId', i.vpcId)}` +
    `<groupSet>${i.securityGroupIds.map((g) => `<item>${el('groupId', g)}${el('groupName', groups.get(g)?.groupName ?? g)}</item>`).join('')}</groupSet>` +
    `${tagSet(i.tags)}` +
    `<blockDeviceMapping>${i.volumeIds
      .map(
        (v, n) =>
          `<item>${el('deviceName', `/dev/xvd${String.fromCharCode(97 + n)}`)}<ebs>${el('volumeId', v)}${el('status', 'attached')}</ebs></item>`,
      )
      .join('')}</blockDeviceMapping></item>`
  );
}

function sgXml(g: FakeSecurityGroup, accountId: string): string {
  return (
    `<item>${el('ownerId', accountId)}${el('groupId', g.groupId)}${el('groupName', g.groupName)}${el('groupDescription', g.description)}${el('vpcId', g.vpcId)}` +
    '<ipPermissions/>' +
    `<ipPermissionsEgress>${g.egress
      .map((e) => `<item>${el('ipProtocol', e.protocol)}<ipRanges><item>${el('cidrIp', e.cidr)}</item></ipRanges></item>`)
      .join('')}</ipPermissionsEgress>${tagSet(g.tags)}</item>`
  );
}

function setTags(tags: FakeTag[], add: FakeTag[]): void {
  for (const t of add) {
    const cur = tags.find((x) => x.key === t.key);
    if (cur) cur.value = t.value;
    else tags.push({ ...t });
  }
}

/** The EC2 Query API subset Palisade uses: discovery, isolation, forensic snapshots. */
export function ec2Service(
  state: FakeAwsState,
  region: string,
  accountId: string,
  action: string,
  p: QueryParams,
  requestId: string,
): string {
  const r = state.region(region);
  const instance = (id: string | undefined): FakeInstance => {
    const i = id ? r.instances.get(id) : undefined;
    if (!i) throw new FakeAwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return i;
  };
  const ok = () => reply(action, requestId, el('return', true));
  switch (action) {
    case 'DescribeInstances': {
      const ids = listParam(p, 'InstanceId');
      for (const id of ids) instance(id);
      const filters = ec2Filters(p);
      let list = [...r.instances.values()].filter((i) => ids.length === 0 || ids.includes(i.instanceId));
      const states = filters.get('instance-state-name');
      if (states) list = list.filter((i) => states.includes(i.state));
      const max = Number(p.get('MaxResults') ?? 1000);
      const start = Number(p.get('NextToken') ?? 0);
      const page = list.slice(start, start + max);
      const next = start + max < list.length ? String(start + max) : undefined;
      // One reservation per instance: what matters to callers is that they iterate all of them.
      const reservations = page
        .map(
          (i) =>
            `<item>${el('reservationId', `r-${i.instanceId.slice(2)}`)}${el('ownerId', accountId)}<instancesSet>${instanceXml(i, r.securityGroups)}</instancesSet></item>`,
        )
        .join('');
      return reply(action, requestId, `<reservationSet>${reservations}</reservationSet>${el('nextToken', next)}`);
    }
    case 'DescribeSecurityGroups': {
      const ids = listParam(p, 'GroupId');
      const filters = ec2Filters(p);
      let list = [...r.securityGroups.values()].filter((g) => ids.length === 0 || ids.includes(g.groupId));
      const names = filters.get('group-name');
      if (names) list = list.filter((g) => names.includes(g.groupName));
      const vpcs = filters.get('vpc-id');
      if (vpcs) list = list.filter((g) => vpcs.includes(g.vpcId));
      return reply(action, requestId, `<securityGroupInfo>${list.map((g) => sgXml(g, accountId)).join('')}</securityGroupInfo>`);
    }
    case 'CreateSecurityGroup': {
      const name = p.get('GroupName');
      const vpcId = p.get('VpcId');
      if (!name || !vpcId) throw new FakeAwsError('MissingParameter', 'GroupName and VpcId are required');
      if ([...r.securityGroups.values()].some((g) => g.groupName === name && g.vpcId === vpcId))
        throw new FakeAwsError('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
      const sg = state.addSecurityGroup(region, {
        groupName: name,
        description: p.get('GroupDescription') ?? '',
        vpcId,
        tags: tagSpecs(p, 'security-group'),
      });
      return reply(action, requestId, `${el('return', true)}${el('groupId', sg.groupId)}`);
    }
    case 'RevokeSecurityGroupEgress': {
      const sg = r.securityGroups.get(p.get('GroupId') ?? '');
      if (!sg) throw new FakeAwsError('InvalidGroup.NotFound', `The security group '${p.get('GroupId')}' does not exist`);
      for (const perm of structPrefixes(p, 'IpPermissions')) {
        const proto = p.get(`${perm}.IpProtocol`) ?? '';
        const cidrs = structPrefixes(p, `${perm}.IpRanges`).map((x) => p.get(`${x}.CidrIp`));
        sg.egress = sg.egress.filter((e) => !(e.protocol === proto && cidrs.includes(e.cidr)));
      }
      return ok();
    }
    case 'ModifyInstanceAttribute': {
      const i = instance(p.get('InstanceId'));
      const groups = listParam(p, 'GroupId');
      if (groups.length === 0) throw new FakeAwsError('InvalidParameterCombination', 'only GroupId.N is supported by the fake');
      for (const g of groups) {
        const sg = r.securityGroups.get(g);
        if (!sg) throw new FakeAwsError('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
        if (sg.vpcId !== i.vpcId) throw new FakeAwsError('InvalidGroup.NotFound', `The security group '${g}' is not in the instance's VPC`);
      }
      i.securityGroupIds = groups;
      return ok();
    }
    case 'CreateTags':
    case 'DeleteTags': {
      const tags = ec2Tags(p, 'Tag');
      for (const id of listParam(p, 'ResourceId')) {
        const target = r.instances.get(id)?.tags ?? r.securityGroups.get(id)?.tags ?? r.snapshots.get(id)?.tags;
        if (!target) throw new FakeAwsError('InvalidID', `The ID '${id}' is not valid`);
        if (action === 'CreateTags') setTags(target, tags);
        else for (const t of tags) target.splice(0, target.length, ...target.filter((x) => x.key !== t.key));
      }
      return ok();
    }
    case 'CreateSnapshot': {
      const volumeId = p.get('VolumeId') ?? '';
      if (![...r.instances.values()].some((i) => i.volumeIds.includes(volumeId)))
        throw new FakeAwsError('InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
      const snap = { snapshotId: state.nextId('snap'), volumeId, description: p.get('Description') ?? '', tags: tagSpecs(p, 'snapshot') };
      r.snapshots.set(snap.snapshotId, snap);
      return reply(
        action,
        requestId,
        `${el('snapshotId', snap.snapshotId)}${el('volumeId', volumeId)}${el('status', 'pending')}${el('startTime', new Date(0).toISOString())}${el('ownerId', accountId)}${el('description', snap.description)}${tagSet(snap.tags)}`,
      );
    }
    default:
      throw new FakeAwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
  }
}
