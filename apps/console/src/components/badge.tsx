/** A coloured status word; the colour only repeats what the text already says. */
export function Badge({ value }: { value: string | null | undefined }) {
  const v = value ?? 'unknown';
  return <span className={`badge badge-${v.replace(/[^a-z-]/gi, '')}`}>{v}</span>;
}
