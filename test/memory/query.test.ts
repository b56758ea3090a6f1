import { describe, expect, it } from 'vitest';
import { ruleQueryGenerator } from '../../memory/index.js';

const now = new Date('2026-06-01T12:00:00Z');

describe('the offline query rules', () => {
  it('search for the content words, never a clitic that would match every possessive', async () => {
    const plan = await ruleQueryGenerator({ text: "When is my mother's birthday? We're planning it", now });
    expect(plan.terms).toEqual(expect.arrayContaining(['mother', 'birthday', 'planning']));
    expect(plan.terms.filter((term) => /^['’]/.test(term))).toEqual([]);
    expect(plan.embedText).not.toMatch(/'s|'re/);
  });
});
