import type { AgentEvent } from '../../events.js';
import type { SlackBlock, SlackMessage } from './types.js';

/** Action ids of the rating buttons: `mnemo_rate_1` … `mnemo_rate_5` (ids must be unique within a block). */
export const RATE_ACTION = /^mnemo_rate_[1-5]$/;

/** Slack's limits: section text, blocks per message, and what we keep of a failure's reason. */
const SECTION_LIMIT = 3000;
const BLOCK_LIMIT = 50;
const MAX_RECOMMENDATIONS = 10;
const REASON_LIMIT = 300;

/** One recommended item as the `recommend` tool reports it (one JSON object per line). */
export interface RenderedRecommendation {
  readonly itemId: string;
  readonly title: string;
  readonly predicted?: number;
  readonly why: readonly string[];
}

/** What a rating button carries: the item, the stars, and for whom the list was made. */
export interface RatingValue {
  readonly itemId: string;
  readonly title: string;
  readonly stars: number;
  /** The mnemo user the recommendations were made for. */
  readonly forUser: string;
}

/** A failure as Slack shows it: `:warning:` and a short reason. */
export function warningMessage(reason: string): SlackMessage {
  return { text: `:warning: ${escapeText(shortReason(reason))}` };
}

/** The first line of an error's message, cut to a length a chat message can carry. */
export function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'something went wrong';
  const line = message.split('\n')[0]?.trim() || 'something went wrong';
  return line.length > REASON_LIMIT ? `${line.slice(0, REASON_LIMIT - 1)}…` : line;
}

/**
 * Renders one turn's events as a Slack message: the reply (Markdown turned into mrkdwn), recommendations with 1–5
 * rating buttons, what was remembered, and `:warning:` lines for failures.
 *
 * @example
 * const events = []; for await (const event of agent.stream(text, turn)) events.push(event);
 * await client.chat.postMessage({ channel, thread_ts, ...renderTurn(events, { userId }) });
 */
export function renderTurn(
  events: readonly AgentEvent[],
  options: { userId: string },
): SlackMessage & { blocks: SlackBlock[] } {
  let reply = '';
  let streamed = '';
  const warnings: string[] = [];
  const remembered: string[] = [];
  const recommendations: RenderedRecommendation[] = [];
  for (const event of events) {
    switch (event.type) {
      case 'text-delta':
        streamed += event.text;
        break;
      case 'turn-end':
        reply = event.reply;
        break;
      case 'tool-result':
        if (event.name === 'recommend' && !event.isError) recommendations.push(...parseRecommendations(event.result));
        break;
      case 'memory-written':
        for (const fact of event.facts)
          if (fact.text)
            remembered.push(
              `${fact.op === 'invalidate' ? 'no longer true' : fact.op === 'supersede' ? 'updated' : 'remembered'}: ${fact.text}`,
            );
        break;
      case 'error':
        // The agent's message already says what failed ("the model failed: …", "recall failed: …").
        warnings.push(shortReason(event.message));
        break;
      default:
        break;
    }
  }
  const text = reply || streamed;
  const blocks: SlackBlock[] = [];
  for (const chunk of chunks(toMrkdwn(text), SECTION_LIMIT))
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  blocks.push(...recommendationBlocks(recommendations.slice(0, MAX_RECOMMENDATIONS), options.userId));
  if (remembered.length > 0) blocks.push(contextBlock(remembered.slice(0, 5).map(escapeText).join('\n')));
  if (warnings.length > 0)
    blocks.push(contextBlock(warnings.map((warning) => `:warning: ${escapeText(warning)}`).join('\n')));
  const fallback = text
    ? toMrkdwn(text)
    : warnings.length > 0
      ? `:warning: ${escapeText(warnings[0]!)}`
      : recommendations.length > 0
        ? 'Recommendations'
        : '(no reply)';
  if (blocks.length === 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fallback } });
  return { text: fallback.slice(0, SECTION_LIMIT), blocks: blocks.slice(0, BLOCK_LIMIT) };
}

/** Reads the `recommend` tool's result: one JSON object per line; anything else (an explanation) is skipped. */
export function parseRecommendations(result: string): RenderedRecommendation[] {
  const items: RenderedRecommendation[] = [];
  for (const line of result.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as { itemId?: unknown; title?: unknown; predicted?: unknown; why?: unknown };
      if (typeof parsed.itemId !== 'string' || typeof parsed.title !== 'string') continue;
      items.push({
        itemId: parsed.itemId,
        title: parsed.title,
        ...(typeof parsed.predicted === 'number' ? { predicted: parsed.predicted } : {}),
        why: Array.isArray(parsed.why)
          ? parsed.why.filter((reason): reason is string => typeof reason === 'string')
          : [],
      });
    } catch {
      // Not a recommendation line.
    }
  }
  return items;
}

