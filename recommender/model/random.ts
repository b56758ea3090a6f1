/** A seeded pseudo-random generator (mulberry32): every model and benchmark split is reproducible from its seed. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, bound). */
  integer(bound: number): number;
  /** Standard normal (Box–Muller). */
  gaussian(): number;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    integer: (bound) => Math.floor(next() * bound),
    gaussian() {
      const u = Math.max(next(), 1e-12);
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
  };
}

/** Shuffles `values` in place (Fisher–Yates) and returns it. */
export function shuffle<T extends { length: number; [index: number]: unknown }>(values: T, random: Random): T {
  for (let index = values.length - 1; index > 0; index--) {
    const other = random.integer(index + 1);
    const swap = values[index];
    values[index] = values[other];
    values[other] = swap;
  }
  return values;
}
