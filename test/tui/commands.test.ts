import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MemoryStore } from '../../memory/index.js';
import { userScope } from '../../memory/types.js';
import { RecommenderService, recommenderStorage } from '../../recommender/index.js';
import { type ChatCommandContext, parseCommand, runCommand } from '../../src/chat/commands.js';
import { eventLines, formatTurnSummary } from '../../src/chat/transcript.js';
import { memoryStoreForTests } from '../../src/testing.js';

async function context(
  userId = 'ada',
): Promise<ChatCommandContext & { memory: MemoryStore; recommender: RecommenderService }> {
  const memory = await memoryStoreForTests();
  const recommender = new RecommenderService({ storage: recommenderStorage(memory.backend), memory });
  return {
    memory,
    recommender,
    userId,
    exportDir: mkdtempSync(join(tmpdir(), 'mnemo-chat-export-')),
    now: () => new Date('2025-01-02T03:04:05Z'),
  };
}

const texts = (result: { lines: readonly { text: string }[] }): string[] => result.lines.map((line) => line.text);

describe('parseCommand', () => {
  it('splits a slash command and leaves messages alone', () => {
    expect(parseCommand('/Remember  allergic to cats ')).toEqual({ name: 'remember', argument: 'allergic to cats' });
    expect(parseCommand('/memories')).toEqual({ name: 'memories', argument: '' });
    expect(parseCommand('hello /there')).toBeUndefined();
  });
});

describe('slash commands', () => {
  it('remembers, lists, forgets one, and forgets all only when told "all"', async () => {
    const chat = await context();
    const remembered = await runCommand('/remember allergic to cats', chat);
    expect(texts(remembered)[0]).toMatch(/^remembered: allergic to cats \(f\d+\)$/);
    await runCommand('/remember lives in Lisbon', chat);
    const listed = texts(await runCommand('/memories', chat));
    expect(listed).toHaveLength(2);
    expect(listed.join('\n')).toContain('allergic to cats');
    const id = /\((f\d+)\)/.exec(texts(remembered)[0]!)![1]!;
    expect(texts(await runCommand(`/forget ${id}`, chat))).toEqual([`forgot ${id}`]);
    expect(texts(await runCommand('/memories', chat)).join('\n')).not.toContain('allergic');

    expect(texts(await runCommand('/forget', chat))[0]).toMatch(/\/forget all deletes everything/);
    expect((await chat.memory.count(userScope('ada'))).fact).toBe(1);
    expect(texts(await runCommand('/forget all', chat))).toEqual(['forgot ada: 1 memory deleted']);
    expect(texts(await runCommand('/memories', chat))).toEqual(['no facts or preferences stored for ada']);
  });

  it('keeps users apart', async () => {
    const chat = await context();
    await runCommand('/remember likes jazz', chat);
    expect(texts(await runCommand('/memories', { ...chat, userId: 'bob' }))).toEqual([
      'no facts or preferences stored for bob',
    ]);
  });

  it('searches the user’s memories', async () => {
    const chat = await context();
    await runCommand('/remember adopted a greyhound named Pixel', chat);
    const found = texts(await runCommand('/search greyhound', chat));
    expect(found[0]).toMatch(/^1\. .*greyhound named Pixel/);
    expect(texts(await runCommand('/search', chat))).toEqual(['usage: /search QUERY']);
  });

  it('exports to a JSON file readable only by its owner and says where', async () => {
    const chat = await context();
    await runCommand('/remember allergic to cats', chat);
    const [line] = texts(await runCommand('/export', chat));
    const file = /to (.+\.json)$/.exec(line!)![1]!;
    expect(file.startsWith(chat.exportDir)).toBe(true);
    const exported = JSON.parse(readFileSync(file, 'utf8'));
    expect(exported).toMatchObject({ user: 'ada', exportedAt: '2025-01-02T03:04:05.000Z' });
    expect(exported.memories.map((memory: { text: string }) => memory.text)).toEqual(['allergic to cats']);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('rates catalog items by title, recommends, and reports recommender errors as one line', async () => {
    const chat = await context();
    await chat.recommender.storage.upsertItems([
      { id: 'm1', title: 'Alien (1979)', description: null, tags: ['Sci-Fi'], year: 1979, metadata: {} },
      { id: 'm2', title: 'Heat (1995)', description: null, tags: ['Crime'], year: 1995, metadata: {} },
    ]);
    expect(texts(await runCommand('/rate alien 5', chat))).toEqual(['rated Alien (1979) (m1) 5/5']);
    expect(texts(await runCommand('/rate alien 9', chat))[0]).toMatch(/^usage: \/rate ITEM STARS/);
    const missing = await runCommand('/rate Casablanca 4', chat);
    expect(missing.lines).toEqual([{ kind: 'error', text: 'no catalog item matches "Casablanca"' }]);
    const recommended = texts(await runCommand('/recommend', chat));
    expect(recommended).toHaveLength(1);
    expect(recommended[0]).toMatch(/^1\. Heat \(1995\) \(m2\)/);
    const persona = await runCommand('/persona', chat);
    expect(persona.lines).toEqual([{ kind: 'error', text: 'no trained model yet: run mnemo train' }]);
  });

  it('switches user, quits, and answers unknown commands with one line', async () => {
    const chat = await context();
    expect((await runCommand('/user bob', chat)).action).toEqual({ type: 'switch-user', userId: 'bob' });
    expect((await runCommand(`/user ${'x'.repeat(201)}`, chat)).lines[0]!.kind).toBe('error');
    expect((await runCommand('/quit', chat)).action).toEqual({ type: 'quit' });
    expect((await runCommand('/exit', chat)).action).toEqual({ type: 'quit' });
    expect((await runCommand('/frobnicate now', chat)).lines).toEqual([
      { kind: 'error', text: 'unknown command /frobnicate (try /help)' },
    ]);
    const help = texts(await runCommand('/help', chat)).join('\n');
    for (const name of [
      '/help',
      '/remember',
      '/memories',
      '/forget',
      '/search',
      '/recommend',
      '/rate',
      '/persona',
      '/export',
      '/user',
      '/quit',
    ])
      expect(help).toContain(name);
  });

  it('turns a failing store into one error line, not a throw', async () => {
    const chat = await context();
    await chat.memory.close();
    const result = await runCommand('/memories', chat);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]!.kind).toBe('error');
    expect(result.lines[0]!.text).not.toContain('\n');
  });
});

