/** Whether the fault suite runs its full form (`npm run test:faults`) or the short one every `npm test` runs. */
export const FULL_FAULTS = process.env.MNEMO_FAULTS === 'full';

/** `short` in the short form, `full` in the full one. */
export const faultCount = (short: number, full: number): number => (FULL_FAULTS ? full : short);

/** One line of a fault test's report: what it tried, and how many of those failed. */
export interface FaultRow {
  readonly fault: string;
  readonly tried: number;
  readonly failed: number;
  readonly note?: string;
}

/** Prints a fault test's table, as `npm run test:faults` shows it, and returns the rows that failed. */
export function reportFaults(title: string, rows: readonly FaultRow[]): FaultRow[] {
  const width = Math.max(...rows.map((row) => row.fault.length), 5);
  const lines = rows.map(
    (row) =>
      `  ${row.fault.padEnd(width)}  ${String(row.tried).padStart(6)}  ${String(row.failed).padStart(6)}${row.note ? `  ${row.note}` : ''}`,
  );
  console.log(
    `${title} (${FULL_FAULTS ? 'full' : 'short'} form)\n  ${'fault'.padEnd(width)}  ${'tried'.padStart(6)}  ${'failed'.padStart(6)}\n${lines.join('\n')}`,
  );
  return rows.filter((row) => row.failed > 0);
}
