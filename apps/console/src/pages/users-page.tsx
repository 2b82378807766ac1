import type { ConsoleUser, Role } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { DataTable } from '../components/data-table.tsx';
import { NewPasswordInput, RoleSelect } from '../components/form-fields.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { ago, when } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';

const col = createColumnHelper<ConsoleUser>();

/** Console users of the tenant (admins): create, disable/enable, reset a password. */
export function UsersPage() {
  const api = useApi();
  const { session } = useSessionContext();
  const qc = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => api.listUsers() });
  const refresh = () => qc.invalidateQueries({ queryKey: ['users'] });
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('auditor');
  const [password, setPassword] = useState('');
  const [resetting, setResetting] = useState<ConsoleUser | null>(null);
  const [newPassword, setNewPassword] = useState('');
  const create = useMutation({
    mutationFn: () => api.createUser({ username, password, role }),
    onSuccess: () => {
      setUsername('');
      setPassword('');
      return refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (u: ConsoleUser) => api.updateUser(u.id, { disabled: !u.disabled }),
    onSuccess: refresh,
  });
  const reset = useMutation({
    mutationFn: () => api.setUserPassword(resetting!.id, newPassword),
    onSuccess: () => {
      setResetting(null);
      setNewPassword('');
      return refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const submitReset = (e: FormEvent) => {
    e.preventDefault();
    reset.mutate();
  };
  const columns = [
    col.accessor('username', { header: 'Username' }),
    col.accessor('role', { header: 'Role' }),
    col.accessor((u) => (u.disabled ? 'disabled' : 'active'), { id: 'state', header: 'State' }),
    col.accessor('lastLoginAt', { header: 'Last login', cell: (c) => ago(c.getValue()) }),
    col.accessor('createdAt', { header: 'Created', cell: (c) => when(c.getValue()) }),
    col.display({
      id: 'actions',
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (c) => {
        const u = c.row.original;
        const self = u.username === session?.username;
        return (
          <span>
            {self ? null : (
              <button
                type="button"
                className="link"
                onClick={() => (u.disabled || confirm(`Disable ${u.username}? Their sessions end at once.`)) && toggle.mutate(u)}
                aria-label={`${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`}
              >
                {u.disabled ? 'Enable' : 'Disable'}
              </button>
            )}{' '}
            <button type="button" className="link" onClick={() => setResetting(u)} aria-label={`Set the password of ${u.username}`}>
              Set password
            </button>
          </span>
        );
      },
    }),
  ];
  return (
    <>
      <h1>Users</h1>
      <p className="muted">
        Console users of this tenant sign in with a username and password. Passwords have at least 12 characters and are stored as scrypt
        hashes; disabling a user or setting its password ends its sessions.
      </p>
      <form className="card form-grid" onSubmit={submit} aria-label="New user">
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} required maxLength={64} autoComplete="off" />
        </label>
        <RoleSelect value={role} onChange={setRole} adminAlso="keys and users" />
        <label>
          Password
          <NewPasswordInput value={password} onChange={setPassword} />
        </label>
        <div className="actions">
          <button type="submit" disabled={create.isPending}>
            Create user
          </button>
        </div>
        <ErrorMessage error={create.error ?? toggle.error} />
      </form>
      {resetting ? (
        <form className="card form-grid" onSubmit={submitReset} aria-label={`New password for ${resetting.username}`}>
          <label>
            New password for {resetting.username}
            <NewPasswordInput value={newPassword} onChange={setNewPassword} autoFocus />
          </label>
          <div className="actions">
            <button type="submit" disabled={reset.isPending}>
              Set password
            </button>{' '}
            <button type="button" className="secondary" onClick={() => setResetting(null)}>
              Cancel
            </button>
          </div>
          <ErrorMessage error={reset.error} />
        </form>
      ) : null}
      {reset.isSuccess ? <p role="status">Password set; the user's sessions have ended.</p> : null}
      <QueryState isLoading={users.isLoading} error={users.error} what="users" />
      {users.data ? (
        <DataTable data={users.data.users} columns={columns} caption="Console users" rowKey={(u) => u.id} empty="No users yet." />
      ) : null}
    </>
  );
}
