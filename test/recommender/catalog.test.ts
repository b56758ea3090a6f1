import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../recommender/catalog.js';

const problemsOf = (text: string, format: 'csv' | 'jsonl' = 'csv'): string => {
  try {
    parseCatalog(text, format, 'items.csv');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the catalog to be refused');
};

describe('parseCatalog (CSV)', () => {
  it('keeps line breaks, commas and doubled quotes inside quoted fields', () => {
    const text =
      'id,title,description,tags\n1,Alien,"In space,\nno one can hear ""you""\nscream",Horror|Sci-Fi\n2,Heat,plain,Crime\n';
    expect(parseCatalog(text, 'csv').map(({ id, description, tags }) => ({ id, description, tags }))).toEqual([
      { id: '1', description: 'In space,\nno one can hear "you"\nscream', tags: ['Horror', 'Sci-Fi'] },
      { id: '2', description: 'plain', tags: ['Crime'] },
    ]);
  });

  it('reads Windows line endings, inside quoted fields too', () => {
    const items = parseCatalog('id,title,description\r\n1,Alien,"one\r\ntwo"\r\n\r\n2,Heat,\r\n', 'csv');
    expect(items.map((item) => [item.id, item.description])).toEqual([
      ['1', 'one\ntwo'],
      ['2', null],
    ]);
  });

  it('names a bad record by the line it starts on, after records that span lines', () => {
    const text = [
      'id,title,description',
      '1,Alien,"two',
      'lines"',
      '2,Heat',
      '',
      '3,"Long',
      'title",ok',
      '1,Again,dup',
    ].join('\n');
    expect(problemsOf(text)).toBe(
      'items.csv: 2 bad lines, nothing was written\n  line 4: 2 fields, the header has 3\n  line 8: duplicate id "1" (first on line 2)',
    );
  });

  it('refuses a quote left open at the line that opened it', () => {
    expect(problemsOf('id,title,description\n1,Alien,fine\n2,Heat,"never closed\n3,Ran,fine\n')).toBe(
      'items.csv: 1 bad line, nothing was written\n  line 3: unterminated quoted field',
    );
    expect(problemsOf('id,"title\n1,Alien\n')).toBe('items.csv: line 1: unterminated quoted field');
  });

  it('reads an empty, blank or header-only file as no items', () => {
    for (const text of ['', '\uFEFF', '\n \n', 'id,title\n', '\uFEFFid,title\r\n\r\n'])
      expect(parseCatalog(text, 'csv')).toEqual([]);
  });
});

describe('parseCatalog (JSONL)', () => {
  it('names each bad line by number, skipping blank ones', () => {
    expect(
      parseCatalog('{"id":"a","title":"A","description":"x\\ny"}\n\n{"id":"b","title":"B"}\n', 'jsonl').map((item) => [
        item.id,
        item.description,
      ]),
    ).toEqual([
      ['a', 'x\ny'],
      ['b', null],
    ]);
    expect(problemsOf('{"id":"a","title":"A"}\n\n{"id":"b"}\nnot json\n', 'jsonl')).toBe(
      'items.csv: 2 bad lines, nothing was written\n  line 3: "title" is required\n  line 4: not valid JSON',
    );
  });
});
