import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userScope } from '../../memory/types.js';
import { RecommenderService, recommenderStorage } from '../../recommender/index.js';
import { decodeRating } from '../../src/adapters/slack/render.js';
import { answerInThread, PLACEHOLDER, UPDATE_INTERVAL_MS } from '../../src/adapters/slack/turn.js';
import type { SlackBlock, SlackClient } from '../../src/adapters/slack/types.js';
import { createAgent } from '../../src/agent.js';
import type { AgentEvent } from '../../src/events.js';
import { createChatModel } from '../../src/models.js';
import { fakeModel, memoryStoreForTests } from '../../src/testing.js';
import { startOpenAIServer } from '../helpers/openai-server.js';
import {
  BOT_USER,
  directMessage,
  interactionBody,
  type LoopbackSlack,
  mention,
  replyEvents,
  scriptedAgent,
  startLoopbackSlack,
  TEAM,
  type WebApiCall,
} from './loopback.js';

const running: LoopbackSlack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((slack) => slack.close()));
});

async function start(dependencies: Parameters<typeof startLoopbackSlack>[0]): Promise<LoopbackSlack> {
  const slack = await startLoopbackSlack(dependencies);
  running.push(slack);
  return slack;
}

const noMemory = { forget: async () => ({ deleted: 0 }) };
const noRecommender = { rate: async () => Promise.reject(new Error('no recommender in this test')) };

const recommendEvents = (items: Array<{ itemId: string; title: string }>): AgentEvent[] => [
  { type: 'tool-call', id: 'call-1', name: 'recommend', args: { k: items.length } },
  {
    type: 'tool-result',
    id: 'call-1',
    name: 'recommend',
    isError: false,
    result: items.map((item) => JSON.stringify({ ...item, predicted: 4.2, why: ['you loved Aliens'] })).join('\n'),
  },
  ...replyEvents('Here are two picks for tonight.'),
];

const buttonsOf = (blocks: SlackBlock[]) =>
  blocks
    .filter((block) => block.type === 'actions')
    .map((block) => ({
      blockId: block.block_id,
      buttons: block.elements as Array<{ action_id: string; value: string }>,
    }));

