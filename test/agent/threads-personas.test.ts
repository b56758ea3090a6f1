import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { globalScope, personaScope, userScope } from '../../memory/types.js';
import { createAgent } from '../../src/agent.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { tempDir } from '../helpers/tmp.js';

const noFacts = () => new AIMessage('{"changes": []}');
const systemOf = (messages: BaseMessage[]): string => String(messages[0]!.content);

describe('threads and personas', () => {
  it('forgetting a user deletes their threads and leaves no byte of them in the files', async () => {
    const path = join(tempDir(), 'agent.db');
    const memory = SqliteMemoryStore.open(path, { modules: STORAGE_MODULES, embedder: new FakeEmbedder({ dims: 32 }) });
    const model = fakeModel();
    for (let index = 0; index < 6; index++) model.respond(new AIMessage(`reply ${index}`)).respond(noFacts());
    const agent = createAgent({ store: memory, model });
    await agent.chat('my secret word is quetzalcoatlfjord', { userId: 'ada', threadId: 'one' });
    await agent.chat('again: quetzalcoatlfjord', { userId: 'ada', threadId: 'two' });
    await agent.chat('hello there', { userId: 'bob', threadId: 'one' });
    const threads = () =>
      memory.db.prepare('SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id').pluck().all() as string[];
    expect(threads()).toHaveLength(3);

    await memory.forget(userScope('ada'));
    expect(threads()).toHaveLength(1);
    const bytes = ['', '-wal'].map((suffix) =>
      existsSync(path + suffix) ? readFileSync(path + suffix) : Buffer.alloc(0),
    );
    for (const file of bytes) expect(file.includes(Buffer.from('quetzalcoatlfjord'))).toBe(false);
    // Bob's thread is untouched and continues.
    const bobThread = await agent.chat('still there?', { userId: 'bob', threadId: 'one' });
    expect(bobThread.reply).toBe('reply 3');
    await memory.close();
  });

  it('a user forgotten while their turn runs keeps nothing of it, and their ids never name anyone else', async () => {
    const path = join(tempDir(), 'agent.db');
    const memory = SqliteMemoryStore.open(path, { modules: STORAGE_MODULES, embedder: new FakeEmbedder({ dims: 32 }) });
    // "forget me" arrives (from Slack, say) while the extraction call of the turn is still out.
    const model = fakeModel()
      .respond(new AIMessage('noted snarkleberry'))
      .respond(() => {
        // SQLite's forget is done when the call returns; the factory cannot await.
        void memory.forget(userScope('ada'));
        return new AIMessage('{"changes": [{"op": "add", "kind": "fact", "text": "word is snarkleberry"}]}');
      })
      .respond(new AIMessage('hi bob'))
      .respond(noFacts());
    const agent = createAgent({ store: memory, model });
    const forgottenKey = (await memory.beginTurn(userScope('ada'), 't')).threadKey;
    const turn = await agent.chat('my secret word is snarkleberry', { userId: 'ada', threadId: 't' });
    expect(turn.written.facts).toEqual([]);
    expect(await memory.list(userScope('ada'), { history: true })).toEqual([]);
    expect(memory.db.prepare('SELECT count(*) FROM checkpoints').pluck().get()).toBe(0);
    const bytes = ['', '-wal'].map((suffix) =>
      existsSync(path + suffix) ? readFileSync(path + suffix) : Buffer.alloc(0),
    );
    for (const file of bytes) expect(file.includes(Buffer.from('snarkleberry'))).toBe(false);

    // The next user gets fresh ids: nothing the forgotten user's thread key or memory ids named comes back to life.
    await agent.chat('hello', { userId: 'bob', threadId: 't' });
    expect((await memory.beginTurn(userScope('bob'), 't')).threadKey).not.toBe(forgottenKey);
    await memory.close();
  });

  it('a tool asked for after the user was forgotten stores nothing', async () => {
    const memory = SqliteMemoryStore.open(':memory:', {
      modules: STORAGE_MODULES,
      embedder: new FakeEmbedder({ dims: 32 }),
    });
    const model = fakeModel()
      .respond(() => {
        // SQLite's forget is done when the call returns; the factory cannot await.
        void memory.forget(userScope('ada'));
        return new AIMessage({
          content: '',
          tool_calls: [{ id: 'c1', name: 'remember', args: { text: 'secret word is snarkleberry' } }],
        });
      })
      .respond(new AIMessage('ok'))
      .respond(noFacts());
    const turn = await createAgent({ store: memory, model }).chat('remember my secret word snarkleberry', {
      userId: 'ada',
      threadId: 't',
    });
    expect(turn.toolCalls).toEqual([
      expect.objectContaining({ isError: true, result: expect.stringMatching(/forgotten/) }),
    ]);
    expect(await memory.list(userScope('ada'), { history: true })).toEqual([]);
    await memory.close();
  });

  it('a turn cancelled after write-back stored it is not stored again, however slowly its events are read', async () => {
    const memory = SqliteMemoryStore.open(':memory:', {
      modules: STORAGE_MODULES,
      embedder: new FakeEmbedder({ dims: 32 }),
    });
    const controller = new AbortController();
    const model = fakeModel()
      .respond(new AIMessage('sure thing'))
      .respond(() => {
        controller.abort();
        return noFacts();
      });
    const agent = createAgent({ store: memory, model, tools: [] });
    const reading = (async () => {
      for await (const event of agent.stream('I like tea', {
        userId: 'ada',
        threadId: 't',
        signal: controller.signal,
      })) {
        // A slow surface: the events behind this one are still queued when the turn is cancelled.
        if (event.type === 'memory-recalled') await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    await expect(reading).rejects.toThrow();
    expect(
      (await memory.list(userScope('ada'), { history: true })).map((entry) => `${entry.role}: ${entry.text}`).sort(),
    ).toEqual(['assistant: sure thing', 'user: I like tea']);
    await memory.close();
  });

  it("recall merges user, persona and global memory, the user's first, and a new user is carried by the persona", async () => {
    const memory = SqliteMemoryStore.open(':memory:', {
      modules: STORAGE_MODULES,
      embedder: new FakeEmbedder({ dims: 64 }),
    });
    await memory.changeFacts(personaScope('night-owls'), [
      { op: 'add', fact: { text: 'night owls enjoy late movie screenings', kind: 'preference' } },
    ]);
    await memory.changeFacts(globalScope, [
      { op: 'add', fact: { text: 'movie screenings run until midnight on fridays' } },
    ]);
    await memory.setPersona(userScope('newbie'), 'night-owls');
    expect(await memory.personaOf(userScope('newbie'))).toEqual({ persona: 'night-owls', assignedBy: 'hand' });
    const model = fakeModel().respond(new AIMessage('How about the 11pm screening?')).respond(noFacts());
    await createAgent({ store: memory, model }).chat('Any movie screenings for me tonight?', { userId: 'newbie' });
    const prompt = systemOf(model.calls[0]!.messages);
    expect(prompt).toContain('persona group "night-owls"');
    const persona = prompt.indexOf('night owls enjoy late movie screenings');
    const global = prompt.indexOf('movie screenings run until midnight');
    expect(persona).toBeGreaterThan(0);
    expect(global).toBeGreaterThan(persona);
    expect(prompt).toMatch(/"from":"persona"[^\n]*night owls enjoy/);
  });
});
