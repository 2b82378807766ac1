import type { Generated } from 'kysely';

/**
 * Tables of one tenant's database. JSON documents are stored as text and times as ISO-8601 UTC
 * strings (`2026-01-02T03:04:05.678Z`), which sort correctly as text: the same column types then
 * work on SQLite and PostgreSQL without a dialect branch.
 */
export interface TenantTables {
  api_keys: {
    id: string;
    name: string;
    role: string;
    secret_hash: string;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  policies: {
    id: string;
    name: string;
    parent_id: string | null;
    description: string;
    settings: string;
    created_at: string;
    updated_at: string;
  };
  computers: {
    id: string;
    hostname: string;
    platform: string;
    ips: string;
    agent_version: string;
    cloud: string | null;
    tags: string;
    policy_id: string | null;
    group_name: string | null;
    overrides: string;
    status: string;
    modules: string;
    spool: string;
    config_hash: string;
    secret_hash: string;
    last_heartbeat: string | null;
    heartbeat_seconds: number;
    activated_at: string;
    deactivated_at: string | null;
    rule_assignments: string;
  };
  computer_inventory: {
    computer_id: string;
    collected_at: string;
    received_at: string;
    hash: string;
    inventory: string;
  };
  recommendation_scans: {
    computer_id: string;
    scanned_at: string;
    result: string;
  };
  playbooks: {
    id: string;
    name: string;
    description: string;
    enabled: number;
    trigger: string;
    actions: string;
    secrets: string;
    safeguards: string;
    created_at: string;
    updated_at: string;
  };
  playbook_hits: {
    playbook_id: string;
    event_id: string;
    trigger_key: string;
    time: string;
  };
  playbook_actions: {
    id: string;
    playbook_id: string;
    run_id: string;
    trigger_key: string;
    action_index: number;
    action_type: string;
    status: string;
    inputs: string;
    result: string;
    error: string | null;
    computer_id: string | null;
    event_ids: string;
    undoable: number;
    created_at: string;
    expires_at: string | null;
    undone_at: string | null;
    undo_result: string | null;
  };
  cloud_accounts: {
    id: string;
    name: string;
    provider: string;
    auth_type: string;
    aws_account_id: string | null;
    regions: string;
    role_arn: string | null;
    access_key_id: string | null;
    secrets: string;
    sync_interval_seconds: number;
    enabled: number;
    last_sync_at: string | null;
    last_sync_status: string | null;
    last_sync_error: string | null;
    last_sync_summary: string | null;
    created_at: string;
    updated_at: string;
  };
  cloud_instances: {
    instance_id: string;
    account_id: string;
    region: string;
    computer_id: string | null;
    state: string;
    asg_name: string | null;
    data: string;
    first_seen_at: string;
    last_seen_at: string;
  };
  cloud_asgs: {
    id: string;
    account_id: string;
    region: string;
    name: string;
    data: string;
    first_seen_at: string;
    last_seen_at: string;
  };
  activation_tokens: {
    id: string;
    secret_hash: string;
    description: string;
    policy_id: string | null;
    group_name: string | null;
    expires_at: string;
    max_uses: number | null;
    uses: number;
    revoked_at: string | null;
    created_at: string;
  };
  events: {
    id: string;
    computer_id: string;
    module: string;
    type: string;
    severity: string;
    rule_id: string | null;
    message: string;
    details: string | null;
    time: string;
    received_at: string;
  };
  commands: {
    id: string;
    computer_id: string;
    kind: string;
    args: string;
    status: string;
    created_at: string;
    delivered_at: string | null;
    completed_at: string | null;
    result: string | null;
    error: string | null;
  };
  smart_folders: {
    id: string;
    name: string;
    query: string;
    created_at: string;
    updated_at: string;
  };
  event_tasks: {
    id: string;
    name: string;
    trigger: string;
    conditions: string;
    actions: string;
    enabled: number;
    created_at: string;
  };
  scheduled_tasks: {
    id: string;
    name: string;
    cron: string;
    timezone: string;
    job_kind: string;
    job_args: string;
    enabled: number;
    next_run_at: string | null;
    last_run_at: string | null;
    created_at: string;
  };
  jobs: {
    id: string;
    kind: string;
    args: string;
    dedupe_key: string | null;
    status: string;
    run_at: string;
    attempts: number;
    lease_owner: string | null;
    lease_expires_at: string | null;
    created_at: string;
    finished_at: string | null;
    result: string | null;
    error: string | null;
  };
  audit_log: {
    id: string;
    time: string;
    actor: string;
    action: string;
    target: string;
    details: string;
  };
  schema_info: {
    key: string;
    value: string;
  };
  forwarders: {
    id: string;
    name: string;
    type: string;
    config: string;
    secrets: string;
    filter: string;
    enabled: number;
    created_at: string;
    updated_at: string;
    lease_owner: string | null;
    lease_expires_at: string | null;
    next_attempt_at: string | null;
    failures: number;
    last_error: string | null;
    last_success_at: string | null;
    /** Migration 0010: JSON `{maxAttempts, maxAgeSeconds}`, null = no limits. */
    dead_letter_policy: string | null;
  };
  /** Signature sets and web-reputation feeds delivered to agents (migration 0007, ADR 0007). */
  artifacts: {
    id: string;
    kind: string;
    name: string;
    format: string;
    sha256: string;
    size: number;
    version: number;
    bytes: Uint8Array;
    source: string;
    description: string;
    created_at: string;
    updated_at: string;
    refreshed_at: string;
    last_error: string | null;
  };
  forwarder_outbox: {
    id: string;
    forwarder_id: string;
    event_id: string;
    position: string;
    event: string;
    enqueued_at: string;
    /** Migration 0010: failed delivery attempts of this entry. */
    attempts: number;
  };
  /** Migration 0010: events taken out of a forwarder's outbox for good (see forwarder-repository.ts). */
  forwarder_dead_letters: {
    id: string;
    forwarder_id: string;
    event_id: string;
    position: string;
    event: string;
    enqueued_at: string;
    dead_at: string;
    attempts: number;
    reason: string;
    last_error: string;
  };
}

export interface DirectoryTables {
  tenants: {
    id: string;
    name: string;
    created_at: string;
    status: string;
  };
  /** Vulnerability data is shared by every tenant: it describes software, not customers. */
  advisories: {
    id: string;
    modified: string;
    record: string;
  };
  vuln_imports: {
    id: string;
    time: string;
    source: string;
    added: number;
    updated: number;
    unchanged: number;
    skipped: number;
    diagnostics: string;
  };
}

/** Marker so imports of Generated stay used if a later table needs it. */
export type { Generated };
