/** The q-quantile (0..1) of `values` by linear interpolation; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Latency summary in milliseconds, rounded to 0.01 ms. */
export function latencySummary(samples: readonly number[]): { p50: number; p95: number } {
  const round = (value: number): number => Math.round(value * 100) / 100;
  return { p50: round(quantile(samples, 0.5)), p95: round(quantile(samples, 0.95)) };
}
