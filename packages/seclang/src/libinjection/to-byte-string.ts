const NON_BYTE = /[^\x00-\xff]/;
const encoder = new TextEncoder();

/**
 * The detectors work on bytes (char codes 0-255). A string holding larger code points is
 * not a byte string, so it is turned into its UTF-8 bytes, which is what the C library would
 * see for the same text on the wire. Byte strings are returned as they are.
 */
export function toByteString(input: string): string {
  if (!NON_BYTE.test(input)) return input;
  const bytes = encoder.encode(input);
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}
