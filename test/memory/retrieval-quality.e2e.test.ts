import { beforeAll, describe, expect, it } from 'vitest';
import type { RankWeights } from '../../memory/retrieval/rank.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { userScope } from '../../memory/types.js';
import { BM25_ONLY } from '../../src/bench/baselines.js';
import { PARAPHRASE_DISTRACTORS, PARAPHRASE_QUESTIONS, PARAPHRASE_TURNS } from '../fixtures/paraphrase.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

// Paraphrased personal questions with the offline GloVe embedder: the answer shares no word with the question,
// so plain BM25 finds almost nothing; the hybrid search must.
describe('retrieval quality on paraphrased personal questions', () => {
  let store: SqliteMemoryStore;
  const user = userScope('paraphrase');

  beforeAll(async () => {
    store = SqliteMemoryStore.open(':memory:', { embedder: await sharedGloveEmbedder() });
    const turns = PARAPHRASE_TURNS.flatMap((turn, index) => [
      { text: turn.text, sourceId: turn.id, session: `s${index}` },
      { text: PARAPHRASE_DISTRACTORS[index]!, role: 'assistant', session: `s${index}` },
      { text: PARAPHRASE_DISTRACTORS[index + PARAPHRASE_TURNS.length]!, session: `s${index}` },
    ]);
    await store.addEpisodes(user, turns);
  });

  const evaluate = async (weights?: Partial<RankWeights>) => {
    let reciprocalRanks = 0;
    let inTop10 = 0;
    for (const { question, answer } of PARAPHRASE_QUESTIONS) {
      const hits = await store.search([user], question, { k: 10, ...(weights ? { weights } : {}) });
      const rank = hits.findIndex((hit) => hit.memory.sourceId === answer);
      if (rank >= 0) {
        inTop10 += 1;
        reciprocalRanks += 1 / (rank + 1);
      }
    }
    return { mrr: reciprocalRanks / PARAPHRASE_QUESTIONS.length, inTop10 };
  };

  it('finds most answers in the top 10 and ranks far better than BM25 alone', async () => {
    const hybrid = await evaluate();
    const bm25 = await evaluate(BM25_ONLY);
    expect(hybrid.inTop10).toBeGreaterThanOrEqual(12);
    expect(hybrid.mrr).toBeGreaterThan(0.4);
    expect(hybrid.mrr).toBeGreaterThan(bm25.mrr + 0.3);
  });
});