describe('mnemo slack (loopback Bolt app, loopback Web API)', () => {
  it('answers a signed direct message in its thread, as the team:user speaker', async () => {
    const agent = scriptedAgent(() => replyEvents('Hello **Ada**! <!channel>'));
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });

    const response = await slack.send(directMessage('U1', 'hi there', '1700000000.000100'));
    expect(response.status).toBe(200);
    const [posted] = await slack.api.waitForReplies();

    expect(agent.turns).toEqual([
      { input: 'hi there', options: { userId: `${TEAM}:U1`, threadId: 'D1:1700000000.000100' } },
    ]);
    expect(posted!.args).toMatchObject({ channel: 'D1', thread_ts: '1700000000.000100' });
    // Markdown becomes mrkdwn, and the model cannot ping the channel.
    expect(posted!.args.text).toBe('Hello *Ada*! &lt;!channel&gt;');
    expect(posted!.token).toBe('xoxb-test');
  });

  it('answers a signed mention in the thread it was made in, without the mention in the input', async () => {
    const agent = scriptedAgent(() => replyEvents('Try Alien.'));
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });

    expect(
      (await slack.send(mention('U2', 'what should I watch?', '1700000000.000300', { thread_ts: '1700000000.000200' })))
        .status,
    ).toBe(200);
    const [posted] = await slack.api.waitForReplies();

    expect(agent.turns).toEqual([
      { input: 'what should I watch?', options: { userId: `${TEAM}:U2`, threadId: 'C1:1700000000.000200' } },
    ]);
    expect(posted!.args).toMatchObject({ channel: 'C1', thread_ts: '1700000000.000200', text: 'Try Alien.' });
  });

  it('rejects a bad signature and a timestamp older than five minutes with 401, and answers neither', async () => {
    const agent = scriptedAgent(() => replyEvents('should not be sent'));
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });

    const forged = await slack.send(directMessage('U1', 'hi', '1700000000.000400'), { secret: 'not-the-secret' });
    const stale = await slack.send(directMessage('U1', 'hi', '1700000000.000500'), {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    // The same request, signed now with the right secret, is answered: the 401s came from the checks.
    expect((await slack.send(directMessage('U1', 'hi', '1700000000.000600'))).status).toBe(200);
    await slack.api.waitForReplies();
    expect(agent.turns.map((turn) => turn.options.threadId)).toEqual(['D1:1700000000.000600']);
  });

  it('ignores edits, bot messages and its own messages', async () => {
    const agent = scriptedAgent(() => replyEvents('ok'));
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });

    await slack.send(directMessage('U1', 'edited', '1700000000.000700', { subtype: 'message_changed' }));
    await slack.send(directMessage(BOT_USER, 'my own reply', '1700000000.000800', { bot_id: 'BBOT' }));
    await slack.send(directMessage('U1', 'a real one', '1700000000.000900'));
    await slack.api.waitForReplies();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(agent.turns.map((turn) => turn.input)).toEqual(['a real one']);
  });

  it('replies :warning: with a short reason when a turn fails, and keeps answering', async () => {
    let calls = 0;
    const agent = scriptedAgent(() => {
      if (++calls === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:11434\n    at TCPConnectWrap.afterConnect');
      return replyEvents('Back again.');
    });
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });

    await slack.send(directMessage('U1', 'first', '1700000000.001000'));
    await slack.api.waitForReplies();
    await slack.send(directMessage('U1', 'second', '1700000000.001100'));
    const [failed, answered] = await slack.api.waitForReplies(2);
    expect(failed!.args).toMatchObject({
      channel: 'D1',
      thread_ts: '1700000000.001000',
      text: ':warning: connect ECONNREFUSED 127.0.0.1:11434',
    });
    expect(answered!.args).toMatchObject({ thread_ts: '1700000000.001100', text: 'Back again.' });
  });

  it('shows a model failure event as :warning: with the reason, said once', async () => {
    // The message as the converse node writes it.
    const agent = scriptedAgent(() => [
      {
        type: 'error',
        stage: 'model',
        code: 'model_failed',
        message: 'the model failed: the model timed out after 60000 ms',
      },
      ...replyEvents(''),
    ]);
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });
    await slack.send(directMessage('U1', 'hello?', '1700000000.001200'));
    const [posted] = await slack.api.waitForReplies();
    expect(posted!.args.text).toBe(':warning: the model failed: the model timed out after 60000 ms');
  });

  it('says a model server\'s 400 once: ":warning: the model failed: 400 …" (real agent, loopback model server)', async () => {
    const server = await startOpenAIServer();
    try {
      server.respond({
        status: 400,
        body: { error: { message: 'context length exceeded', type: 'invalid_request_error', code: null } },
      });
      const model = createChatModel({
        kind: 'openai',
        model: 'test-model',
        baseURL: server.baseURL,
        apiKey: 'sk-test',
        timeoutMs: 10_000,
        maxRetries: 0,
      })!;
      const slack = await start({
        agent: createAgent({ store: await memoryStoreForTests(), model }),
        memory: noMemory,
        recommender: noRecommender,
      });
      await slack.send(directMessage('U1', 'hello?', '1700000000.001300'));
      const [posted] = await slack.api.waitForReplies();
      expect(posted!.args.text).toMatch(/^:warning: the model failed: 400 .*context length exceeded/);
      expect(String(posted!.args.text).match(/the model failed/g)).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('keeps two people in one channel apart: neither memory nor thread history crosses (real agent and store)', async () => {
    const store = await memoryStoreForTests();
    const secret = 'quetzalcoatlfjord';
    const model = fakeModel()
      .respond(new AIMessage('Noted, I will keep it safe.'))
      .respond(new AIMessage(`{"changes": [{"op": "add", "kind": "fact", "text": "secret word is ${secret}"}]}`))
      .respond(new AIMessage('You have not told me a secret word.'))
      .respond(new AIMessage('{"changes": []}'))
      .respond(new AIMessage(`Your secret word is ${secret}.`))
      .respond(new AIMessage('{"changes": []}'));
    const agent = createAgent({ store, model });
    const slack = await start({ agent, memory: store, recommender: noRecommender });
    const thread = { thread_ts: '1700000000.002000' };

    await slack.send(mention('UA', `my secret word is ${secret}`, '1700000000.002001', thread));
    await slack.api.waitForReplies(1);
    await slack.send(mention('UB', 'what is my secret word?', '1700000000.002002', thread));
    await slack.api.waitForReplies(2);
    await slack.send(mention('UA', 'what is my secret word?', '1700000000.002003', thread));
    const replies = await slack.api.waitForReplies(3);

    const text = (memories: Array<{ text: string }>) => memories.map((memory) => memory.text).join('\n');
    expect(text(await store.list(userScope(`${TEAM}:UA`)))).toContain(secret);
    expect(text(await store.list(userScope(`${TEAM}:UB`)))).not.toContain(secret);
    expect((await store.list(userScope(`${TEAM}:UB`))).length).toBeGreaterThan(0);

    const promptOf = (input: string, nth = 0): string => {
      const calls = model.calls.filter((call) => (call.messages as BaseMessage[]).at(-1)?.content === input);
      return (calls[nth]!.messages as BaseMessage[]).map((message) => String(message.content)).join('\n');
    };
    // B's turn: no memory of A's and no line of A's conversation reached the model.
    expect(promptOf('what is my secret word?', 0)).not.toContain(secret);
    // A's own second turn recalls it: the absence above is isolation, not recall that finds nothing.
    expect(promptOf('what is my secret word?', 1)).toContain(secret);
    expect(replies.map((reply) => reply.args.text)).toEqual([
      'Noted, I will keep it safe.',
      'You have not told me a secret word.',
      `Your secret word is ${secret}.`,
    ]);
  });

  it("puts 1-5 rating buttons on recommendations, and a click stores the clicker's rating", async () => {
    const store = await memoryStoreForTests();
    const recommender = new RecommenderService({ storage: recommenderStorage(store.backend), memory: store });
    await recommender.importItems([
      { id: 'm1', title: 'Alien (1979)', description: null, tags: ['sci-fi'], year: 1979, metadata: {} },
      { id: 'm2', title: 'Heat (1995)', description: null, tags: ['crime'], year: 1995, metadata: {} },
    ]);
    const agent = scriptedAgent(() =>
      recommendEvents([
        { itemId: 'm1', title: 'Alien (1979)' },
        { itemId: 'm2', title: 'Heat (1995)' },
      ]),
    );
    const slack = await start({ agent, memory: store, recommender });

    await slack.send(mention('U1', 'recommend a movie', '1700000000.003000'));
    const [posted] = await slack.api.waitForReplies();
    // The reply was streamed into a placeholder; rating updates come after the turn's own updates.
    const turnUpdates = slack.api.callsTo('chat.update').length;
    expect(posted!.args.ts).toBe('1800000000.000001');
    const blocks = posted!.args.blocks as SlackBlock[];
    const rows = buttonsOf(blocks);
    expect(rows).toHaveLength(2);
    expect(rows.map((row) => row.buttons.map((button) => decodeRating(button.value)?.stars))).toEqual([
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
    ]);
    expect(rows.map((row) => decodeRating(row.buttons[0]!.value)?.itemId)).toEqual(['m1', 'm2']);

    const click = (user: string, row: number, stars: number) =>
      slack.send(
        interactionBody({
          type: 'block_actions',
          team: { id: TEAM, domain: 'test' },
          user: { id: user, team_id: TEAM },
          api_app_id: 'A1',
          token: 'legacy',
          // Every click has its own trigger_id; the app answers each one once.
          trigger_id: `1.2.${user}.${row}.${stars}`,
          container: { type: 'message', message_ts: '1800000000.000001', channel_id: 'C1', is_ephemeral: false },
          channel: { id: 'C1', name: 'general' },
          message: { type: 'message', ts: '1800000000.000001', text: posted!.args.text, blocks },
          response_url: 'https://hooks.slack.invalid/response',
          actions: [
            {
              type: 'button',
              ...rows[row]!.buttons[stars - 1]!,
              block_id: rows[row]!.blockId,
              text: { type: 'plain_text', text: '★' },
              action_ts: '1800000001.0',
            },
          ],
        }),
        { contentType: 'application/x-www-form-urlencoded' },
      );

    expect((await click('U1', 1, 4)).status).toBe(200);
    const updated = (await slack.api.waitFor('chat.update', turnUpdates + 1))[turnUpdates];
    expect(
      (await recommender.storage.ratingsOf(`${TEAM}:U1`)).map(({ itemId, stars, source }) => ({
        itemId,
        stars,
        source,
      })),
    ).toEqual([{ itemId: 'm2', stars: 4, source: 'explicit' }]);
    // The rated item's buttons are replaced by the rating; the other item keeps its buttons.
    const after = updated!.args.blocks as SlackBlock[];
    expect(updated!.args).toMatchObject({ channel: 'C1', ts: '1800000000.000001' });
    expect(buttonsOf(after).map((row) => row.blockId)).toEqual([rows[0]!.blockId]);
    expect(JSON.stringify(after)).toContain('You rated *Heat (1995)* ★★★★☆ (4/5)');

    // Someone else clicking the same list rates it for themselves, told privately; the list stays.
    await click('U9', 0, 2);
    const [note] = await slack.api.waitFor('chat.postEphemeral');
    expect(note!.args).toMatchObject({ channel: 'C1', user: 'U9', text: 'Rated *Alien (1979)* 2/5.' });
    expect((await recommender.storage.ratingsOf(`${TEAM}:U9`)).map(({ itemId, stars }) => ({ itemId, stars }))).toEqual(
      [{ itemId: 'm1', stars: 2 }],
    );
    expect(await recommender.storage.ratingsOf(`${TEAM}:U1`)).toHaveLength(1);
    expect(slack.api.callsTo('chat.update')).toHaveLength(turnUpdates + 1);
  });

  it('"forget me" and /mnemo-forget delete only the speaker\'s memory and confirm', async () => {
    const store = await memoryStoreForTests();
    for (const user of ['U1', 'U2', 'U3'])
      await store.changeFacts(userScope(`${TEAM}:${user}`), [{ op: 'add', fact: { text: `${user} lives in Lisbon` } }]);
    const agent = scriptedAgent(() => replyEvents('should not be asked'));
    const slack = await start({ agent, memory: store, recommender: noRecommender });

    await slack.send(directMessage('U1', 'Forget me!', '1700000000.004000'));
    const [confirmed] = await slack.api.waitFor('chat.postMessage');
    expect(confirmed!.args).toMatchObject({ channel: 'D1', thread_ts: '1700000000.004000' });
    expect(confirmed!.args.text).toMatch(/^Done: I forgot everything I knew about you \(1 memory/);
    expect(await store.list(userScope(`${TEAM}:U1`))).toEqual([]);

    const command = await slack.send(
      new URLSearchParams({
        command: '/mnemo-forget',
        text: '',
        team_id: TEAM,
        user_id: 'U2',
        channel_id: 'C1',
        response_url: 'https://hooks.slack.invalid/r',
        trigger_id: '1.2',
        api_app_id: 'A1',
        token: 'legacy',
      }).toString(),
      { contentType: 'application/x-www-form-urlencoded' },
    );
    expect(command.status).toBe(200);
    expect(JSON.parse(command.text)).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Done: I forgot everything/),
    });
    expect(await store.list(userScope(`${TEAM}:U2`))).toEqual([]);

    expect((await store.list(userScope(`${TEAM}:U3`))).map((memory) => memory.text)).toEqual(['U3 lives in Lisbon']);
    expect(agent.turns).toEqual([]);
  });

  it('says how to configure a model when there is none', async () => {
    const slack = await start({ agent: undefined, memory: noMemory, recommender: noRecommender });
    await slack.send(mention('U1', 'hello', '1700000000.005000'));
    const [posted] = await slack.api.waitFor('chat.postMessage');
    expect(posted!.args.text).toMatch(/^:warning: no model configured: set OPENAI_API_KEY/);
  });
});

