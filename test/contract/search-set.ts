/**
 * A small fixed set for the contract's search-quality check: ten turns for each of three users, and questions worded
 * unlike the turns. FakeEmbedder hashes whole lower-cased words and full text matches them too, so each question
 * shares at least one word with its turn (no stemming or synonyms to lean on), and every other word of it differs.
 * Some words recur across users on purpose (cat, garden, work, brother), so a search that leaked another user's turns
 * would push the right one out of the top 3.
 */
export const SEARCH_TURNS: Readonly<Record<string, readonly string[]>> = {
  ada: [
    'I adopted a grey tabby cat named Miso last spring',
    'My sister Lena is getting married in Porto in September',
    'I work as a nurse on the night shift at the children’s hospital',
    'I am allergic to peanuts, so I always check the labels',
    'We are repainting the kitchen a pale olive green',
    'My favourite novel is still One Hundred Years of Solitude',
    'I started taking cello lessons on Tuesday evenings',
    'Our flat in Lyon has a tiny balcony full of tomatoes',
    'I ran my first half marathon in two hours and five minutes',
    'I drink oolong tea every morning instead of coffee',
  ],
  bob: [
    'I drive an old blue Volvo estate that keeps breaking down',
    'My daughter Mia just started primary school',
    'I am learning Japanese with an app before our trip to Kyoto',
    'I coach the under twelve football team on Saturdays',
    'I cannot stand coriander, it tastes like soap to me',
    'My job is fixing wind turbines along the coast',
    'We keep bees at the bottom of the garden',
    'I broke my wrist skateboarding when I was fifteen',
    'My brother Tom lives in Toronto and works in finance',
    'The cat next door sleeps on our garden wall all afternoon',
  ],
  cleo: [
    'I moved to Berlin to study architecture',
    'My grandmother taught me to bake sourdough bread',
    'I play the violin in a string quartet on weekends',
    'I am vegetarian and have been for ten years',
    'My dog Pepper is a three year old border collie',
    'I climb at the bouldering gym near the river',
    'I work part time in a bookshop that sells rare maps',
    'My partner Sam is a pilot for a cargo airline',
    'I collect vintage fountain pens from flea markets',
    'My brother gets seasick on ferries so we avoid boats',
  ],
};

/** A question, whose turn `expect` (verbatim from {@link SEARCH_TURNS}) must be in the asker's top 3. */
export interface SearchQuestion {
  readonly user: string;
  readonly ask: string;
  readonly expect: string;
}

const turn = (user: string, index: number): string => SEARCH_TURNS[user]![index]!;

export const SEARCH_QUESTIONS: readonly SearchQuestion[] = [
  { user: 'ada', ask: 'what is the name of my pet cat?', expect: turn('ada', 0) },
  { user: 'ada', ask: 'when is Lena’s wedding and where?', expect: turn('ada', 1) },
  { user: 'ada', ask: 'which foods make me allergic?', expect: turn('ada', 3) },
  { user: 'ada', ask: 'what instrument lessons have I been having?', expect: turn('ada', 6) },
  { user: 'bob', ask: 'which car do I drive these days?', expect: turn('bob', 0) },
  { user: 'bob', ask: 'what language was I learning for the holiday?', expect: turn('bob', 2) },
  { user: 'bob', ask: 'where does my brother live now?', expect: turn('bob', 8) },
  { user: 'cleo', ask: 'what breed of dog do I have?', expect: turn('cleo', 4) },
  { user: 'cleo', ask: 'what does my partner do for a living?', expect: turn('cleo', 7) },
  { user: 'cleo', ask: 'why did I go to Berlin?', expect: turn('cleo', 0) },
];
