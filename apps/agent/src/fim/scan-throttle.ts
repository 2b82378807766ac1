/** IO limits of a scan, so a full scan does not starve the services of a busy host. */
export interface ScanLimits {
  /** Entries the walk examines (lstat) per second. */
  filesPerSecond?: number;
  /** Bytes read for hashing per second. */
  bytesPerSecond?: number;
}

/**
 * Paces a scan to average rates since it started: each piece of work asks how long to wait
 * before it may start, given everything done before it. A scan that fell behind the rate (a slow
 * disk) runs unpaced until it is back on it.
 */
export class ScanThrottle {
  private files = 0;
  private bytes = 0;
  private readonly start: number;

  constructor(
    private readonly limits: ScanLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
  }

  get active(): boolean {
    return Boolean(this.limits.filesPerSecond || this.limits.bytesPerSecond);
  }

  /** Milliseconds to wait before examining `n` more entries. */
  beforeFiles(n: number): number {
    const fps = this.limits.filesPerSecond;
    if (!fps) return 0;
    const due = this.start + (this.files / fps) * 1000;
    this.files += n;
    return Math.max(0, due - this.now());
  }

  /** Milliseconds to wait before reading `n` more bytes. */
  beforeBytes(n: number): number {
    const bps = this.limits.bytesPerSecond;
    if (!bps) return 0;
    const due = this.start + (this.bytes / bps) * 1000;
    this.bytes += n;
    return Math.max(0, due - this.now());
  }
}
