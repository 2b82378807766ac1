/** A secret shown once after creation, selectable for copying; the API never returns it again. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  return (
    <div className="secret" role="status">
      <label>
        {label} (shown once: copy it now)
        <input readOnly value={value} onFocus={(e) => e.target.select()} data-testid="secret-value" />
      </label>
      <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(value)}>
        Copy
      </button>
    </div>
  );
}
