import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { personaScope, userScope, validateScope } from '../../../memory/index.js';
import {
  NOTHING_LEFT,
  type PersonaReport,
  parseCatalog,
  RecommenderService,
  readMovielens,
  storeMovielens,
} from '../../../recommender/index.js';
import { InputError, UsageError } from '../../errors.js';
import {
  type Command,
  type CommandContext,
  checkArgument,
  DB_HELP,
  integerFlag,
  JSON_OPTION,
  requireFlag,
  USER_OPTION,
} from '../command.js';
import { printJson, progressBar } from '../io.js';

async function openService(context: CommandContext, options: { embedder?: boolean } = {}): Promise<RecommenderService> {
  const store = await context.openStore({ embedder: options.embedder ?? false });
  // With the embedder, predictions blend in content similarity from the stored item vectors.
  return new RecommenderService({
    db: store.db,
    memory: store,
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

export const catalogCommand: Command = {
  name: 'catalog',
  summary: 'import catalog items (CSV or JSONL) for recommendations',
  help: `Usage: mnemo catalog import FILE [--format csv|jsonl]

Adds or replaces catalog items. The format follows the file extension (.csv, .jsonl) unless --format says.
  JSONL: one object per line: {"id": "m1", "title": "Alien (1979)", "description": "...",
         "tags": ["Horror", "Sci-Fi"], "year": 1979, "metadata": {...}}; id and title required.
  CSV:   a header naming id,title and optionally description,tags,year; tags separated by "|";
         fields with commas in double quotes.
Every line is checked first: a malformed line is reported with its number and nothing is written.
Item text (title, description, tags) is embedded with the configured embedder (MNEMO_EMBEDDER).

Options:
      --format F       csv or jsonl
${DB_HELP}`,
  options: { format: { type: 'string' } },
  positionals: [1, 2],
  async run(context) {
    const file = subcommandArgument(context, 'subcommand', ['import'], 'a FILE');
    const format =
      (context.values.format as string | undefined) ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
    if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, not "${format}"`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
    }
    const items = parseCatalog(text, format, file);
    const store = await context.openStore();
    const service = new RecommenderService({ db: store.db, memory: store, embedder: store.embedder });
    await service.importItems(items);
    context.io.stdout.write(`imported ${items.length} items\n`);
  },
};

export const importCommand: Command = {
  name: 'import',
  summary: 'import a ratings dataset (MovieLens 100K) for evaluation',
  help: `Usage: mnemo import movielens DIR

Reads MovieLens 100K (u.item in ISO-8859-1, u.data, u.user) into the catalog and ratings: items get ids
"ml<movie id>" with their genres as tags, users "ml<user id>" with age band, gender and occupation.
MovieLens is for research only: keep such a database to yourself. Item text is not embedded (fast).
Run mnemo train afterwards.

Options:
${DB_HELP}`,
  options: {},
  positionals: [1, 2],
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
    const stored = storeMovielens(service.storage, movielens);
    context.io.stdout.write(`imported ${stored.items} items, ${stored.ratings} ratings, ${stored.users} users\n`);
  },
};

export const rateCommand: Command = {
  name: 'rate',
  summary: "record a user's rating of a catalog item",
  help: `Usage: mnemo rate --user U --item ID-or-TITLE --stars N

Records 1–5 stars (source: explicit). A title is matched fuzzily; an ambiguous title lists the candidates
and records nothing. Rating the same item again replaces the rating. It counts at once: predictions fold
in a user's current ratings without retraining.

Options:
  -u, --user U         user id
      --item X         item id or title
      --stars N        1 to 5
${DB_HELP}`,
  options: { ...USER_OPTION, item: { type: 'string' }, stars: { type: 'string' } },
  positionals: [0, 0],
  async run(context) {
    const user = requireFlag(context, 'user');
    const item = requireFlag(context, 'item');
    const stars = integerFlag(context, 'stars', Number.NaN, [1, 5]);
    if (Number.isNaN(stars)) throw new UsageError('--stars is required');
    const service = await openService(context);
    const rating = await service.rate(user, item, stars);
    context.io.stdout.write(
      `${user} rated ${rating.itemId} "${service.storage.item(rating.itemId)!.title}" ${stars}/5\n`,
    );
  },
};

export const predictCommand: Command = {
  name: 'predict',
  summary: "predict a user's rating of an item, with the reasons",
  help: `Usage: mnemo predict --user U --item ID-or-TITLE [--json]

Prints the predicted stars, the level it came from (user, persona or global: the blend backs off from the
user's own model to their persona and global biases when they have rated and said little) and why.
--json prints { itemId, title, predicted, level, why: [...] }.

Options:
  -u, --user U         user id
      --item X         item id or title
      --json           print JSON
${DB_HELP}`,
  options: { ...USER_OPTION, ...JSON_OPTION, item: { type: 'string' } },
  positionals: [0, 0],
  async run(context) {
    const user = requireFlag(context, 'user');
    const item = requireFlag(context, 'item');
    const service = await openService(context, { embedder: true });
    const prediction = await service.predict(user, item);
    context.io.stdout.write(
      context.values.json
        ? printJson(prediction)
        : `${prediction.title}: ${prediction.predicted.toFixed(2)} stars (${prediction.level} level)\n${prediction.why.map((why) => `  - ${why.text}\n`).join('')}`,
    );
  },
};

export const recommendCommand: Command = {
  name: 'recommend',
  summary: 'recommend unseen items to a user, each with why',
  help: `Usage: mnemo recommend --user U [--k 10] [--json]

Top-k items the user has not rated, honouring hard constraints they stated ("I can't stand horror" removes
horror), with some diversity across tags. --json prints an array of
{ itemId, title, score, predicted, level, why: [...] }.

Options:
  -u, --user U         user id
      --k N            how many (default 10)
      --json           print JSON
${DB_HELP}`,
  options: { ...USER_OPTION, ...JSON_OPTION, k: { type: 'string' } },
  positionals: [0, 0],
  async run(context) {
    const user = requireFlag(context, 'user');
    const k = integerFlag(context, 'k', 10, [1, 1000]);
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
};

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

export const personaCommand: Command = {
  name: 'persona',
  summary: "show a user's persona (taste group) and what it likes",
  help: `Usage: mnemo persona --user U [--json]
       mnemo persona --user U --set NAME | --clear

Personas are groups of users found from their tastes by mnemo train; a new or sparse user is placed from
their ratings, demographics and stated preferences. Shows the user's persona (a hand placement wins), its
members and shared memories, the level the user's predictions come from, and what the persona likes.
Showing writes nothing. Training records each user's persona in memory, so the agent's recall merges what
is remembered for that persona (mnemo remember --persona NAME).

Options:
  -u, --user U         user id
      --set NAME       place the user in a persona by hand (training never overrides it; predictions back off
                       to it when it is one of the trained personas)
      --clear          undo a hand placement: the user's persona follows their tastes again
      --json           print JSON
${DB_HELP}`,
  options: { ...USER_OPTION, ...JSON_OPTION, set: { type: 'string' }, clear: { type: 'boolean' } },
  positionals: [0, 0],
  async run(context) {
    const user = requireFlag(context, 'user');
    const placed = context.values.set;
    if (typeof placed === 'string' && context.values.clear)
      throw new UsageError('--set and --clear exclude each other');
    if (typeof placed === 'string') checkArgument(() => validateScope(personaScope(placed)));
    const store = await context.openStore({ embedder: false });
    try {
      const service = new RecommenderService({ db: store.db, memory: store });
      if (typeof placed === 'string') {
        store.setPersona(userScope(user), placed, 'hand');
        context.io.stdout.write(`${user} is now in persona "${placed}"\n`);
      } else if (context.values.clear) {
        store.setPersona(userScope(user), null);
        const automatic = service.automaticPersona(user);
        context.io.stdout.write(
          automatic ? `${user} is placed by their tastes again: ${automatic}\n` : `${user} is in no persona\n`,
        );
      } else {
        const report = service.persona(user);
        context.io.stdout.write(context.values.json ? printJson(report) : describePersona(user, report));
      }
    } finally {
      store.close();
    }
  },
};

export const trainCommand: Command = {
  name: 'train',
  summary: 'train the rating model and personas on every stored rating',
  help: `Usage: mnemo train

Trains the collaborative model (SVD++), fits personas (k-means over user factors) and the item-item model
(EASE) on every rating in the database, and keeps them in it. New ratings afterwards are folded in at
prediction time; retrain now and then to update items and personas.

Options:
${DB_HELP}`,
  options: {},
  positionals: [0, 0],
  async run(context) {
    const service = await openService(context);
    const bar = progressBar(context.io, 'training');
    const summary = service.train({ onProgress: ({ done, total }) => bar.update(done, total) });
    bar.finish();
    context.io.stdout.write(
      `trained on ${summary.ratings} ratings of ${summary.items} items by ${summary.users} users\n`,
    );
  },
};
