import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { decodeUtf8, type MemoryStore, personaScope, userScope, validateScope } from '../../../memory/index.js';
import {
  NOTHING_LEFT,
  type PersonaReport,
  parseCatalog,
  RecommenderService,
  type RecommenderStorage,
  readMovielens,
  recommenderStorage,
  storeMovielens,
} from '../../../recommender/index.js';
import { InputError, UsageError } from '../../errors.js';
import {
  type CommandContext,
  checkArgument,
  defineCommand,
  JSON_OPTION,
  type OptionSpecs,
  USER_OPTION,
} from '../command.js';
import { printJson, progressBar } from '../io.js';

const ITEM_OPTION = {
  type: 'string',
  value: 'X',
  required: true,
  description: 'item id or title',
} as const satisfies OptionSpecs[string];

/** The recommender's storage and the memory it reads, both in the opened store's database. */
function recommenderSources(store: MemoryStore): { storage: RecommenderStorage; memory: MemoryStore } {
  return { storage: recommenderStorage(store.backend), memory: store };
}

async function openService(context: CommandContext, options: { embedder?: boolean } = {}): Promise<RecommenderService> {
  const store = await context.openStore({ embedder: options.embedder ?? false });
  // With the embedder, predictions blend in content similarity from the stored item vectors.
  return new RecommenderService({
    ...recommenderSources(store),
    ...(options.embedder ? { embedder: store.embedder } : {}),
  });
}

/** The argument after a command's subcommand (its first positional), which must be one of `names`. */
function subcommandArgument(context: CommandContext, what: string, names: readonly string[], argument: string): string {
  const [name, value] = context.positionals;
  if (!names.includes(name!)) throw new UsageError(`unknown ${what} '${name}' (${what}s: ${names.join(', ')})`);
  if (value === undefined) throw new UsageError(`${name} needs ${argument}`);
  return value;
}

