import { AIMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { userScope } from '../../memory/types.js';
import { extractionPrompt, parseExtraction } from '../../prompts/extraction.js';
import { createAgent } from '../../src/agent.js';
import { STORAGE_MODULES } from '../../src/storage.js';

const answer = (changes: unknown): string => JSON.stringify({ changes });

describe('parseExtraction', () => {
  it('keeps the valid changes and drops the malformed ones', () => {
    const changes = parseExtraction(
      answer([
        { op: 'add', kind: 'preference', text: 'likes jazz' },
        { op: 'delete', id: 'f1' },
        { op: 'supersede', kind: 'fact', text: 'lives in Oslo' },
        { op: 'add', text: '   ' },
        null,
        'has a cat',
        { op: 'supersede', id: 'f2', kind: 'fact', text: 'lives in Bergen' },
        { op: 'add', text: 'x'.repeat(1001) },
        { op: 'invalidate', id: 'f3' },
        { op: 'invalidate' },
      ]),
    );
    expect(changes).toEqual([
      { op: 'add', kind: 'preference', text: 'likes jazz' },
      { op: 'supersede', id: 'f2', kind: 'fact', text: 'lives in Bergen' },
      { op: 'invalidate', id: 'f3' },
    ]);
  });

  it('keeps the first 20 valid changes of a longer answer', () => {
    const many = [{ op: 'bogus' }, ...Array.from({ length: 25 }, (_, index) => ({ op: 'add', text: `fact ${index}` }))];
    const changes = parseExtraction(answer(many));
    expect(changes).toHaveLength(20);
    expect(changes.map((change) => (change.op === 'add' ? change.text : ''))).toEqual(
      Array.from({ length: 20 }, (_, index) => `fact ${index}`),
    );
  });

  it('defaults and repairs the kind, trims the text, and reads JSON wrapped in prose or a code fence', () => {
    const wrapped =
      'Sure! Here it is:\n```json\n{"changes": [{"op": "add", "text": "  has a dog  "}, {"op": "add", "kind": "opinion", "text": "likes tea"}]}\n```';
    expect(parseExtraction(wrapped)).toEqual([
      { op: 'add', kind: 'fact', text: 'has a dog' },
      { op: 'add', kind: 'fact', text: 'likes tea' },
    ]);
    expect(parseExtraction('{"changes": []}')).toEqual([]);
  });

  it('throws, so the caller retries, when the answer is not JSON or has no changes array', () => {
    expect(() => parseExtraction('I could not find any facts.')).toThrow(/no JSON object/);
    expect(() => parseExtraction('{"changes": [oops]}')).toThrow();
    expect(() => parseExtraction('{"facts": [{"op": "add", "text": "likes jazz"}]}')).toThrow(/changes/);
    expect(() => parseExtraction('{"changes": {"op": "add", "text": "likes jazz"}}')).toThrow(/changes/);
  });
});

describe('extractionPrompt', () => {
  const input = {
    userMessage: 'I moved to Bergen last month.',
    assistantReply: 'Welcome! You should try the Fløibanen funicular, and maybe take up hiking.',
    existing: [{ id: 'f2', kind: 'fact', text: 'lives in Oslo' }],
  };
  const prompt = extractionPrompt(input);

  it("takes facts from the person's message and shows the reply only in a field marked as context", () => {
    const data = JSON.parse(prompt.user) as Record<string, unknown>;
    expect(data.person_said).toBe(input.userMessage);
    const replyFields = Object.entries(data)
      .filter(([, value]) => value === input.assistantReply)
      .map(([key]) => key);
    expect(replyFields).toEqual(['assistant_reply_for_context_only']);
    expect(prompt.user.split('Fløibanen')).toHaveLength(2);
    expect(prompt.system).not.toContain('Fløibanen');
    expect(data.existing_facts).toEqual([{ id: 'f2', kind: 'fact', text: 'lives in Oslo' }]);
  });

  it("says the assistant's suggestions are not facts about the person", () => {
    expect(prompt.system).toMatch(/only what the person states in "person_said"/);
    expect(prompt.system).toMatch(/"assistant_reply_for_context_only" is context only/);
    expect(prompt.system.replace(/\n/g, ' ')).toMatch(
      /suggestions,? [^.]*made by the assistant are not facts about the person/,
    );
  });

  it('says invalidate is how a retracted fact leaves current memory, and that there is no delete', () => {
    const system = prompt.system.replace(/\n\s*/g, ' ');
    expect(system).toMatch(/"invalidate" an existing fact \(by id\) that the person retracts/);
    expect(system).toMatch(/removes it from current memory \(its history is kept\); there is no delete/);
  });
});

describe('write-back with a partly malformed extraction', () => {
  it('stores the valid facts instead of losing the whole answer', async () => {
    const memory = SqliteMemoryStore.open(':memory:', {
      modules: STORAGE_MODULES,
      embedder: new FakeEmbedder({ dims: 64 }),
    });
    const extraction = answer([
      { op: 'add', kind: 'preference', text: 'likes jazz' },
      { op: 'delete', id: 'f1' },
      { op: 'add' },
    ]);
    const model = fakeModel().respond(new AIMessage('Noted!')).respond(new AIMessage(extraction));
    const result = await createAgent({ store: memory, model }).chat('I love jazz.', { userId: 'ada' });
    expect(result.written.facts).toMatchObject([{ op: 'add', kind: 'preference', text: 'likes jazz' }]);
    expect((await memory.list(userScope('ada'), { kinds: ['preference'] })).map((fact) => fact.text)).toEqual([
      'likes jazz',
    ]);
    expect(model.calls).toHaveLength(2);
    await memory.close();
  });
});