describe('event lines', () => {
  it('shows recalled and written memories compactly', () => {
    expect(
      eventLines({
        type: 'memory-recalled',
        query: 'pets',
        memories: [{ id: 'f1', kind: 'fact', text: 'allergic to cats' }],
        profile: [
          { id: 'f1', kind: 'fact', text: 'allergic to cats' },
          { id: 'f2', kind: 'profile', text: 'lives in Lisbon' },
        ],
      }),
    ).toEqual([{ kind: 'memory', text: 'recalled 2: allergic to cats · lives in Lisbon' }]);
    expect(eventLines({ type: 'memory-recalled', query: 'x', memories: [], profile: [] })).toEqual([]);
    expect(
      eventLines({
        type: 'memory-written',
        episodes: [{ id: 'e1', kind: 'episode', text: 'I am allergic to cats' }],
        facts: [
          { op: 'add', id: 'f3', text: 'allergic to cats' },
          { op: 'supersede', id: 'f4', text: 'lives in Porto', replaces: 'f2' },
        ],
      }),
    ).toEqual([
      { kind: 'memory', text: 'remembered: allergic to cats' },
      { kind: 'memory', text: 'updated: lives in Porto (replaces f2)' },
    ]);
    expect(eventLines({ type: 'error', stage: 'model', code: 'model_failed', message: 'connection\nrefused' })).toEqual(
      [{ kind: 'error', text: 'model error: connection refused' }],
    );
    expect(formatTurnSummary({ latencyMs: 1432, inputTokens: 812, outputTokens: 64 })).toBe('1.4 s, 812→64 tokens');
  });
});
