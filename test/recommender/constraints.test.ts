import { describe, expect, it } from 'vitest';
import { matchingLikes, matchKey, readPreferences, tagKeys, violations } from '../../recommender/constraints.js';

const TAGS = [
  'Horror',
  'Comedy',
  'Drama',
  'Musical',
  'Sci-Fi',
  'Western',
  'Thriller',
  'Film-Noir',
  'Romance',
  "Children's",
  'Animation',
  'Documentary',
  'War',
];

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
    ["The user dislikes children's movies", ["Children's"]],
    ['I hate scary movies', ['Horror']],
    // Avoid cues other than "hate".
    ["I can't stand horror movies", ['Horror']],
    ["I'm not into westerns", ['Western']],
    ['Horror is not for me', ['Horror']],
    ['I am not a horror fan', ['Horror']],
    ['Not a fan of horror', ['Horror']],
    ["I'm no fan of musicals", ['Musical']],
    ["I'm no big fan of musicals", ['Musical']],
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
    // A refusal avoids the name right after it, across "more" or "too".
    ['no horror please', ['Horror']],
    ['no more horror', ['Horror']],
    ['nothing too scary please', ['Horror']],
    ['I want no horror', ['Horror']],
    ['No horror, thrillers or westerns', ['Horror', 'Western', 'Thriller']],
    // "just not", "anything but" and "anything except" avoid on their own, with no like cue before them.
    ['Anything is fine, just not horror.', ['Horror']],
    ['just not horror please', ['Horror']],
    ["I'm fine with anything but horror", ['Horror']],
    ['anything except westerns', ['Western']],
    ['everything but westerns', ['Western']],
    ['anything other than musicals', ['Musical']],
    ["I'm just not into horror", ['Horror']],
    ['Horror is just not for me', ['Horror']],
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
    ['I like comedies just not horror', ['Comedy'], ['Horror']],
    ['I love comedies, no horror please', ['Comedy'], ['Horror']],
    ['I watched a western with no sound and loved it, no musicals though', ['Western'], ['Musical']],
    ['I like anything but horror, and nothing beats a comedy', ['Comedy'], ['Horror']],
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
    // Idioms with "no", "nothing" and "can't" that praise.
    ["I can't get enough of horror", ['Horror']],
    ['nothing beats a good western', ['Western']],
    ["There's nothing like a good western", ['Western']],
    ["There's nothing I love more than westerns", ['Western']],
  ])('likes: %s', (text, like) => {
    expect(readTags(text)).toEqual({ avoid: [], like });
  });

  it.each([
    'I watched a horror movie yesterday',
    "I don't hate westerns",
    "I didn't watch horror last night",
    'My friend recommended a western',
    'I have no problem with horror',
    'No problem with horror, thrillers or westerns',
    'I have nothing against westerns',
    "No doubt it's a horror classic",
    'It was nothing like horror',
    // Names before a refusal, or away from it, are not what it refuses.
    'I watched a horror film with no sound',
    'no, I watched a horror film',
    'I hate everything but comedies',
  ])('reads no preference from: %s', (text) => {
    expect(readTags(text)).toEqual({ avoid: [], like: [] });
  });

  it('cites the memory each preference came from', () => {
    const preferences = readPreferences([
      { id: 'f1', text: "I can't stand horror movies" },
      { id: 'f2', text: 'I love westerns' },
    ]);
    expect(
      violations(['Horror', 'Western'], preferences).map((preference) => [preference.memoryId, preference.text]),
    ).toEqual([['f1', "I can't stand horror movies"]]);
    expect(matchingLikes(['Western'], preferences).map((preference) => preference.memoryId)).toEqual(['f2']);
  });
});

describe('matchKey', () => {
  it('folds case, accents, hyphens, spaces, plurals and genre spellings to one key', () => {
    expect(['Sci-Fi', 'sci fi', 'SciFi', 'Science Fiction', 'science-fiction'].map(matchKey)).toEqual(
      Array(5).fill('scifi'),
    );
    expect(['Film-Noir', 'film noir', 'Noir'].map(matchKey)).toEqual(Array(3).fill('filmnoir'));
    expect(["Children's", 'children'].map(matchKey)).toEqual(['children', 'children']);
    expect(['Westerns', 'western', 'Amélie'].map(matchKey)).toEqual(['western', 'western', 'amelie']);
  });

  it('lets a stated dislike match however the catalog spells the tag', () => {
    const preferences = readPreferences([{ id: 'f1', text: "I can't stand sci-fi" }]);
    for (const tag of ['Sci-Fi', 'Science Fiction', 'science-fiction', 'SCIFI'])
      expect(violations([tag], preferences)).toHaveLength(1);
    expect(violations(['Science', 'Fiction'], preferences)).toEqual([]);
    expect(tagKeys('---')).toEqual([]);
  });
});
