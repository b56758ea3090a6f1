import { type TemporalEntity, temporalEntities } from '../text/nlp.js';

/** A half-open time interval [from, to). */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

const DAY = 86_400_000;
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  few: 3,
  couple: 2,
  several: 3,
};
const UNITS = ['day', 'week', 'month', 'year'] as const;
type Unit = (typeof UNITS)[number];

const startOfDay = (date: Date): Date =>
  new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY);
const monthRange = (year: number, month: number): TimeRange => ({
  from: new Date(Date.UTC(year, month, 1)),
  to: new Date(Date.UTC(year, month + 1, 1)),
});

/** The calendar unit (day, week, month, year) containing `now`, shifted by `offset` units. */
function unitRange(now: Date, unit: Unit, offset: number): TimeRange {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  switch (unit) {
    case 'day': {
      const from = addDays(startOfDay(now), offset);
      return { from, to: addDays(from, 1) };
    }
    case 'week': {
      const monday = addDays(startOfDay(now), -((now.getUTCDay() + 6) % 7) + 7 * offset);
      return { from: monday, to: addDays(monday, 7) };
    }
    case 'month':
      return monthRange(year, month + offset);
    case 'year':
      return { from: new Date(Date.UTC(year + offset, 0, 1)), to: new Date(Date.UTC(year + offset + 1, 0, 1)) };
  }
}

/**
 * Interprets one date phrase found by wink-nlp's entity recogniser ("last month", "two weeks ago", "May 2023",
 * "8 May, 2023", "yesterday") relative to `now`. wink finds the phrase; only its meaning is resolved here.
 */
export function resolveDatePhrase(phrase: string, now: Date): TimeRange | undefined {
  const text = phrase.toLowerCase().replace(/[,.]/g, ' ').replace(/\s+/g, ' ').trim();
  const words = text.split(' ');
  if (text === 'today' || text === 'tonight') return unitRange(now, 'day', 0);
  if (text === 'yesterday' || text === 'last night') return unitRange(now, 'day', -1);
  const relative = /^(last|this|past|previous|next) (day|week|month|year)$/.exec(text);
  if (relative) {
    const unit = relative[2] as Unit;
    if (relative[1] === 'past') return { from: addDays(now, -unitDays(unit)), to: now };
    return unitRange(now, unit, relative[1] === 'this' ? 0 : relative[1] === 'next' ? 1 : -1);
  }
  const ago = /^(\d+|[a-z]+) (day|week|month|year)s? ago$/.exec(text);
  if (ago) {
    const count = Number(ago[1]) || NUMBER_WORDS[ago[1]!] || 1;
    const unit = ago[2] as Unit;
    const center = addDays(now, -count * unitDays(unit));
    // "two weeks ago" is fuzzy: accept half a unit either side.
    const slack = (unitDays(unit) * DAY) / 2;
    return { from: new Date(center.getTime() - slack), to: new Date(center.getTime() + slack) };
  }
  const month = words.map((word) => MONTHS.indexOf(word)).find((index) => index >= 0);
  const year = words.map(Number).find((value) => Number.isInteger(value) && value >= 1900 && value <= 2200);
  const day = words.map(Number).find((value) => Number.isInteger(value) && value >= 1 && value <= 31);
  if (month !== undefined) {
    const resolvedYear = year ?? (month <= now.getUTCMonth() ? now.getUTCFullYear() : now.getUTCFullYear() - 1);
    if (day !== undefined) {
      const from = new Date(Date.UTC(resolvedYear, month, day));
      return { from, to: addDays(from, 1) };
    }
    return monthRange(resolvedYear, month);
  }
  if (year !== undefined && words.length <= 2)
    return { from: new Date(Date.UTC(year, 0, 1)), to: new Date(Date.UTC(year + 1, 0, 1)) };
  const parsed = Date.parse(phrase);
  if (!Number.isNaN(parsed)) {
    const from = startOfDay(new Date(parsed));
    return { from, to: addDays(from, 1) };
  }
  return undefined;
}

function unitDays(unit: Unit): number {
  return unit === 'day' ? 1 : unit === 'week' ? 7 : unit === 'month' ? 30 : 365;
}

/** The smallest range covering every date phrase in `text`, if it names any. */
export function timeRangeOf(
  text: string,
  now: Date,
  entities: readonly TemporalEntity[] = temporalEntities(text),
): TimeRange | undefined {
  let searchFrom = 0;
  const ranges = entities
    .filter((entity) => entity.type === 'DATE')
    .map((entity) => {
      // wink tags "8 May, 2023" as a DATE ("8 May") followed by a CARDINAL ("2023"): take the year along.
      const start = text.indexOf(entity.value, searchFrom);
      searchFrom = start < 0 ? searchFrom : start + entity.value.length;
      const year = start < 0 ? null : /^,?\s*(\d{4})\b/.exec(text.slice(searchFrom));
      return resolveDatePhrase(year ? `${entity.value} ${year[1]}` : entity.value, now);
    })
    .filter((range): range is TimeRange => range !== undefined);
  if (ranges.length === 0) return undefined;
  return {
    from: new Date(Math.min(...ranges.map((range) => range.from.getTime()))),
    to: new Date(Math.max(...ranges.map((range) => range.to.getTime()))),
  };
}
