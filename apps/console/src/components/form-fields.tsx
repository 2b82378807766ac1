import type { Role } from '@palisade/api-client';
import type { InputHTMLAttributes } from 'react';

/** A label above its input, tied by `id` (the login forms). */
export function LabelledInput({ id, label, ...input }: { id: string; label: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} />
    </>
  );
}

/** A new console-user password: the manager refuses fewer than 12 characters. */
export function NewPasswordInput({ value, onChange, autoFocus }: { value: string; onChange: (v: string) => void; autoFocus?: boolean }) {
  return (
    <input
      type="password"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      required
      minLength={12}
      autoComplete="new-password"
      autoFocus={autoFocus}
    />
  );
}

/** The role of a new API key or console user; `adminAlso` says what an admin may do beyond an operator. */
export function RoleSelect({ value, onChange, adminAlso }: { value: Role; onChange: (r: Role) => void; adminAlso: string }) {
  return (
    <label>
      Role
      <select value={value} onChange={(e) => onChange(e.target.value as Role)}>
        <option value="auditor">auditor (read only)</option>
        <option value="operator">operator (change policies and computers)</option>
        <option value="admin">{`admin (also ${adminAlso})`}</option>
      </select>
    </label>
  );
}
