import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/index.js';
import { runPrefevalBench } from '../../src/bench/prefeval.js';
import { answerBySimilarity, answerMcq, signedClauses } from '../../src/bench/prefeval-mcq.js';
import { seededRandom, shuffled } from '../../src/bench/stats.js';
import { tempDir } from '../helpers/tmp.js';

// A synthetic data set in PrefEval's shape (the real one's license keeps it out of the repo): 3 topics × 2 items.
// Item 0 of each topic is found: its question repeats the preference's words. Item 1 is lost: its question's
// words are only in the filler, which says them in every turn, so more than 10 turns outrank the preference.
// Half the preferences are aversions, where the aligned option is the one least like the preference's words.
const TOPICS = {
  food: [
    {
      preference: 'I avoid seafood and shellfish entirely.',
      question: 'I avoid seafood and shellfish entirely.',
      options: ['grilled vegetable platter', 'seafood paella', 'shellfish bisque', 'seafood tower with shellfish'],
    },
    {
      preference: 'I love spicy thai curry.',
      question: 'Where should I take zebra stripes photos?',
      options: ['spicy thai curry', 'mild cheese sandwich', 'vanilla milkshake', 'plain boiled potatoes'],
    },
  ],
  travel: [
    {
      preference: 'I always travel by overnight sleeper trains.',
      question: 'Which overnight sleeper trains do you suggest?',
      options: ['overnight sleeper trains', 'budget airline flights', 'rental car road trip', 'long distance coach'],
    },
    {
      preference: 'I never stay in hostels with shared dormitories.',
      question: 'Any zebra stripes tips for my safari?',
      options: ['private boutique suite', 'hostels with shared dormitories', 'shared dormitories', 'party hostels'],
    },
  ],
  music: [
    {
      preference: 'I adore baroque harpsichord concertos.',
      question: 'Could you name baroque harpsichord concertos?',
      options: ['baroque harpsichord concertos', 'heavy metal anthems', 'techno club remixes', 'country ballads'],
    },
    {
      preference: 'I dislike loud brass marching bands.',
      question: 'What zebra stripes patterns are trending?',
      options: ['quiet string quartet', 'loud brass marching bands', 'brass marching bands', 'loud marching drums'],
    },
  ],
};

/** Six filler conversations of two turns each, every message about zebra stripes. */
const FILLER = Array.from({ length: 6 }, (_, conversation) => ({
  conversation_id: `c${conversation}`,
  conversation: Array.from({ length: 4 }, (_, turn) => ({
    role: turn % 2 === 0 ? 'user' : 'assistant',
    content: `zebra stripes patterns photos tips trending safari note ${conversation}-${turn}`,
  })),
}));

function writeDataSet(directory: string, options: { misalign?: boolean } = {}): void {
  for (const folder of ['explicit_preference', 'mcq_options', 'implicit_preference/choice-based'])
    mkdirSync(join(directory, folder), { recursive: true });
  for (const [topic, items] of Object.entries(TOPICS)) {
    const file = `${topic}.json`;
    const write = (folder: string, value: unknown): void =>
      writeFileSync(join(directory, folder, file), JSON.stringify(value));
    write(
      'explicit_preference',
      items.map(({ preference, question }) => ({ preference, question, explanation: 'synthetic' })),
    );
    write(
      'mcq_options',
      items.map(({ preference, question, options: choices }, index) => ({
        preference,
        question: options.misalign && index === 1 ? `${question}?` : question,
        explanation: 'synthetic',
        classification_task_options: choices,
      })),
    );
    write(
      'implicit_preference/choice-based',
      items.map(({ question, options: choices }) => ({
        preference: 'unused',
        question,
        explanation: 'synthetic',
        implicit_query: 'Any suggestions?',
        options: [...choices].reverse(),
        conversation: {
          query: 'Any suggestions?',
          assistant_options: 'Here are four to consider.',
          // The pick names the aligned option: the turn that reveals the preference.
          user_selection: `I will go with ${choices[0]}, thanks.`,
          assistant_acknowledgment: 'Good choice.',
        },
        aligned_op: choices[0],
      })),
    );
  }
  writeFileSync(join(directory, 'filtered_inter_turns.json'), JSON.stringify(FILLER));
}

const embedder = () => new FakeEmbedder({ dims: 512 });

