import { join } from 'node:path';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder, userScope } from '../../memory/index.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { createAgent } from '../../src/agent.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { mnemo } from '../helpers/cli.js';
import { occurrencesInDatabase } from '../helpers/files.js';
import { tempDir } from '../helpers/tmp.js';

const noFacts = () => new AIMessage('{"changes": []}');

/**
 * A thread as mnemo 0.1 checkpointed it: recalled memories and the profile as channels, and a search_memory result
 * quoting the fact both in the thread's messages and among the pending writes.
 */
async function threadOfEarlierVersion(memory: SqliteMemoryStore, secret: string, factId: string): Promise<void> {
  const { threadKey } = await memory.beginTurn(userScope('ada'), 'old');
  const thread = { configurable: { thread_id: threadKey, checkpoint_ns: '' } };
  const quoted = new ToolMessage({ content: `{"text":"${secret}"}`, name: 'search_memory', tool_call_id: 'c1' });
  const messages = [
    new HumanMessage('find my passport number'),
    new AIMessage({ content: '', tool_calls: [{ name: 'search_memory', args: {}, id: 'c1', type: 'tool_call' }] }),
    quoted,
    new AIMessage('Found it.'),
  ];
  const saver = new SqliteSaver(memory.db);
  const saved = await saver.put(
    thread,
    {
      v: 4,
      id: '1f000000-0000-6000-8000-000000000001',
      ts: new Date().toISOString(),
      channel_values: { messages, recalled: [{ id: factId, text: secret }], profile: [{ text: secret }] },
      channel_versions: { messages: 1, recalled: 1, profile: 1 },
      versions_seen: {},
    },
    { source: 'loop', step: 3, parents: {} },
  );
  await saver.putWrites(
    saved,
    [
      ['recalled', [{ text: secret }]],
      ['messages', [quoted]],
    ],
    'task-1',
  );
  memory.checkpoint();
}

/** What the model is sent when the thread of {@link threadOfEarlierVersion} goes on. */
const CONTINUED = [
  'find my passport number',
  '',
  '(search_memory answered; its result quoted memory, which threads do not keep)',
  'Found it.',
  'thanks',
];