describe('mnemo slack streams the reply into a placeholder (loopback Web API)', () => {
  const reply = 'Alien is a 1979 science-fiction horror film directed by Ridley Scott, and a fine pick tonight.';
  const isFinal = (call: WebApiCall) => 'blocks' in call.args;

  it('posts a placeholder, updates it while the reply streams, and ends with the rendered reply', async () => {
    const agent = scriptedAgent(() => replyEvents(reply), { delayMs: 100 });
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });

    await slack.send(directMessage('U1', 'what should I watch?', '1700000000.006000'));
    const [final] = await slack.api.waitForReplies(1, 8000);

    const posts = slack.api.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args).toMatchObject({ channel: 'D1', thread_ts: '1700000000.006000', text: PLACEHOLDER });
    expect(posts[0]!.args.blocks).toBeUndefined();
    const ts = posts[0]!.answer.ts;
    const updates = slack.api.callsTo('chat.update');
    expect(updates.every((update) => update.args.channel === 'D1' && update.args.ts === ts)).toBe(true);
    const intermediate = updates.filter((update) => !isFinal(update));
    expect(intermediate.length).toBeGreaterThanOrEqual(1);
    // Previews grow as the reply streams: each a proper prefix of the reply, each longer than the last.
    for (const [index, update] of intermediate.entries()) {
      const text = String(update.args.text);
      expect(reply.startsWith(text) && text.length < reply.length).toBe(true);
      if (index > 0) expect(text.length).toBeGreaterThan(String(intermediate[index - 1]!.args.text).length);
    }
    // One final update, last, with the whole reply and the same rendering as a single post.
    expect(updates.filter(isFinal)).toHaveLength(1);
    expect(updates.at(-1)).toBe(updates.find(isFinal));
    expect(final!.args).toMatchObject({ channel: 'D1', thread_ts: '1700000000.006000', ts, text: reply });
    expect(final!.args.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: reply } }]);
  }, 10_000);

  it('ends a failing turn with a :warning: update of the placeholder', async () => {
    const agent = {
      async *stream(): AsyncGenerator<AgentEvent> {
        yield { type: 'text-delta', text: 'Let me think ' };
        await new Promise((resolve) => setTimeout(resolve, 50));
        yield { type: 'text-delta', text: 'about that…' };
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('the model went away\n    at somewhere');
      },
    };
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });

    await slack.send(directMessage('U1', 'hello?', '1700000000.007000'));
    const [final] = await slack.api.waitForReplies();

    expect(slack.api.callsTo('chat.postMessage')).toHaveLength(1);
    const updates = slack.api.callsTo('chat.update');
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(updates[0]!.args.text).toBe('Let me think ');
    // The preview is replaced, blocks and all, by the warning.
    expect(updates.at(-1)!.args).toMatchObject({
      channel: 'D1',
      ts: '1800000000.000001',
      text: ':warning: the model went away',
      blocks: [],
    });
    expect(final!.args).toMatchObject({ thread_ts: '1700000000.007000', text: ':warning: the model went away' });
  });

  it('posts the reply once at the end when the placeholder cannot be posted', async () => {
    const agent = scriptedAgent(() => replyEvents('Try Heat.'), { delayMs: 20 });
    const slack = await start({ agent, memory: noMemory, recommender: noRecommender });
    slack.api.failNext('chat.postMessage', 'ratelimited');

    await slack.send(mention('U1', 'and now?', '1700000000.009000'));
    const [final] = await slack.api.waitForReplies();

    expect(slack.api.callsTo('chat.postMessage').map((call) => [call.args.text, call.answer.ok])).toEqual([
      [PLACEHOLDER, false],
      ['Try Heat.', true],
    ]);
    expect(final!.args).toMatchObject({ channel: 'C1', thread_ts: '1700000000.009000', text: 'Try Heat.' });
    expect(final!.args.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'Try Heat.' } }]);
    expect(slack.api.callsTo('chat.update')).toEqual([]);
  });
});

