import type { Diagnostic } from '@palisade/diagnostics';

/** One installed software package, whatever found it. */
export interface InventoryItem {
  /** OSV ecosystem spelling, with the distribution release where one applies: `Debian:12`, `npm`. */
  ecosystem: string;
  /** Name as the ecosystem spells it; Maven uses `groupId:artifactId`. */
  name: string;
  version: string;
  /** Package URL (purl spec), the portable identity used in reports. */
  purl: string;
  /** Where it was found: a file path, with `!` separating archive members (`app.war!WEB-INF/lib/x.jar`). */
  location: string;
  /**
   * The distribution's source package, when it differs from the binary package: Debian and
   * Ubuntu advisories name source packages (`openssl`), the host has binaries (`libssl1.1`).
   */
  sourceName?: string;
  sourceVersion?: string;
}

export interface OsRelease {
  id: string;
  versionId: string;
  versionCodename?: string;
  prettyName?: string;
  idLike: string[];
  /** The OSV ecosystem of the distribution's packages (`Debian:12`), when known. */
  ecosystem?: string;
}

export interface ListeningPort {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  address: string;
  port: number;
  inode: number;
  uid: number;
  /** Owning process, when the collector could see it (root can; others only their own). */
  pid?: number;
  /** Process name (`/proc/<pid>/comm`), e.g. `nginx`, `java`: the application type for rule recommendations. */
  process?: string;
}

/** A running process, one per executable (the first pid seen), for "what runs here" questions. */
export interface RunningProcess {
  pid: number;
  /** `/proc/<pid>/comm`, e.g. `nginx`. */
  name: string;
  /** Resolved `/proc/<pid>/exe` when readable (root sees all). */
  exe?: string;
  uid?: number;
}

/** What `palisade inventory collect --json` prints and `vuln match --inventory` reads. */
export interface Inventory {
  os?: OsRelease;
  items: InventoryItem[];
  ports: ListeningPort[];
  /** Running processes; present only when collecting the live host (or with `procDir`). */
  processes?: RunningProcess[];
  diagnostics: Diagnostic[];
}
