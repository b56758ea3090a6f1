import { InputError } from './errors.js';
import { parseMemoryId } from './sqlite/rows.js';
import type { EpisodeInput, FactChange, FactKind, Memory, MemoryKind } from './types.js';
import { MAX_ROLE, validateFactKind, validateOptionalString, validateText, validateTime } from './validate.js';

// What every backend checks of a write before it embeds or stores anything, in one place.

/** A turn to store, checked: times in ms since the epoch, absent strings as null. */
export interface CheckedEpisode {
  readonly text: string;
  readonly role: string;
  readonly at: number;
  readonly session: string | null;
  readonly sourceId: string | null;
}

/** Checks turns to append; a message names the item when there are several. */
export function checkEpisodes(inputs: readonly EpisodeInput[], now: Date): CheckedEpisode[] {
  return inputs.map((input, index) => {
    const where = inputs.length > 1 ? ` (item ${index + 1})` : '';
    return {
      text: validateText(input?.text, `text${where}`),
      role: validateOptionalString(input.role, `role${where}`, MAX_ROLE) ?? 'user',
      at: validateTime(input.at, now, `at${where}`),
      session: validateOptionalString(input.session, `session${where}`),
      sourceId: validateOptionalString(input.sourceId, `id${where}`),
    };
  });
}

/** A fact change, checked: an invalidation with its time, or a fact to write with its episode rows. */
export type CheckedFactChange =
  | { readonly change: FactChange; readonly at: number; readonly text?: undefined }
  | {
      readonly change: FactChange;
      readonly text: string;
      readonly kind: FactKind;
      readonly validFrom: number;
      readonly provenance: number[];
    };

/** Checks fact changes; provenance must name episodes. */
export function checkFactChanges(changes: readonly FactChange[], now: Date): CheckedFactChange[] {
  return changes.map((change) => {
    if (change.op === 'invalidate') return { change, at: validateTime(change.at, now, 'at') };
    const fact = change.fact;
    return {
      change,
      text: validateText(fact?.text, 'fact text'),
      kind: validateFactKind(fact.kind),
      validFrom: validateTime(fact.validFrom, now, 'validFrom'),
      provenance: (fact.provenance ?? []).map(episodeRow),
    };
  });
}

/** The row of an episode id (`e12`); a fact id where an episode is expected is a mistake. */
export function episodeRow(id: string): number {
  const parsed = parseMemoryId(id);
  if (parsed.kind !== 'episode') throw new InputError(`${id} is a fact, not an episode (episode ids look like e12)`);
  return parsed.row;
}

/** An exported memory to restore, checked: its kind agrees with its id, times in ms since the epoch. */
export interface CheckedMemory {
  readonly kind: MemoryKind;
  readonly text: string;
  readonly role: string | null;
  readonly session: string | null;
  readonly at: number;
  readonly validTo: number | null;
  readonly sourceId: string | null;
  readonly createdAt: number;
}

const timeOf = (value: Date | string | null | undefined, what: string): number => {
  const time = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new InputError(`${what} is not a valid date: ${JSON.stringify(value)}`);
  return time;
};

/** Checks memories as an export gives them (from either backend) before they are restored. */
export function checkRestored(memories: readonly Memory[]): CheckedMemory[] {
  return memories.map((memory, index) => {
    const what = `memory ${memory.id ?? index + 1}`;
    const parsed = parseMemoryId(memory.id);
    const kind = memory.kind === 'episode' ? 'episode' : validateFactKind(memory.kind);
    if ((kind === 'episode') !== (parsed.kind === 'episode'))
      throw new InputError(`${what}: its id does not match its kind ${kind}`);
    return {
      kind,
      text: validateText(memory.text, `text of ${what}`),
      role: validateOptionalString(memory.role, `role of ${what}`, MAX_ROLE),
      session: validateOptionalString(memory.session, `session of ${what}`),
      at: timeOf(memory.at, `at of ${what}`),
      validTo:
        memory.validTo === null || memory.validTo === undefined ? null : timeOf(memory.validTo, `validTo of ${what}`),
      sourceId: validateOptionalString(memory.sourceId, `source id of ${what}`),
      createdAt: timeOf(memory.createdAt, `createdAt of ${what}`),
    };
  });
}
