import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/** What a file's extended attributes give the integrity model. */
export interface FileXattrs {
  /** Other attributes as sorted `name=value` (text when printable, else `0x…` hex). */
  xattrs: string[];
  /**
   * POSIX ACL entries (access, then `default:` ones); `''` for none. Never absent once read: the
   * diff ignores an attribute one side lacks, and an ACL appearing must be a change.
   */
  acl: string;
  /** File capabilities, `cap_a,cap_b=ep` like getcap; `''` for none (a capability appearing is a change). */
  caps: string;
}

/*
 * Node has no call for extended attributes, no native addon is installed and getfattr/getcap are
 * not on every host; perl (perl-base is essential on Debian and present on the other
 * distributions the agent supports) can make the two system calls through `syscall`. Their numbers
 * differ per architecture, hence the table. One perl process serves a whole scan: NUL-separated
 * paths in, one line per path out (`-` for none, `!errno` on failure, else name=hex pairs); an
 * empty path ends a batch and flushes the output, so small batches are not stuck in perl's buffer.
 */
const SYSCALLS: Partial<Record<NodeJS.Architecture, { llistxattr: number; lgetxattr: number }>> = {
  x64: { llistxattr: 195, lgetxattr: 192 },
  arm64: { llistxattr: 12, lgetxattr: 9 },
};

const PERL = `
$| = 0; $/ = "\\0";
my ($LIST, $GET) = @ARGV;
while (my $p = <STDIN>) {
  chomp $p;
  if ($p eq "") { $| = 1; $| = 0; next; }
  my $buf = "\\0" x 65536;
  my $n = syscall($LIST, $p, $buf, 65536);
  if ($n < 0) { print "!" . ($! + 0) . "\\n"; next; }
  if ($n == 0) { print "-\\n"; next; }
  my @out;
  for my $name (split /\\0/, substr($buf, 0, $n)) {
    my $v = "\\0" x 65536;
    my $m = syscall($GET, $p, $name, $v, 65536);
    next if $m < 0;
    push @out, unpack("H*", $name) . "=" . unpack("H*", substr($v, 0, $m));
  }
  print(@out ? join(" ", @out) . "\\n" : "-\\n");
}
`;

const CAP_NAMES = [
  'cap_chown',
  'cap_dac_override',
  'cap_dac_read_search',
  'cap_fowner',
  'cap_fsetid',
  'cap_kill',
  'cap_setgid',
  'cap_setuid',
  'cap_setpcap',
  'cap_linux_immutable',
  'cap_net_bind_service',
  'cap_net_broadcast',
  'cap_net_admin',
  'cap_net_raw',
  'cap_ipc_lock',
  'cap_ipc_owner',
  'cap_sys_module',
  'cap_sys_rawio',
  'cap_sys_chroot',
  'cap_sys_ptrace',
  'cap_sys_pacct',
  'cap_sys_admin',
  'cap_sys_boot',
  'cap_sys_nice',
  'cap_sys_resource',
  'cap_sys_time',
  'cap_sys_tty_config',
  'cap_mknod',
  'cap_lease',
  'cap_audit_write',
  'cap_audit_control',
  'cap_setfcap',
  'cap_mac_override',
  'cap_mac_admin',
  'cap_syslog',
  'cap_wake_alarm',
  'cap_block_suspend',
  'cap_audit_read',
  'cap_perfmon',
  'cap_bpf',
  'cap_checkpoint_restore',
];

function capList(lo: number, hi: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    const set = bit < 32 ? (lo >>> bit) & 1 : (hi >>> (bit - 32)) & 1;
    if (set) out.push(CAP_NAMES[bit] ?? `cap_${bit}`);
  }
  return out;
}

/** `security.capability` (struct vfs_cap_data, revisions 1 to 3) as getcap prints it. */
export function formatCapabilities(v: Buffer): string {
  if (v.length < 12) return `0x${v.toString('hex')}`;
  const magic = v.readUInt32LE(0);
  const effective = (magic & 1) !== 0;
  const rev = magic & 0xff000000;
  const permLo = v.readUInt32LE(4);
  const inhLo = v.readUInt32LE(8);
  const wide = rev !== 0x01000000 && v.length >= 20;
  const permitted = capList(permLo, wide ? v.readUInt32LE(12) : 0);
  const inheritable = capList(inhLo, wide ? v.readUInt32LE(16) : 0);
  const parts: string[] = [];
  if (permitted.length) parts.push(`${permitted.join(',')}=${effective ? 'e' : ''}p`);
  if (inheritable.length) parts.push(`${inheritable.join(',')}=i`);
  const owner = rev === 0x03000000 && v.length >= 24 ? v.readUInt32LE(20) : 0;
  return (parts.join(' ') || '=') + (owner ? ` [rootid=${owner}]` : '');
}

