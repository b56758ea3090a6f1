import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { FakeEmbedder, InputError, userScope } from '../../memory/index.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { defineTool, TOOLS, type ToolServices } from '../../tools/index.js';

const context = { userId: 'ada', threadId: 't' };

describe('defineTool', () => {
  const seen: unknown[] = [];
  const echo = defineTool({
    name: 'echo',
    description: 'Repeat the text.',
    schema: z.object({
      text: z.string().min(1).describe('What to repeat'),
      times: z.number().int().min(1).max(3).default(1).describe('How often'),
    }),
    async execute(args) {
      expectTypeOf(args).toEqualTypeOf<{ text: string; times: number }>();
      seen.push(args);
      return args.text.repeat(args.times);
    },
  });
  const services = {} as ToolServices;

  it('gives execute the parsed arguments, defaults applied', async () => {
    expect(await echo.call({ text: 'ab' }, services, context)).toBe('ab');
    expect(await echo.call({ text: 'ab', times: 2 }, services, context)).toBe('abab');
    expect(seen).toEqual([
      { text: 'ab', times: 1 },
      { text: 'ab', times: 2 },
    ]);
  });

  it('refuses arguments the schema refuses, naming each field, without running the tool', async () => {
    seen.length = 0;
    const refused = echo.call({ text: '', times: 9 }, services, context);
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(/^invalid arguments: text: .+; times: .+/);
    await expect(echo.call('not an object', services, context)).rejects.toThrow(/^invalid arguments: args: /);
    expect(seen).toEqual([]);
  });
});

describe('the agent tools', () => {
  it('store what the model asked for with the parsed kind and default it to fact', async () => {
    const memory = SqliteMemoryStore.open(':memory:', { modules: STORAGE_MODULES, embedder: new FakeEmbedder() });
    const byName = new Map(TOOLS.map((tool) => [tool.name, tool]));
    const remember = byName.get('remember')!;
    await remember.call({ text: 'prefers window seats', kind: 'preference' }, { memory }, context);
    await remember.call({ text: 'has a greyhound' }, { memory }, context);
    await expect(remember.call({ text: 'x', kind: 'secret' }, { memory }, context)).rejects.toThrow(/kind/);
    const facts = (await memory.list(userScope('ada'))).map((fact) => [fact.kind, fact.text]);
    expect(facts).toEqual(
      expect.arrayContaining([
        ['preference', 'prefers window seats'],
        ['fact', 'has a greyhound'],
      ]),
    );
    expect(facts).toHaveLength(2);
    expect(await byName.get('search_memory')!.call({ query: 'greyhound' }, { memory }, context)).toContain(
      'has a greyhound',
    );
    await memory.close();
  });
});