/** A section per item (title, predicted stars, why) followed by its five rating buttons. */
export function recommendationBlocks(items: readonly RenderedRecommendation[], forUser: string): SlackBlock[] {
  return items.flatMap((item, index): SlackBlock[] => {
    const predicted = item.predicted === undefined ? '' : ` — predicted ${item.predicted.toFixed(1)}/5`;
    const why = item.why.length > 0 ? `\n_${escapeText(item.why.slice(0, 2).join('; '))}_` : '';
    return [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*${escapeText(item.title)}*${predicted}${why}`.slice(0, SECTION_LIMIT) },
      },
      {
        type: 'actions',
        block_id: `mnemo_rate:${index}`,
        elements: [1, 2, 3, 4, 5].map((stars) => ({
          type: 'button',
          action_id: `mnemo_rate_${stars}`,
          text: { type: 'plain_text', text: `${'★'.repeat(stars)}` },
          value: encodeRating({ itemId: item.itemId, title: item.title.slice(0, 150), stars, forUser }),
        })),
      },
    ];
  });
}

/** The button value: compact JSON (Slack allows 2,000 characters). */
export function encodeRating(value: RatingValue): string {
  return JSON.stringify({ i: value.itemId, t: value.title, s: value.stars, u: value.forUser });
}

/** Reads a button value back; `undefined` when it is not one of ours. */
export function decodeRating(raw: unknown): RatingValue | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = JSON.parse(raw) as { i?: unknown; t?: unknown; s?: unknown; u?: unknown };
    if (
      typeof parsed.i !== 'string' ||
      typeof parsed.s !== 'number' ||
      !Number.isInteger(parsed.s) ||
      parsed.s < 1 ||
      parsed.s > 5
    )
      return undefined;
    return {
      itemId: parsed.i,
      title: typeof parsed.t === 'string' ? parsed.t : parsed.i,
      stars: parsed.s,
      forUser: typeof parsed.u === 'string' ? parsed.u : '',
    };
  } catch {
    return undefined;
  }
}

/** The confirmation that replaces an item's buttons once it is rated. */
export function ratedBlock(value: RatingValue, blockId: string): SlackBlock {
  return {
    ...contextBlock(
      `You rated *${escapeText(value.title)}* ${'★'.repeat(value.stars)}${'☆'.repeat(5 - value.stars)} (${value.stars}/5)`,
    ),
    block_id: blockId,
  };
}

export function contextBlock(text: string): SlackBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: text.slice(0, SECTION_LIMIT) }] };
}

/**
 * Escapes Slack's control characters, so neither a user's text nor the model can ping `<!channel>` or forge a
 * link (https://api.slack.com/reference/surfaces/formatting#escaping).
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Common Markdown as Slack mrkdwn: bold, headings and links; everything escaped first. */
export function toMrkdwn(markdown: string): string {
  return escapeText(markdown)
    .replace(/^#{1,6}\s+(.+)$/gm, '*$1*')
    .replace(/\*\*(.+?)\*\*/g, '*$1*')
    .replace(/__(.+?)__/g, '*$1*')
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label: string, url: string) => `<${url}|${label}>`);
}

/** Mentions removed from text addressed to the bot (`<@U123> hi` → `hi`). */
export function withoutMentions(text: string, botUserId: string | undefined): string {
  const mention = botUserId ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g') : /^\s*<@[A-Z0-9]+(\|[^>]*)?>/;
  return text.replace(mention, '').replace(/\s+/g, ' ').trim();
}

/** True for "forget me" (with or without punctuation or a please). */
export function isForgetRequest(text: string): boolean {
  return /^\s*(please\s+)?forget\s+(about\s+)?me(\s+please)?\s*[.!]*\s*$/i.test(text);
}

// Cuts at a line break, else at a space, so no word is split between two sections.
function chunks(text: string, size: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > size) {
    const newline = rest.lastIndexOf('\n', size);
    const space = rest.lastIndexOf(' ', size);
    const cut = newline > size / 2 ? newline : space > size / 2 ? space : size;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  if (rest.trim()) parts.push(rest);
  return parts;
}
