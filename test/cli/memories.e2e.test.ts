import { beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

beforeAll(async () => {
  await sharedGloveEmbedder();
});

const remember = async (env: NodeJS.ProcessEnv, scope: string[], text: string): Promise<string> =>
  (JSON.parse((await mnemo(env, ['remember', ...scope, '--json', text])).stdout) as { id: string }).id;

const listed = async (env: NodeJS.ProcessEnv, scope: string[], all = false): Promise<string[]> =>
  (
    JSON.parse((await mnemo(env, ['memories', ...scope, ...(all ? ['--all'] : []), '--json'])).stdout) as Array<{
      text: string;
    }>
  ).map((memory) => memory.text);

describe('memory ids', () => {
  it('an id names a memory only with the letter of its kind', async () => {
    const env = cliEnvironment();
    expect(await remember(env, ['--user', 'a'], 'fact one')).toBe('f1');
    expect(await remember(env, ['--user', 'a'], 'fact two')).toBe('f2');

    expect(await mnemo(env, ['forget', '--user', 'a', '--id', 'e2'])).toMatchObject({
      code: 1,
      stderr: 'mnemo forget: no memory e2 for user a\n',
    });
    expect(await mnemo(env, ['remember', '--user', 'a', '--supersedes', 'e1', 'fact one, again'])).toMatchObject({
      code: 1,
      stderr: 'mnemo remember: no fact e1 for user a\n',
    });
    expect((await mnemo(env, ['remember', '--user', 'a', '--supersedes', '2', 'fact two, again'])).code).toBe(2);
    expect(await listed(env, ['--user', 'a'])).toEqual(['fact two', 'fact one']);

    expect(await mnemo(env, ['forget', '--user', 'b', '--id', 'f2'])).toMatchObject({
      code: 1,
      stderr: 'mnemo forget: no memory f2 for user b\n',
    });
    expect(await mnemo(env, ['forget', '--user', 'a', '--id', 'f2'])).toMatchObject({ code: 0, stdout: 'forgot f2\n' });
    expect(await listed(env, ['--user', 'a'])).toEqual(['fact one']);
  });

  it('says which memories it found none of', async () => {
    const env = cliEnvironment();
    expect((await mnemo(env, ['memories', '--user', 'nobody', '--all'])).stdout).toBe(
      'no memories stored for nobody\n',
    );
    expect((await mnemo(env, ['memories', '--user', 'nobody'])).stdout).toBe(
      'no facts or preferences stored for nobody\n',
    );
  });
});

describe('persona and global memory', () => {
  it("are listed, searched, exported and forgotten like a user's", async () => {
    const env = cliEnvironment();
    const persona = ['--persona', 'night-owls'];
    const shared = await remember(env, persona, 'enjoys late screenings');
    await remember(env, persona, 'likes film noir');
    await remember(env, ['--global'], 'the cinema closes on Mondays');
    await remember(env, ['--user', 'night-owls'], "a user who shares the persona's name");

    expect(await listed(env, persona)).toEqual(['likes film noir', 'enjoys late screenings']);
    expect(await listed(env, ['--global'])).toEqual(['the cinema closes on Mondays']);
    const [hit] = JSON.parse((await mnemo(env, ['search', ...persona, '--json', 'late screenings'])).stdout) as Array<{
      id: string;
    }>;
    expect(hit!.id).toBe(shared);
    expect((await mnemo(env, ['search', '--global', 'cinema'])).stdout).toContain('the cinema closes on Mondays');
    expect((await mnemo(env, ['search', '--global', 'noir'])).stdout).not.toContain('film noir');

    const exported = JSON.parse((await mnemo(env, ['export', ...persona])).stdout) as {
      persona: string;
      memories: unknown[];
    };
    expect(exported).toMatchObject({ persona: 'night-owls' });
    expect(exported.memories).toHaveLength(2);
    expect(JSON.parse((await mnemo(env, ['export', '--global'])).stdout)).toMatchObject({
      global: true,
      memories: [{ text: 'the cinema closes on Mondays' }],
    });

    expect((await mnemo(env, ['forget', ...persona, '--id', shared])).stdout).toBe(`forgot ${shared}\n`);
    expect((await mnemo(env, ['forget', ...persona])).stdout).toBe('forgot persona night-owls: 1 memory deleted\n');
    expect(await listed(env, persona, true)).toEqual([]);
    // The user of the same name, and the global memory, are untouched.
    expect(await listed(env, ['--user', 'night-owls'])).toEqual(["a user who shares the persona's name"]);
    expect(await listed(env, ['--global'])).toEqual(['the cinema closes on Mondays']);
  });

  it('needs exactly one scope, and says so in each help', async () => {
    const env = cliEnvironment();
    for (const command of ['memories', 'search', 'forget', 'export']) {
      const argv =
        command === 'search' ? [command, '--user', 'a', '--global', 'x'] : [command, '--user', 'a', '--global'];
      expect(await mnemo(env, argv)).toMatchObject({
        code: 2,
        stderr: `mnemo ${command}: give exactly one of --user U, --persona NAME, --global\n`,
      });
      expect((await mnemo(env, [command, '--help'])).stdout).toMatch(/--persona NAME .*\n.*--global /);
    }
  });
});
