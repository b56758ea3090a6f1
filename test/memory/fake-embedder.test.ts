import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { EmbedderError } from '../../memory/errors.js';

function cosine(left: Float32Array | undefined, right: Float32Array | undefined): number {
  if (left === undefined || right === undefined) throw new Error('missing vector');
  return left.reduce((sum, value, index) => sum + value * (right[index] ?? 0), 0);
}

describe('FakeEmbedder', () => {
  it('defaults to 32 dimensions and id fake-32, and takes both as options', () => {
    const defaults = new FakeEmbedder();
    expect([defaults.dims, defaults.id]).toEqual([32, 'fake-32']);
    const custom = new FakeEmbedder({ dims: 8, id: 'custom' });
    expect([custom.dims, custom.id]).toEqual([8, 'custom']);
  });

  it('returns deterministic unit vectors, also for texts without words', async () => {
    const embedder = new FakeEmbedder({ dims: 16 });
    const first = await embedder.embed(['Hello world', '', '?!']);
    const second = await new FakeEmbedder({ dims: 16 }).embed(['Hello world', '', '?!']);
    expect(first).toEqual(second);
    for (const vector of first) {
      expect(vector).toHaveLength(16);
      expect(cosine(vector, vector)).toBeCloseTo(1, 5);
    }
  });

  it('puts texts sharing words closer than texts sharing none, ignoring case and punctuation', async () => {
    const [query, related, unrelated, shouted] = await new FakeEmbedder({ dims: 256 }).embed([
      'my favourite film is alien',
      'alien is a film about a ship',
      'pasta recipes with tomato',
      'MY FAVOURITE FILM, IS ALIEN!',
    ]);
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated));
    expect(cosine(query, shouted)).toBeCloseTo(1, 5);
  });

  it('records every call', async () => {
    const embedder = new FakeEmbedder();
    await embedder.embed(['a']);
    await embedder.embed(['b', 'c']);
    expect(embedder.calls).toEqual([['a'], ['b', 'c']]);
  });

  it('honours an aborted signal', async () => {
    const embedder = new FakeEmbedder();
    const error = await embedder.embed(['a'], { signal: AbortSignal.abort() }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(EmbedderError);
    expect((error as EmbedderError).code).toBe('aborted');
    expect(embedder.calls).toEqual([]);
  });
});