describe('the streaming reply is throttled (fake timers and clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('throttles a burst of 200 deltas to one update a second, plus the final one', async () => {
    vi.useFakeTimers();
    const started = Date.now();
    const calls: Array<{ method: string; at: number; text: string; final: boolean }> = [];
    const record = (method: string) => async (args: { text: string; blocks?: unknown }) => {
      calls.push({ method, at: Date.now() - started, text: args.text, final: 'blocks' in args });
      return { ok: true, ts: '1800000000.000001' };
    };
    const client: SlackClient = {
      chat: {
        postMessage: record('chat.postMessage'),
        postEphemeral: record('chat.postEphemeral'),
        update: record('chat.update'),
      },
    };
    const words = Array.from({ length: 200 }, (_, index) => `w${index} `);
    // A delta every 10 ms: w0 at 10 ms ... w199 at 2000 ms, the turn's end at 2010 ms.
    const agent = scriptedAgent(() => replyEvents(words.join('')), { delayMs: 10 });
    const logger = { error: vi.fn(), warn: vi.fn() };

    const answered = answerInThread(
      { channel: 'D1', threadTs: '1700000000.008000', userId: `${TEAM}:U1`, text: 'go' },
      {
        agent,
        client,
        logger,
      },
    );
    await vi.advanceTimersByTimeAsync(2010);
    await answered;

    expect(logger.error).not.toHaveBeenCalled();
    expect(calls.filter((call) => call.method === 'chat.postMessage')).toEqual([
      { method: 'chat.postMessage', at: 0, text: PLACEHOLDER, final: false },
    ]);
    const updates = calls.filter((call) => call.method === 'chat.update');
    // The first delta is shown at once; later ones wait for the interval, so 200 deltas in 2 s make 3 previews.
    expect(updates.filter((update) => !update.final).map((update) => [update.at, update.text.trim()])).toEqual([
      [10, 'w0'],
      [10 + UPDATE_INTERVAL_MS, words.slice(0, 100).join('').trim()],
      [10 + 2 * UPDATE_INTERVAL_MS, words.join('').trim()],
    ]);
    expect(updates.at(-1)).toMatchObject({ at: 2010, text: words.join(''), final: true });
    expect(updates).toHaveLength(4);
  });
});