export const catalogCommand = defineCommand({
  name: 'catalog',
  summary: 'import catalog items (CSV or JSONL) for recommendations',
  description: `
Adds or replaces catalog items. The format follows the file extension (.csv, .jsonl) unless --format says.
  JSONL: one object per line: {"id": "m1", "title": "Alien (1979)", "description": "...",
         "tags": ["Horror", "Sci-Fi"], "year": 1979, "metadata": {...}}; id and title required.
  CSV:   a header naming id,title and optionally description,tags,year; tags separated by "|";
         fields with commas in double quotes.
Every line is checked first: a malformed line is reported with its number and nothing is written.
Item text (title, description, tags) is embedded with the configured embedder (MNEMO_EMBEDDER).`,
  options: { format: { type: 'string', value: 'F', description: 'csv or jsonl' } },
  // The subcommand explains a missing FILE itself ("import needs a FILE").
  positionals: [{ name: 'import' }, { name: 'FILE', optional: true }],
  async run(context) {
    const file = subcommandArgument(context, 'subcommand', ['import'], 'a FILE');
    const format = context.values.format ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
    if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, not "${format}"`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
    }
    const items = parseCatalog(decodeUtf8(bytes, file), format, file);
    const store = await context.openStore();
    const service = new RecommenderService({ ...recommenderSources(store), embedder: store.embedder });
    await service.importItems(items);
    context.io.stdout.write(`imported ${items.length} items\n`);
  },
});

export const importCommand = defineCommand({
  name: 'import',
  summary: 'import a ratings dataset (MovieLens 100K) for evaluation',
  description: `
Reads MovieLens 100K (u.item in ISO-8859-1, u.data, u.user) into the catalog and ratings: items get ids
"ml<movie id>" with their genres as tags, users "ml<user id>" with age band, gender and occupation.
MovieLens is for research only: keep such a database to yourself. Item text is not embedded (fast).
Run mnemo train afterwards.`,
  options: {},
  positionals: [{ name: 'movielens' }, { name: 'DIR', optional: true }],
  async run(context) {
    const directory = subcommandArgument(context, 'dataset', ['movielens'], 'a DIR');
    let movielens: ReturnType<typeof readMovielens>;
    try {
      movielens = readMovielens(directory);
    } catch (error) {
      // Bad lines are reported by file and line already.
      if (error instanceof InputError) throw error;
      throw new InputError(`cannot read MovieLens from ${join(directory)}: ${(error as Error).message}`);
    }
    const service = await openService(context);
    const stored = await storeMovielens(service.storage, movielens);
    context.io.stdout.write(`imported ${stored.items} items, ${stored.ratings} ratings, ${stored.users} users\n`);
  },
});

export const rateCommand = defineCommand({
  name: 'rate',
  summary: "record a user's rating of a catalog item",
  description: `
Records 1–5 stars (source: explicit). A title is matched fuzzily; an ambiguous title lists the candidates
and records nothing. Rating the same item again replaces the rating. It counts at once: predictions fold
in a user's current ratings without retraining.`,
  options: {
    user: { ...USER_OPTION.user, required: true },
    item: ITEM_OPTION,
    stars: { type: 'integer', value: 'N', min: 1, max: 5, required: true, description: 'stars' },
  },
  positionals: [],
  async run(context) {
    const { user, item, stars } = context.values;
    const service = await openService(context);
    const rating = await service.rate(user, item, stars);
    context.io.stdout.write(
      `${user} rated ${rating.itemId} "${(await service.storage.item(rating.itemId))!.title}" ${stars}/5\n`,
    );
  },
});

export const predictCommand = defineCommand({
  name: 'predict',
  summary: "predict a user's rating of an item, with the reasons",
  description: `
Prints the predicted stars, the level it came from (user, persona or global: the blend backs off from the
user's own model to their persona and global biases when they have rated and said little) and why.
--json prints { itemId, title, predicted, level, why: [...] }.`,
  options: { user: { ...USER_OPTION.user, required: true }, item: ITEM_OPTION, ...JSON_OPTION },
  positionals: [],
  async run(context) {
    const { user, item } = context.values;
    const service = await openService(context, { embedder: true });
    const prediction = await service.predict(user, item);
    context.io.stdout.write(
      context.values.json
        ? printJson(prediction)
        : `${prediction.title}: ${prediction.predicted.toFixed(2)} stars (${prediction.level} level)\n${prediction.why.map((why) => `  - ${why.text}\n`).join('')}`,
    );
  },
});

export const recommendCommand = defineCommand({
  name: 'recommend',
  summary: 'recommend unseen items to a user, each with why',
  description: `
Top-k items the user has not rated, honouring hard constraints they stated ("I can't stand horror" removes
horror), with some diversity across tags. --json prints an array of
{ itemId, title, score, predicted, level, why: [...] }.`,
  options: {
    user: { ...USER_OPTION.user, required: true },
    k: { type: 'integer', value: 'N', min: 1, max: 1000, default: 10, description: 'how many' },
    ...JSON_OPTION,
  },
  positionals: [],
  async run(context) {
    const { user, k } = context.values;
    const service = await openService(context, { embedder: true });
    const recommendations = await service.recommend(user, { k });
    context.io.stdout.write(
      context.values.json
        ? printJson(recommendations)
        : recommendations.length === 0
          ? `${NOTHING_LEFT}\n`
          : recommendations
              .map(
                (entry, index) =>
                  `${String(index + 1).padStart(2)}. ${entry.title} (${entry.itemId}) predicted ${entry.predicted.toFixed(2)}\n${entry.why.map((why) => `      ${why.text}\n`).join('')}`,
              )
              .join(''),
    );
  },
});

const counted = (count: number, noun: string, nouns = `${noun}s`): string => `${count} ${count === 1 ? noun : nouns}`;

function describePersona(user: string, report: PersonaReport): string {
  const persona =
    report.assignedBy === 'hand'
      ? `persona "${report.persona}" (placed by hand)`
      : `${report.persona} (by their tastes)`;
  const model =
    report.weights.length === 0
      ? 'no trained model yet: mnemo train fits personas and predicts ratings\n'
      : `predictions at ${report.level} level from ${counted(report.ratings, 'rating')} and ${counted(report.statements, 'stated preference')}; ` +
        `their tastes fit personas 1-${report.weights.length} by ${report.weights.map((weight) => weight.toFixed(2)).join(', ')}\n`;
  const likes =
    report.likes.length === 0
      ? ''
      : `${report.persona} likes:\n${report.likes.map((like) => `  - ${like.title}\n`).join('')}`;
  return `${user}: ${persona}: ${counted(report.members, 'member')}, ${counted(report.sharedMemories, 'shared memory', 'shared memories')}\n${model}${likes}`;
}

export const personaCommand = defineCommand({
  name: 'persona',
  summary: "show a user's persona (taste group) and what it likes",
  description: `
Personas are groups of users found from their tastes by mnemo train; a new or sparse user is placed from
their ratings, demographics and stated preferences. Shows the user's persona (a hand placement wins), its
members and shared memories, the level the user's predictions come from, and what the persona likes.
Showing writes nothing. Training records each user's persona in memory, so the agent's recall merges what
is remembered for that persona (mnemo remember --persona NAME).

  mnemo persona --user U [--json]             show
  mnemo persona --user U --set NAME | --clear place by hand, or undo that`,
  options: {
    user: { ...USER_OPTION.user, required: true },
    set: {
      type: 'string',
      value: 'NAME',
      description:
        'place the user in a persona by hand (training never overrides it; predictions back off to it when it is one of the trained personas)',
    },
    clear: { type: 'boolean', description: "undo a hand placement: the user's persona follows their tastes again" },
    ...JSON_OPTION,
  },
  positionals: [],
  async run(context) {
    const { user, set: placed } = context.values;
    if (typeof placed === 'string' && context.values.clear)
      throw new UsageError('--set and --clear exclude each other');
    if (typeof placed === 'string') checkArgument(() => validateScope(personaScope(placed)));
    const store = await context.openStore({
      embedder: false,
      writes: typeof placed === 'string' || context.values.clear === true,
    });
    try {
      const service = new RecommenderService(recommenderSources(store));
      if (typeof placed === 'string') {
        await store.setPersona(userScope(user), placed, 'hand');
        context.io.stdout.write(`${user} is now in persona "${placed}"\n`);
      } else if (context.values.clear) {
        await store.setPersona(userScope(user), null);
        const automatic = await service.automaticPersona(user);
        context.io.stdout.write(
          automatic ? `${user} is placed by their tastes again: ${automatic}\n` : `${user} is in no persona\n`,
        );
      } else {
        const report = await service.persona(user);
        context.io.stdout.write(context.values.json ? printJson(report) : describePersona(user, report));
      }
    } finally {
      await store.close();
    }
  },
});

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'train the rating model and personas on every stored rating',
  description: `
Trains the collaborative model (SVD++), fits personas (k-means over user factors) and the item-item model
(EASE) on every rating in the database, and keeps them in it. New ratings afterwards are folded in at
prediction time; retrain now and then to update items and personas.`,
  options: {},
  positionals: [],
  async run(context) {
    const service = await openService(context);
    const bar = progressBar(context.io, 'training');
    const summary = await service.train({ onProgress: ({ done, total }) => bar.update(done, total) });
    bar.finish();
    context.io.stdout.write(
      `trained on ${summary.ratings} ratings of ${summary.items} items by ${summary.users} users\n`,
    );
  },
});
