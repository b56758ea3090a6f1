import { describe, expect, it } from 'vitest';
import { matchingLikes, matchKey, readPreferences, tagKeys, violations } from '../../recommender/constraints.js';

const TAGS = ['Horror', 'Comedy', 'Drama', 'Musical', 'Sci-Fi', 'Western', 'Thriller', 'Film-Noir', 'Romance', "Children's", 'Animation', 'Documentary', 'War'];

/** What a statement makes of each tag: avoided (hard), liked (soft) or neither. */
function readTags(text: string): { avoid: string[]; like: string[] } {
  const preferences = readPreferences([{ id: 'f1', text }]);
  return {
    avoid: TAGS.filter((tag) => violations([tag], preferences).length > 0),
    like: TAGS.filter((tag) => matchingLikes([tag], preferences).length > 0),
  };
}

describe('readPreferences', () => {
  it.each([
    // Hyphenated and written-out genres.
    ["I can't stand Sci-Fi", ['Sci-Fi']],
    ["I can't stand sci fi", ['Sci-Fi']],
    ["I can't stand science fiction", ['Sci-Fi']],
    ['Dislikes science-fiction', ['Sci-Fi']],
    ["I can't stand film-noir", ['Film-Noir']],
    ["I can't stand Film Noir", ['Film-Noir']],
    ['The user dislikes children\'s movies', ["Children's"]],
    ['I hate scary movies', ['Horror']],
    // Avoid cues other than "hate".
    ["I can't stand horror movies", ['Horror']],
    ["I'm not into westerns", ['Western']],
    ['Horror is not for me', ['Horror']],
    ['I am not a horror fan', ['Horror']],
    ['Not a fan of horror', ['Horror']],
    ["I'm no fan of musicals", ['Musical']],
    ["Westerns aren't my thing", ['Western']],
    ["Don't show me horror", ['Horror']],
    ['Please never recommend horror', ['Horror']],
    ['I refuse to watch horror', ['Horror']],
    ["I'd rather not watch horror", ['Horror']],
    ["I don't do horror", ['Horror']],
    ['no musicals please', ['Musical']],
    ['Horror: no thanks', ['Horror']],
    ['Horror? No thank you.', ['Horror']],
    ["I'm tired of documentaries", ['Documentary']],
    ["I don't like horror or thrillers", ['Horror', 'Thriller']],
    ["I can't stand horror, thrillers and slashers", ['Horror', 'Thriller']],
    ['I like neither horror nor westerns', ['Horror', 'Western']],
    ["I don't like horror and never watch westerns", ['Horror', 'Western']],
    ["my kids can't stand horror", ['Horror']],
  ])('avoids: %s', (text, avoid) => {
    expect(readTags(text)).toEqual({ avoid, like: [] });
  });

  it.each([
    // A like clause turns into an avoid for what "not", "except", "but not", "apart from" single out.
    ['I like movies, just not horror', [], ['Horror']],
    ['I like everything except horror', [], ['Horror']],
    ['I like comedies but not horror', ['Comedy'], ['Horror']],
    ['I like comedies not horror', ['Comedy'], ['Horror']],
    ['I love dramas, except for war films', ['Drama'], ['War']],
    ['I like comedies apart from romantic ones', ['Comedy'], ['Romance']],
    ['I love comedies but hate horror', ['Comedy'], ['Horror']],
    // The later, present-tense statement is the one that holds.
    ['I used to hate horror but now I love it', ['Horror'], []],
    // A sentence with a verb of its own does not carry the one before.
    ['I love comedies. I watched a horror movie yesterday', ['Comedy'], []],
    ['I love comedies, I watched a horror movie yesterday', ['Comedy'], []],
  ])('reads likes and avoids in one statement: %s', (text, like, avoid) => {
    expect(readTags(text)).toEqual({ avoid, like });
  });

  it.each([
    ['I love horror', ['Horror']],
    ['big fan of westerns', ['Western']],
    ['I really enjoy sci-fi', ['Sci-Fi']],
    ["I'm into film noir", ['Film-Noir']],
    ['I love animated films', ['Animation']],
    ['I enjoy thrillers, dramas and westerns.', ['Drama', 'Western', 'Thriller']],
  ])('likes: %s', (text, like) => {
    expect(readTags(text)).toEqual({ avoid: [], like });
  });

  it.each([
    'I watched a horror movie yesterday',
    "I don't hate westerns",
    "I didn't watch horror last night",
    'My friend recommended a western',
  ])('reads no preference from: %s', (text) => {
    expect(readPreferences([{ id: 'f1', text }])).toEqual([]);
  });

  it('cites the memory each preference came from', () => {
    const preferences = readPreferences([
      { id: 'f1', text: "I can't stand horror movies" },
      { id: 'f2', text: 'I love westerns' },
    ]);
    expect(violations(['Horror', 'Western'], preferences).map((preference) => [preference.memoryId, preference.text])).toEqual([['f1', "I can't stand horror movies"]]);
    expect(matchingLikes(['Western'], preferences).map((preference) => preference.memoryId)).toEqual(['f2']);
  });
});

describe('matchKey', () => {
  it('folds case, accents, hyphens, spaces, plurals and genre spellings to one key', () => {
    expect(['Sci-Fi', 'sci fi', 'SciFi', 'Science Fiction', 'science-fiction'].map(matchKey)).toEqual(Array(5).fill('scifi'));
    expect(['Film-Noir', 'film noir', 'Noir'].map(matchKey)).toEqual(Array(3).fill('filmnoir'));
    expect(["Children's", 'children'].map(matchKey)).toEqual(['children', 'children']);
    expect(['Westerns', 'western', 'Amélie'].map(matchKey)).toEqual(['western', 'western', 'amelie']);
  });

  it('lets a stated dislike match however the catalog spells the tag', () => {
    const preferences = readPreferences([{ id: 'f1', text: "I can't stand sci-fi" }]);
    for (const tag of ['Sci-Fi', 'Science Fiction', 'science-fiction', 'SCIFI']) expect(violations([tag], preferences)).toHaveLength(1);
    expect(violations(['Science', 'Fiction'], preferences)).toEqual([]);
    expect(tagKeys('---')).toEqual([]);
  });
});