describe('forgetting one memory', () => {
  it('leaves none of its text in the database files, though a thread recalled it and a tool quoted it', async () => {
    const db = join(tempDir(), 'mnemo.db');
    const secret = 'locker combination is 4711 zebra quasar';
    const memory = SqliteMemoryStore.open(db, { modules: STORAGE_MODULES, embedder: new FakeEmbedder({ dims: 64 }) });
    const [fact] = await memory.changeFacts(userScope('ada'), [{ op: 'add', fact: { text: `ada's ${secret}` } }]);
    const model = fakeModel()
      // Turn 1: recall puts the fact in the prompt; the reply does not repeat it.
      .respond(new AIMessage('Noted, I can look that up when you need it.'))
      .respond(noFacts())
      // Turn 2: the model searches memory; the tool result quotes the fact.
      // (Not respondWithTools: fakeModel's tool-call message echoes the whole prompt back as its content.)
      .respond(
        new AIMessage({
          content: '',
          tool_calls: [
            { name: 'search_memory', args: { query: 'locker combination' }, id: 'call-1', type: 'tool_call' },
          ],
        }),
      )
      .respond(new AIMessage('Found it in your memories.'))
      .respond(noFacts());
    const agent = createAgent({ store: memory, model });
    const first = await agent.chat('what is my locker combination?', { userId: 'ada', threadId: 'gym' });
    expect(first.reply).toMatch(/^Noted/);
    const prompt = String(model.calls[0]!.messages[0]!.content);
    expect(prompt).toContain(secret);
    const second = await agent.chat('search for it please', { userId: 'ada', threadId: 'gym' });
    expect(second.toolCalls).toEqual([expect.objectContaining({ name: 'search_memory', isError: false })]);
    expect(second.toolCalls[0]!.result).toContain(secret);
    // The thread is checkpointed, and before the forget the fact's text is in the file.
    expect((memory.db.prepare('SELECT count(*) AS n FROM checkpoints').get() as { n: number }).n).toBeGreaterThan(0);
    memory.checkpoint();
    expect(occurrencesInDatabase(db, secret)).toBeGreaterThan(0);
    await memory.close();

    // forget opens the file without an embedder; the CLI path is the one a person runs.
    const forgot = await mnemo({ MNEMO_DB: db }, ['forget', '--user', 'ada', '--id', fact!.id]);
    expect(forgot).toMatchObject({ code: 0, stderr: '' });
    expect(occurrencesInDatabase(db, secret)).toBe(0);
    // The conversation itself is still there: only the one memory went.
    const after = SqliteMemoryStore.open(db, { modules: STORAGE_MODULES });
    expect((await after.list(userScope('ada'), { kinds: ['episode'] })).map((episode) => episode.text)).toContain(
      'search for it please',
    );
    await after.close();
  });

  it('also leaves none in threads an earlier version checkpointed with the turn context in them', async () => {
    const db = join(tempDir(), 'mnemo.db');
    const secret = 'passport number is ZX 5512 walrus';
    const memory = SqliteMemoryStore.open(db, { modules: STORAGE_MODULES, embedder: new FakeEmbedder({ dims: 64 }) });
    const [fact] = await memory.changeFacts(userScope('ada'), [{ op: 'add', fact: { text: `ada's ${secret}` } }]);
    await threadOfEarlierVersion(memory, secret, fact!.id);
    expect(occurrencesInDatabase(db, secret)).toBeGreaterThan(1);
    await memory.close();

    const forgot = await mnemo({ MNEMO_DB: db }, ['forget', '--user', 'ada', '--id', fact!.id]);
    expect(forgot).toMatchObject({ code: 0, stderr: '' });
    expect(occurrencesInDatabase(db, secret)).toBe(0);

    // The thread goes on with its messages, the quoted result now a note.
    const reopened = SqliteMemoryStore.open(db, { modules: STORAGE_MODULES, embedder: new FakeEmbedder({ dims: 64 }) });
    const model = fakeModel().respond(new AIMessage('You are welcome.')).respond(noFacts());
    const agent = createAgent({ store: reopened, model });
    await agent.chat('thanks', { userId: 'ada', threadId: 'old' });
    expect(model.calls[0]!.messages.slice(1).map((message) => String(message.content))).toEqual(CONTINUED);
    await reopened.close();
  });

  it('strips those threads when an agent opens the file, before anything is forgotten', async () => {
    const db = join(tempDir(), 'mnemo.db');
    const secret = 'passport number is QV 9034 narwhal';
    const memory = SqliteMemoryStore.open(db, { modules: STORAGE_MODULES, embedder: new FakeEmbedder({ dims: 64 }) });
    const [fact] = await memory.changeFacts(userScope('ada'), [{ op: 'add', fact: { text: `ada's ${secret}` } }]);
    await threadOfEarlierVersion(memory, secret, fact!.id);
    const model = fakeModel().respond(new AIMessage('You are welcome.')).respond(noFacts());
    const agent = createAgent({ store: memory, model });
    // Only the fact itself holds the text now.
    expect(
      memory.db.prepare("SELECT count(*) FROM checkpoints WHERE instr(checkpoint, 'narwhal') > 0").pluck().get(),
    ).toBe(0);
    expect(memory.db.prepare("SELECT count(*) FROM writes WHERE instr(value, 'narwhal') > 0").pluck().get()).toBe(0);
    await agent.chat('thanks', { userId: 'ada', threadId: 'old' });
    expect(model.calls[0]!.messages.slice(1).map((message) => String(message.content))).toEqual(CONTINUED);
    await memory.close();
  });
});