const ACL_TAGS: Record<number, string> = { 1: 'user:', 2: 'user:', 4: 'group:', 8: 'group:', 0x10: 'mask:', 0x20: 'other:' };

/** `system.posix_acl_*` (version 2, 8-byte entries) as `user::rwx,user:1000:r--,…`. */
export function formatAcl(v: Buffer, prefix = ''): string {
  const out: string[] = [];
  for (let off = 4; off + 8 <= v.length; off += 8) {
    const tag = v.readUInt16LE(off);
    const perm = v.readUInt16LE(off + 2);
    const id = v.readUInt32LE(off + 4);
    const who = tag === 2 || tag === 8 ? String(id) : '';
    const rwx = `${perm & 4 ? 'r' : '-'}${perm & 2 ? 'w' : '-'}${perm & 1 ? 'x' : '-'}`;
    out.push(`${prefix}${ACL_TAGS[tag] ?? `tag${tag}:`}${who}:${rwx}`);
  }
  return out.join(',');
}

function printable(v: Buffer): string | undefined {
  const t = v.at(-1) === 0 ? v.subarray(0, -1) : v;
  for (const b of t) if (b < 0x20 || b > 0x7e) return undefined;
  return t.toString('latin1');
}

/** Turns raw attributes into the model's `xattrs`, `acl` and `caps`. */
export function fileXattrs(raw: ReadonlyMap<string, Buffer>): FileXattrs {
  const xattrs: string[] = [];
  const acl: string[] = [];
  let caps: string | undefined;
  for (const [name, v] of raw) {
    if (name === 'security.capability') caps = formatCapabilities(v);
    else if (name === 'system.posix_acl_access') acl.unshift(formatAcl(v));
    else if (name === 'system.posix_acl_default') acl.push(formatAcl(v, 'default:'));
    else xattrs.push(`${name}=${printable(v) ?? `0x${v.toString('hex')}`}`);
  }
  xattrs.sort();
  return { xattrs, acl: acl.join(','), caps: caps ?? '' };
}

/**
 * Reads extended attributes of many files through one perl helper process. `open()` returns
 * undefined where that is not possible (no perl, an architecture without a syscall table), and
 * the scanner then leaves xattrs, ACLs and capabilities out, as before.
 */
export class XattrReader {
  private buffered = '';
  private waiting: { count: number; lines: string[]; resolve: (lines: string[]) => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    proc.stdout.setEncoding('latin1');
    proc.stdout.on('data', (chunk: string) => this.onData(chunk));
    const fail = (e: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    proc.on('error', fail);
    proc.on('exit', () => fail(new Error('xattr helper exited')));
    proc.stdin.on('error', () => {});
  }

  static open(): XattrReader | undefined {
    const calls = SYSCALLS[process.arch];
    if (process.platform !== 'linux' || !calls) return undefined;
    const perl = ['/usr/bin/perl', '/bin/perl'].find((p) => existsSync(p));
    if (!perl) return undefined;
    const proc = spawn(perl, ['-e', PERL, String(calls.llistxattr), String(calls.lgetxattr)], { stdio: ['pipe', 'pipe', 'ignore'] });
    return new XattrReader(proc);
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl = this.buffered.indexOf('\n');
    while (nl >= 0 && this.waiting.length) {
      const w = this.waiting[0]!;
      w.lines.push(this.buffered.slice(0, nl));
      this.buffered = this.buffered.slice(nl + 1);
      if (w.lines.length === w.count) {
        this.waiting.shift();
        w.resolve(w.lines);
      }
      nl = this.buffered.indexOf('\n');
    }
  }

  /** Attributes of each path, in order; `undefined` where the file could not be asked (gone, no permission). */
  async read(paths: readonly string[]): Promise<(FileXattrs | undefined)[]> {
    if (paths.length === 0) return [];
    const lines = await new Promise<string[]>((resolve, reject) => {
      this.waiting.push({ count: paths.length, lines: [], resolve, reject });
      this.proc.stdin.write(Buffer.from(`${paths.join('\0')}\0\0`, 'utf8'));
    });
    return lines.map((line) => {
      if (line.startsWith('!')) return undefined;
      const raw = new Map<string, Buffer>();
      if (line !== '-')
        for (const pair of line.split(' ')) {
          const eq = pair.indexOf('=');
          raw.set(Buffer.from(pair.slice(0, eq), 'hex').toString('utf8'), Buffer.from(pair.slice(eq + 1), 'hex'));
        }
      return fileXattrs(raw);
    });
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}