describe('mnemo bench prefeval', () => {
  it('finds the preference a question repeats at rank 1, loses the one it does not, and scores every topic', async () => {
    const directory = tempDir();
    writeDataSet(directory);
    // The hand-weighted sum, whose found and lost items these are.
    const report = await runPrefevalBench({
      dataPath: directory,
      embedder: embedder(),
      fillerTurns: 12,
      learned: false,
    });

    expect(report.topics).toBe(3);
    expect(report.explicit.learnedRanker).toBeUndefined();
    expect(report.fillerTurns).toBe(12);
    const { explicit } = report;
    expect(explicit.items).toBe(6);
    expect(explicit.turnsPerUser).toBe(1 + 24);
    // One found and one lost item per topic, for the hybrid search and for BM25 alike.
    expect(explicit.mnemo).toEqual({ recallAt1: 0.5, recallAt5: 0.5, recallAt10: 0.5 });
    expect(explicit.bm25).toEqual({ recallAt1: 0.5, recallAt5: 0.5, recallAt10: 0.5 });
    expect(Object.keys(explicit.byTopic)).toEqual(['food', 'music', 'travel']);
    for (const topic of Object.values(explicit.byTopic)) {
      expect(topic.items).toBe(2);
      expect(topic.mnemo.recallAt1).toBe(0.5);
    }
    // Given the gold preference the answerer gets every item, aversions included; plain similarity gets only the
    // three likings, because an aversion's words are the violating options' words.
    expect(explicit.mcq.gold).toBe(1);
    expect(explicit.mcq.goldSimilarityOnly).toBe(0.5);
    expect(explicit.mcq.chance).toBe(0.25);

    // The implicit set: the user's pick is the gold turn, after the question and options turns.
    expect(report.implicit?.items).toBe(6);
    expect(report.implicit?.turnsPerUser).toBe(4 + 24);
    expect(report.implicit?.mcq.gold).toBe(1);
  });

  it('with --limit 1 runs only the first item of each topic, and answers from the retrieved memory', async () => {
    const directory = tempDir();
    writeDataSet(directory);
    const report = await runPrefevalBench({ dataPath: directory, embedder: embedder(), fillerTurns: 12, limit: 1 });

    expect(report.explicit.items).toBe(3);
    expect(report.explicit.mnemo.recallAt1).toBe(1);
    expect(report.explicit.bm25.recallAt1).toBe(1);
    // The preference is among the top hits and is the user turn about the question: its answer is the right one.
    expect(report.explicit.mcq.retrieved).toBe(1);
    expect(report.explicit.mcq.bm25Retrieved).toBe(1);
  });

  it('with the learned ranker (the default), splits the figures into held-out and trained-on topics', async () => {
    const directory = tempDir();
    writeDataSet(directory);
    const report = await runPrefevalBench({ dataPath: directory, embedder: embedder(), fillerTurns: 12 });
    // None of these synthetic topics is among the ones the shipped ranker was trained on.
    expect(report.explicit.learnedRanker?.heldOut).toMatchObject({ topics: 3, items: 6, mnemo: report.explicit.mnemo });
    expect(report.explicit.learnedRanker?.inSample).toMatchObject({ topics: 0, items: 0 });
    expect(report.explicit.learnedRanker?.heldOut.bm25).toEqual(report.explicit.bm25);
  });

  it('refuses multiple-choice items that do not line up with the explicit ones', async () => {
    const directory = tempDir();
    writeDataSet(directory, { misalign: true });
    await expect(runPrefevalBench({ dataPath: directory, embedder: embedder() })).rejects.toThrow(
      /mcq_options\/food\.json does not line up .* \(item 1\)/,
    );
  });

  it('refuses more filler turns than the filler holds', async () => {
    const directory = tempDir();
    writeDataSet(directory);
    await expect(runPrefevalBench({ dataPath: directory, embedder: embedder(), fillerTurns: 13 })).rejects.toThrow(
      /holds 12 turns, fewer than 13/,
    );
  });
});

describe('the offline multiple-choice answerer', () => {
  it('cuts a preference into signed clauses', () => {
    expect(signedClauses('I prefer trains over planes.')).toEqual([
      { text: 'I prefer trains', sign: 1 },
      { text: 'planes', sign: -1 },
    ]);
    expect(signedClauses('I love tea, but I avoid sugar')).toEqual([
      { text: 'I love tea', sign: 1 },
      { text: 'I avoid sugar', sign: -1 },
    ]);
    expect(signedClauses("I don't eat meat without knowing its source")).toEqual([
      { text: "I don't eat meat", sign: -1 },
      { text: 'knowing its source', sign: 1 },
    ]);
    expect(signedClauses('We met over the weekend.')).toEqual([{ text: 'We met over the weekend', sign: 1 }]);
  });

  it('picks the option away from an aversion, where similarity alone picks the violating one', async () => {
    const options = ['seafood paella', 'grilled vegetable platter', 'shellfish bisque', 'seafood tower'];
    const preference = 'I avoid seafood and shellfish';
    expect((await answerMcq(embedder(), preference, options)).chosen).toBe(1);
    expect((await answerBySimilarity(embedder(), preference, options)).chosen).not.toBe(1);
  });

  it('takes an option that offers the absence of what the user avoids as honouring it', async () => {
    const options = ['a gluten-free bakery', 'a bakery famous for its sourdough', 'a pasta bar', 'a pizzeria'];
    const preference = 'I avoid gluten because of an intolerance';
    expect((await answerMcq(embedder(), preference, options)).chosen).toBe(0);
  });

  it('shuffles options the same way for the same seed', () => {
    const options = ['a', 'b', 'c', 'd'];
    const first = shuffled(options, seededRandom(7));
    expect(shuffled(options, seededRandom(7))).toEqual(first);
    expect([...first].sort()).toEqual(options);
    expect(options).toEqual(['a', 'b', 'c', 'd']);
  });
});
