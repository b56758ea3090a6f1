import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../memory/sqlite/database.js';
import { RecommenderService } from '../../recommender/service.js';
import { editDistance, foldText } from '../../recommender/titles.js';

function catalog(titles: string[]): RecommenderService {
  const service = new RecommenderService({ db: openDatabase(':memory:') });
  service.storage.upsertItems(titles.map((title, index) => ({ id: `m${index + 1}`, title, description: null, tags: [], year: null, metadata: {} })));
  return service;
}

const resolved = (service: RecommenderService, query: string): string => service.resolveItem(query).title;

describe('finding an item by its title', () => {
  it('folds accents and case on both sides', () => {
    expect(foldText('Amélie (2001)')).toBe('amelie 2001');
    const service = catalog(['Amélie (2001)', 'Café Crème', 'Alien (1979)']);
    expect(resolved(service, 'amelie')).toBe('Amélie (2001)');
    expect(resolved(service, 'AMÉLIE')).toBe('Amélie (2001)');
    expect(resolved(service, 'cafe creme')).toBe('Café Crème');
  });

  it('tolerates a typo or two, more in longer words, none in short ones', () => {
    const service = catalog(['The Shining (1980)', 'Alien (1979)', 'Up (2009)', 'Shining, The (1997)']);
    expect(resolved(service, 'shinning (1980)')).toBe('The Shining (1980)');
    expect(resolved(service, 'alein')).toBe('Alien (1979)');
    expect(() => service.resolveItem('us')).toThrow(/no catalog item matches "us"/);
    // MovieLens writes the article last; either way of typing it finds both films.
    expect(() => service.resolveItem('the shinning')).toThrow(/ambiguous: m1 "The Shining \(1980\)", m4 "Shining, The \(1997\)"/);
    expect(editDistance('stra', 'star', 2)).toBe(1);
    expect(editDistance('shining', 'alien', 1)).toBe(2);
  });

  it('lets an exact title win outright and lists closer candidates first', () => {
    const titles = Array.from({ length: 19 }, (_, index) => `Synthetic Film ${index + 1}`);
    expect(resolved(catalog(titles), 'Synthetic Film 1')).toBe('Synthetic Film 1');
    // Without "Synthetic Film 1", the titles it begins come before those a word away.
    const rest = catalog(['Synthetic Film 3', ...titles.slice(9), 'Synthetic Film 4']);
    expect(() => rest.resolveItem('Synthetic Film 1')).toThrow(/ambiguous: m2 "Synthetic Film 10", m3 "Synthetic Film 11",/);
    const prefix = catalog(['Moon Base', 'Star Voyage', 'Star Voyage II']);
    expect(resolved(prefix, 'star voyage')).toBe('Star Voyage');
    expect(resolved(prefix, 'moo')).toBe('Moon Base');
  });
});
