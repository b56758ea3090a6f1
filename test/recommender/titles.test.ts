import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../memory/sqlite/database.js';
import { RecommenderService } from '../../recommender/service.js';
import { editDistance, foldText } from '../../recommender/titles.js';

function catalog(titles: string[]): RecommenderService {
  const service = new RecommenderService({ db: openDatabase(':memory:') });
  service.storage.upsertItems(
    titles.map((title, index) => ({
      id: `m${index + 1}`,
      title,
      description: null,
      tags: [],
      year: null,
      metadata: {},
    })),
  );
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
    expect(() => service.resolveItem('the shinning')).toThrow(
      /ambiguous: m1 "The Shining \(1980\)", m4 "Shining, The \(1997\)"/,
    );
    expect(editDistance('stra', 'star', 2)).toBe(1);
    expect(editDistance('shining', 'alien', 1)).toBe(2);
  });

  it('lets an exact title win outright and lists closer candidates first', () => {
    const titles = Array.from({ length: 19 }, (_, index) => `Synthetic Film ${index + 1}`);
    expect(resolved(catalog(titles), 'Synthetic Film 1')).toBe('Synthetic Film 1');
    // Titles the query begins come before those it only shares words with, the shorter first.
    const voyages = catalog(['Voyage of the Star', 'Star Voyage: The Return', 'Star Voyage II']);
    expect(() => voyages.resolveItem('star voyage')).toThrow(
      /ambiguous: m3 "Star Voyage II", m2 "Star Voyage: The Return"; use the id/,
    );
    const prefix = catalog(['Moon Base', 'Star Voyage', 'Star Voyage II']);
    expect(resolved(prefix, 'star voyage')).toBe('Star Voyage');
    expect(resolved(prefix, 'moo')).toBe('Moon Base');
  });

  it('never takes one number, year or roman numeral for another', () => {
    const service = catalog([
      'Jaws (1975)',
      'Jaws 2 (1978)',
      'Toy Story 2 (1999)',
      'Rocky IV (1985)',
      'The Shining (1980)',
      'Shining, The (1997)',
    ]);
    for (const query of ['Jaws 3', 'Toy Story 3', 'Rocky V', 'shining 1990']) {
      expect(() => service.resolveItem(query)).toThrow(`no catalog item matches "${query}"`);
    }
    expect(resolved(service, 'jaws 2')).toBe('Jaws 2 (1978)');
    expect(resolved(service, 'jaws2')).toBe('Jaws 2 (1978)');
    expect(resolved(service, 'toy stroy 2')).toBe('Toy Story 2 (1999)');
    expect(resolved(service, 'rocky iv')).toBe('Rocky IV (1985)');
    expect(resolved(service, 'the shining 1997')).toBe('Shining, The (1997)');
    // "Synthetic Film 1" begins "Synthetic Film 10" as text, not as a title.
    const synthetic = catalog(['Synthetic Film 3', 'Synthetic Film 10', 'Synthetic Film 11']);
    expect(() => synthetic.resolveItem('Synthetic Film 1')).toThrow(/no catalog item matches/);
    expect(resolved(catalog(['Jaws 2 (1978)', 'Jaws 3-D (1983)']), 'Jaws 3')).toBe('Jaws 3-D (1983)');
  });

  it('forgives no typo in a short title', () => {
    const service = catalog(['Heat (1995)', 'Up (2009)', 'Alien (1979)']);
    for (const query of ['Beat', 'Heal', 'Heats', 'Ip'])
      expect(() => service.resolveItem(query)).toThrow(`no catalog item matches "${query}"`);
    expect(resolved(service, 'heat')).toBe('Heat (1995)');
  });

  it('offers titles reached only through typos as candidates unless just one is in reach', () => {
    const service = catalog(['Interstellar (2014)', 'Interstella 5555 (2003)', 'The Shining (1980)', 'Heat (1995)']);
    // One edit from the first, two from the second: both in reach, so neither is guessed.
    expect(() => service.resolveItem('interstelar')).toThrow(
      /ambiguous: m1 "Interstellar \(2014\)", m2 "Interstella 5555 \(2003\)"; use the id/,
    );
    expect(resolved(service, 'interstellar')).toBe('Interstellar (2014)');
    expect(resolved(service, 'shinning')).toBe('The Shining (1980)');
  });
});
