import { InputError } from '../errors.js';

/**
 * Where the first malformed UTF-8 sequence of `bytes` starts (0-based), or -1. Follows the Unicode table of
 * well-formed sequences, so overlong forms, surrogates and code points past U+10FFFF count as malformed.
 */
function firstMalformed(bytes: Uint8Array): number {
  for (let index = 0; index < bytes.length; ) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index++;
      continue;
    }
    const length =
      lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0) return index;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let next = 1; next < length; next++) {
      const byte = bytes[index + next];
      if (byte === undefined || byte < (next === 1 ? low : 0x80) || byte > (next === 1 ? high : 0xbf)) return index;
    }
    index += length;
  }
  return -1;
}

/**
 * Decodes a text file's bytes as UTF-8, refusing malformed input instead of replacing it with U+FFFD: the error names
 * the file, the byte (counted from 1) and its line, e.g. `data.jsonl: not valid UTF-8 at byte 1234 (line 7)`.
 */
export function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstMalformed(bytes);
    let line = 1;
    for (let index = 0; index < at; index++) if (bytes[index] === 0x0a) line++;
    throw new InputError(
      at < 0 ? `${name}: not valid UTF-8` : `${name}: not valid UTF-8 at byte ${at + 1} (line ${line})`,
      { code: 'invalid_input' },
    );
  }
}
