import { describe, expect, it } from 'vitest';
import { RecommenderService } from '../../recommender/service.js';
import { editDistance, foldText } from '../../recommender/titles.js';
import { sqliteStorage } from '../helpers/recommender.js';

async function catalog(titles: string[]): Promise<RecommenderService> {
  const service = new RecommenderService({ storage: sqliteStorage() });
  await service.storage.upsertItems(
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

const resolved = async (service: RecommenderService, query: string): Promise<string> =>
  (await service.resolveItem(query)).title;

describe('finding an item by its title', () => {
  it('folds accents and case on both sides', async () => {
    expect(foldText('Amélie (2001)')).toBe('amelie 2001');
    const service = await catalog(['Amélie (2001)', 'Café Crème', 'Alien (1979)']);
    expect(await resolved(service, 'amelie')).toBe('Amélie (2001)');
    expect(await resolved(service, 'AMÉLIE')).toBe('Amélie (2001)');
    expect(await resolved(service, 'cafe creme')).toBe('Café Crème');
  });

  it('tolerates a typo or two, more in longer words, none in short ones', async () => {
    const service = await catalog(['The Shining (1980)', 'Alien (1979)', 'Up (2009)', 'Shining, The (1997)']);
    expect(await resolved(service, 'shinning (1980)')).toBe('The Shining (1980)');
    expect(await resolved(service, 'alein')).toBe('Alien (1979)');
    await expect(service.resolveItem('us')).rejects.toThrow(/no catalog item matches "us"/);
    // MovieLens writes the article last; either way of typing it finds both films.
    await expect(service.resolveItem('the shinning')).rejects.toThrow(
      /ambiguous: m1 "The Shining \(1980\)", m4 "Shining, The \(1997\)"/,
    );
    expect(editDistance('stra', 'star', 2)).toBe(1);
    expect(editDistance('shining', 'alien', 1)).toBe(2);
  });

  it('lets an exact title win outright and lists closer candidates first', async () => {
    const titles = Array.from({ length: 19 }, (_, index) => `Synthetic Film ${index + 1}`);
    expect(await resolved(await catalog(titles), 'Synthetic Film 1')).toBe('Synthetic Film 1');
    // Titles the query begins come before those it only shares words with, the shorter first.
    const voyages = await catalog(['Voyage of the Star', 'Star Voyage: The Return', 'Star Voyage II']);
    await expect(voyages.resolveItem('star voyage')).rejects.toThrow(
      /ambiguous: m3 "Star Voyage II", m2 "Star Voyage: The Return"; use the id/,
    );
    const prefix = await catalog(['Moon Base', 'Star Voyage', 'Star Voyage II']);
    expect(await resolved(prefix, 'star voyage')).toBe('Star Voyage');
    expect(await resolved(prefix, 'moo')).toBe('Moon Base');
  });

  it('never takes one number, year or roman numeral for another', async () => {
    const service = await catalog([
      'Jaws (1975)',
      'Jaws 2 (1978)',
      'Toy Story 2 (1999)',
      'Rocky IV (1985)',
      'The Shining (1980)',
      'Shining, The (1997)',
    ]);
    for (const query of ['Jaws 3', 'Toy Story 3', 'Rocky V', 'shining 1990']) {
      await expect(service.resolveItem(query)).rejects.toThrow(`no catalog item matches "${query}"`);
    }
    expect(await resolved(service, 'jaws 2')).toBe('Jaws 2 (1978)');
    expect(await resolved(service, 'jaws2')).toBe('Jaws 2 (1978)');
    expect(await resolved(service, 'toy stroy 2')).toBe('Toy Story 2 (1999)');
    expect(await resolved(service, 'rocky iv')).toBe('Rocky IV (1985)');
    expect(await resolved(service, 'the shining 1997')).toBe('Shining, The (1997)');
    // "Synthetic Film 1" begins "Synthetic Film 10" as text, not as a title.
    const synthetic = await catalog(['Synthetic Film 3', 'Synthetic Film 10', 'Synthetic Film 11']);
    await expect(synthetic.resolveItem('Synthetic Film 1')).rejects.toThrow(/no catalog item matches/);
    expect(await resolved(await catalog(['Jaws 2 (1978)', 'Jaws 3-D (1983)']), 'Jaws 3')).toBe('Jaws 3-D (1983)');
  });

  it('forgives no typo in a short title', async () => {
    const service = await catalog(['Heat (1995)', 'Up (2009)', 'Alien (1979)']);
    for (const query of ['Beat', 'Heal', 'Heats', 'Ip'])
      await expect(service.resolveItem(query)).rejects.toThrow(`no catalog item matches "${query}"`);
    expect(await resolved(service, 'heat')).toBe('Heat (1995)');
  });

  it('offers titles reached only through typos as candidates unless just one is in reach', async () => {
    const service = await catalog([
      'Interstellar (2014)',
      'Interstella 5555 (2003)',
      'The Shining (1980)',
      'Heat (1995)',
    ]);
    // One edit from the first, two from the second: both in reach, so neither is guessed.
    await expect(service.resolveItem('interstelar')).rejects.toThrow(
      /ambiguous: m1 "Interstellar \(2014\)", m2 "Interstella 5555 \(2003\)"; use the id/,
    );
    expect(await resolved(service, 'interstellar')).toBe('Interstellar (2014)');
    expect(await resolved(service, 'shinning')).toBe('The Shining (1980)');
  });
});
