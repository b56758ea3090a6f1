import { forgetUser } from '../../chat/user-memory.js';
import { NO_MODEL_HELP } from '../../config.js';
import type { AgentEvent } from '../../events.js';
import { renderTurn, shortReason, toMrkdwn, warningMessage } from './render.js';
import type { SlackClient, SlackDependencies, SlackLogger, SlackMessage } from './types.js';

/** Where a reply goes and who is speaking. */
export interface SlackTurn {
  readonly channel: string;
  /** The Slack thread the reply joins (the message's own ts when it started one). */
  readonly threadTs: string;
  /** The mnemo user (`team:user`). */
  readonly userId: string;
  readonly text: string;
}

/** What the reply shows until the model's first words arrive. */
export const PLACEHOLDER = '_thinking…_';

/**
 * Least time between two updates of a streaming reply. Slack allows chat.update about 50 times a minute (Tier 3,
 * short bursts tolerated); a reply streams for seconds, so one a second plus the final one stays well inside it.
 * Should Slack answer 429 anyway, the WebClient waits and retries, and no further preview is queued meanwhile.
 */
export const UPDATE_INTERVAL_MS = 1000;

/** Most of the streamed text a preview shows (the final message splits a longer reply into sections). */
const PREVIEW_LIMIT = 3000;

/**
 * Runs one agent turn for a Slack message and shows the reply in its thread while it streams: a placeholder is
 * posted at once, updated with the text so far at most once per {@link UPDATE_INTERVAL_MS}, and finally replaced by
 * the rendered turn (blocks, rating buttons, `:warning:` lines). When the placeholder cannot be posted the rendered
 * turn is posted once at the end instead. A failure is shown as `:warning: reason` and logged; it never throws, so
 * one bad turn never stops the bot.
 */
export async function answerInThread(
  turn: SlackTurn,
  services: { agent: SlackDependencies['agent']; client: SlackClient; logger: SlackLogger },
): Promise<void> {
  const { agent, client, logger } = services;
  const target = { channel: turn.channel, thread_ts: turn.threadTs };
  if (!agent) {
    await post(client, logger, { ...target, ...warningMessage(NO_MODEL_HELP) });
    return;
  }
  const live = liveReply(target, client, logger);
  let message: SlackMessage;
  try {
    const events: AgentEvent[] = [];
    let streamed = '';
    // The Slack thread is the agent's thread. Channel + ts make it unique; the agent keys it per user, so two
    // people in one Slack thread each keep their own conversation and memory.
    for await (const event of agent.stream(turn.text, {
      userId: turn.userId,
      threadId: `${turn.channel}:${turn.threadTs}`,
    })) {
      events.push(event);
      if (event.type === 'text-delta') {
        streamed += event.text;
        live.show(streamed);
      }
    }
    message = renderTurn(events, { userId: turn.userId });
  } catch (error) {
    logger.error('mnemo turn failed', error);
    message = warningMessage(shortReason(error));
  }
  await live.finish(message);
}

/**
 * A reply that grows while the turn streams. The placeholder is posted right away (the turn does not wait for it);
 * previews follow, throttled, one Web API call at a time so they never arrive out of order; `finish` waits for
 * the call in flight and then writes the final message.
 */
function liveReply(target: { channel: string; thread_ts: string }, client: SlackClient, logger: SlackLogger) {
  let ts: string | undefined;
  let wanted = '';
  let shown = PLACEHOLDER;
  let lastUpdate = -Infinity;
  let inFlight: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;

  const run = (call: () => Promise<void>): void => {
    inFlight = call().finally(() => {
      inFlight = undefined;
      schedule();
    });
  };
  // Sends the newest preview when the placeholder exists, no call is in flight and the interval has passed;
  // otherwise waits (a timer for the interval, the call's end for the rest).
  const schedule = (): void => {
    if (finished || ts === undefined || inFlight !== undefined || timer || !wanted.trim() || wanted === shown) return;
    const wait = lastUpdate + UPDATE_INTERVAL_MS - Date.now();
    if (wait > 0) {
      timer = setTimeout(() => {
        timer = undefined;
        schedule();
      }, wait);
      return;
    }
    const messageTs = ts;
    const text = wanted;
    shown = text;
    lastUpdate = Date.now();
    run(async () => {
      try {
        await client.chat.update({ channel: target.channel, ts: messageTs, text });
      } catch (error) {
        logger.warn('chat.update of a streaming reply failed', error);
      }
    });
  };

  run(async () => {
    try {
      ts = tsOf(await client.chat.postMessage({ ...target, text: PLACEHOLDER }));
      if (ts === undefined)
        logger.warn('chat.postMessage answered without a ts; the reply is posted when the turn ends');
    } catch (error) {
      logger.warn('chat.postMessage of the placeholder failed; the reply is posted when the turn ends', error);
    }
  });

  return {
    /** The reply streamed so far. */
    show(text: string): void {
      const preview = toMrkdwn(text);
      wanted = preview.length > PREVIEW_LIMIT ? `${preview.slice(0, PREVIEW_LIMIT - 1)}…` : preview;
      schedule();
    },
    /** Replaces the placeholder with the final message (posts it when there is no placeholder to replace). */
    async finish(message: SlackMessage): Promise<void> {
      finished = true;
      clearTimeout(timer);
      timer = undefined;
      while (inFlight !== undefined) await inFlight;
      if (ts !== undefined) {
        try {
          // Blocks are always sent, empty for a bare `:warning:`: the final update sets what the message shows.
          await client.chat.update({
            channel: target.channel,
            ts,
            text: message.text,
            blocks: [...(message.blocks ?? [])],
          });
          return;
        } catch (error) {
          logger.error('chat.update failed; posting the reply instead', error);
        }
      }
      await post(client, logger, { ...target, ...message });
    },
  };
}

/** The `ts` of a posted message, from chat.postMessage's answer. */
function tsOf(result: unknown): string | undefined {
  const ts = typeof result === 'object' && result !== null ? (result as { ts?: unknown }).ts : undefined;
  return typeof ts === 'string' && ts ? ts : undefined;
}

/** Deletes everything mnemo keeps about the speaker and says so; failures become `:warning:` text. */
export async function forgetSpeaker(
  memory: SlackDependencies['memory'],
  userId: string,
  logger: SlackLogger,
): Promise<SlackMessage> {
  try {
    const { deleted } = await forgetUser(memory, userId);
    return {
      text: `Done: I forgot everything I knew about you (${deleted} ${deleted === 1 ? 'memory' : 'memories'}, your ratings and our conversations).`,
    };
  } catch (error) {
    logger.error('mnemo forget failed', error);
    return warningMessage(`could not forget you: ${shortReason(error)}`);
  }
}

/** Posts a message; a failing Web API call is logged, never thrown (there is nobody left to tell). */
export async function post(
  client: SlackClient,
  logger: SlackLogger,
  message: { channel: string; thread_ts?: string } & SlackMessage,
): Promise<void> {
  try {
    await client.chat.postMessage({
      channel: message.channel,
      text: message.text,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      ...(message.blocks ? { blocks: [...message.blocks] } : {}),
    });
  } catch (error) {
    logger.error('chat.postMessage failed', error);
  }
}
