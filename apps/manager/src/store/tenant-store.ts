import type { Kysely } from 'kysely';
import { ApiKeyRepository } from './api-key-repository.ts';
import { AuditRepository } from './audit-repository.ts';
import { CommandRepository } from './command-repository.ts';
import { ComputerRepository } from './computer-repository.ts';
import type { Dialect } from './database-factory.ts';
import { EventRepository } from './event-repository.ts';
import { ForwarderRepository } from './forwarder-repository.ts';
import { InventoryRepository } from './inventory-repository.ts';
import { JobRepository } from './job-repository.ts';
import type { Clock } from './json-column.ts';
import { CloudRepository } from './cloud-repository.ts';
import { PlaybookRepository } from './playbook-repository.ts';
import { PolicyRepository } from './policy-repository.ts';
import { SmartFolderRepository } from './smart-folder-repository.ts';
import { TaskRepository } from './task-repository.ts';
import type { TenantTables } from './tenant-schema.ts';
import { TokenRepository } from './token-repository.ts';
import { SessionRepository } from './session-repository.ts';
import { UserRepository } from './user-repository.ts';

/**
 * Everything of one tenant, in that tenant's own database. Code that holds a TenantStore can
 * only ever reach that tenant's rows: isolation does not depend on remembering a WHERE clause.
 */
export class TenantStore {
  readonly apiKeys: ApiKeyRepository;
  readonly policies: PolicyRepository;
  readonly computers: ComputerRepository;
  readonly tokens: TokenRepository;
  readonly events: EventRepository;
  readonly commands: CommandRepository;
  readonly smartFolders: SmartFolderRepository;
  readonly tasks: TaskRepository;
  readonly jobs: JobRepository;
  readonly audit: AuditRepository;
  readonly inventory: InventoryRepository;
  readonly playbooks: PlaybookRepository;
  readonly cloud: CloudRepository;
  readonly forwarders: ForwarderRepository;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;

  constructor(
    readonly tenantId: string,
    readonly db: Kysely<TenantTables>,
    readonly dialect: Dialect,
    clock: Clock,
  ) {
    this.apiKeys = new ApiKeyRepository(db, tenantId, clock);
    this.policies = new PolicyRepository(db, clock);
    this.computers = new ComputerRepository(db, tenantId, clock);
    this.tokens = new TokenRepository(db, tenantId, clock);
    this.events = new EventRepository(db, clock, dialect);
    this.commands = new CommandRepository(db, clock);
    this.smartFolders = new SmartFolderRepository(db, clock);
    this.tasks = new TaskRepository(db, clock);
    this.jobs = new JobRepository(db, dialect, clock);
    this.audit = new AuditRepository(db, clock);
    this.inventory = new InventoryRepository(db, clock);
    this.playbooks = new PlaybookRepository(db, clock);
    this.cloud = new CloudRepository(db, clock);
    this.forwarders = new ForwarderRepository(db, tenantId, clock);
    this.users = new UserRepository(db, clock);
    this.sessions = new SessionRepository(db, tenantId, clock);
    // Every stored event is queued for its forwarders in the same transaction (at-least-once).
    this.events.onIngest(
      async (trx, computerId, inserted) => {
        await this.forwarders.enqueue(trx, computerId, inserted);
      },
      (computerId, events) => this.forwarders.wants(computerId, events),
    );
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
