/**
 * In-memory AWS resources of the fake endpoint, per region. Tests seed and inspect it directly;
 * the services change it the way AWS would (an ASG replaces a detached instance, a security group
 * starts with an allow-all egress rule, an IP set's lock token changes on every update).
 */
export interface FakeTag {
  key: string;
  value: string;
}

export interface FakeInstance {
  instanceId: string;
  imageId: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  vpcId: string;
  subnetId: string;
  privateIp: string;
  publicIp?: string;
  instanceType: string;
  securityGroupIds: string[];
  tags: FakeTag[];
  volumeIds: string[];
  launchTime: string;
}

export interface FakeSecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  egress: { protocol: string; cidr: string }[];
  tags: FakeTag[];
}

export interface FakeAutoScalingGroup {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  launchTemplate: string;
  subnetId: string;
  vpcId: string;
  /** The launch template's groups: replacements get these, not a detached instance's. */
  securityGroupIds: string[];
  instanceIds: string[];
  tags: FakeTag[];
}

export interface FakeIpSet {
  id: string;
  name: string;
  scope: 'REGIONAL' | 'CLOUDFRONT';
  ipAddressVersion: 'IPV4' | 'IPV6';
  addresses: string[];
  lockToken: string;
  description: string;
}

export interface FakeSnapshot {
  snapshotId: string;
  volumeId: string;
  description: string;
  tags: FakeTag[];
}

export interface FakeRegion {
  instances: Map<string, FakeInstance>;
  securityGroups: Map<string, FakeSecurityGroup>;
  autoScalingGroups: Map<string, FakeAutoScalingGroup>;
  ipSets: Map<string, FakeIpSet>;
  snapshots: Map<string, FakeSnapshot>;
}

export class FakeAwsState {
  private readonly regions = new Map<string, FakeRegion>();
  private seq = 0;

  region(name: string): FakeRegion {
    let r = this.regions.get(name);
    if (!r) {
      r = { instances: new Map(), securityGroups: new Map(), autoScalingGroups: new Map(), ipSets: new Map(), snapshots: new Map() };
      this.regions.set(name, r);
    }
    return r;
  }

  /** AWS-looking ids (`i-0000000000000001`), unique across the fake. */
  nextId(prefix: string, hexLength = 17): string {
    this.seq++;
    return `${prefix}-${this.seq.toString(16).padStart(hexLength, '0')}`;
  }

  addInstance(region: string, init: Partial<FakeInstance> & { vpcId: string; subnetId: string }): FakeInstance {
    const inst: FakeInstance = {
      instanceId: init.instanceId ?? this.nextId('i'),
      imageId: init.imageId ?? 'ami-0123456789abcdef0',
      state: init.state ?? 'running',
      privateIp: init.privateIp ?? `10.0.${this.seq % 250}.${(this.seq * 7) % 250}`,
      instanceType: init.instanceType ?? 't3.micro',
      securityGroupIds: init.securityGroupIds ?? [],
      tags: init.tags ?? [],
      volumeIds: init.volumeIds ?? [this.nextId('vol')],
      launchTime: init.launchTime ?? new Date(0).toISOString(),
      ...init,
    };
    this.region(region).instances.set(inst.instanceId, inst);
    return inst;
  }

  addSecurityGroup(
    region: string,
    init: Omit<FakeSecurityGroup, 'groupId' | 'egress' | 'tags'> & Partial<FakeSecurityGroup>,
  ): FakeSecurityGroup {
    const sg: FakeSecurityGroup = {
      groupId: init.groupId ?? this.nextId('sg'),
      egress: [{ protocol: '-1', cidr: '0.0.0.0/0' }],
      tags: [],
      ...init,
    };
    this.region(region).securityGroups.set(sg.groupId, sg);
    return sg;
  }

  /** An ASG with `desiredCapacity` running instances launched into the subnet. */
  addAutoScalingGroup(
    region: string,
    init: {
      name: string;
      vpcId: string;
      subnetId: string;
      desiredCapacity: number;
      minSize?: number;
      maxSize?: number;
      securityGroupIds?: string[];
      tags?: FakeTag[];
    },
  ): FakeAutoScalingGroup {
    const asg: FakeAutoScalingGroup = {
      name: init.name,
      minSize: init.minSize ?? 0,
      maxSize: init.maxSize ?? Math.max(10, init.desiredCapacity),
      desiredCapacity: init.desiredCapacity,
      launchTemplate: `lt-${init.name}`,
      subnetId: init.subnetId,
      vpcId: init.vpcId,
      securityGroupIds: init.securityGroupIds ?? [],
      instanceIds: [],
      tags: init.tags ?? [],
    };
    this.region(region).autoScalingGroups.set(asg.name, asg);
    for (let i = 0; i < init.desiredCapacity; i++) this.launchInto(region, asg);
    return asg;
  }

  /** What Auto Scaling does when it is below its desired capacity. */
  launchInto(region: string, asg: FakeAutoScalingGroup): FakeInstance {
    const inst = this.addInstance(region, {
      vpcId: asg.vpcId,
      subnetId: asg.subnetId,
      securityGroupIds: [...asg.securityGroupIds],
      tags: [{ key: 'aws:autoscaling:groupName', value: asg.name }, ...asg.tags],
    });
    asg.instanceIds.push(inst.instanceId);
    return inst;
  }

  addIpSet(
    region: string,
    init: { name: string; scope: 'REGIONAL' | 'CLOUDFRONT'; ipAddressVersion?: 'IPV4' | 'IPV6'; addresses?: string[] },
  ): FakeIpSet {
    const set: FakeIpSet = {
      id: this.nextId('', 8).slice(1) + '-ipset',
      name: init.name,
      scope: init.scope,
      ipAddressVersion: init.ipAddressVersion ?? 'IPV4',
      addresses: init.addresses ?? [],
      lockToken: this.nextId('lock'),
      description: '',
    };
    this.region(region).ipSets.set(set.id, set);
    return set;
  }
}
