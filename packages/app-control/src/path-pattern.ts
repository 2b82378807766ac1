/**
 * Compiles a path rule pattern into a predicate. Hand-written instead of a glob library so the
 * engine has no dependency and the semantics are exactly what docs/app-control.md says:
 * `*` = within a segment, `**` = across segments, `?` = one character, trailing `/` = subtree.
 */
export function compilePathPattern(pattern: string): (path: string) => boolean {
  const source = pattern.endsWith('/') ? `${pattern}**` : pattern;
  let re = '^';
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '*') {
      if (source[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const compiled = new RegExp(`${re}$`);
  return (path) => compiled.test(path);
}

/** The same wildcard language for names (package names): `*` and `?`, no separators. */
export function compileNamePattern(pattern: string): (name: string) => boolean {
  const re = pattern
    .replace(/[\\^$.|+()[\]{}]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const compiled = new RegExp(`^${re}$`);
  return (name) => compiled.test(name);
}
