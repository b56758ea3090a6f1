import { z } from 'zod';

/** A current fact the extractor may keep, replace or invalidate. */
export interface ExistingFact {
  readonly id: string;
  readonly kind: string;
  readonly text: string;
}

/** Inputs of {@link extractionPrompt}. */
export interface ExtractionInput {
  /** What the user said this turn: the only source of new facts. */
  readonly userMessage: string;
  /** The assistant's reply, for context only (its suggestions are not facts about the user). */
  readonly assistantReply: string;
  /** The user's current facts most similar to this turn. */
  readonly existing: readonly ExistingFact[];
}

/** The system and user messages of the one write-back call per turn. */
export function extractionPrompt(input: ExtractionInput): { system: string; user: string } {
  return {
    system: [
      'You maintain long-term memory about a person. From their latest message, extract durable facts and preferences',
      'about THEM (who they are, what they like or dislike, their situation, plans, people in their life).',
      'Ignore small talk, questions, and anything the assistant suggested: the assistant reply is context only.',
      'Compare with the existing facts and decide for each new piece of information:',
      '- "add" a new fact; - "supersede" an existing fact (by id) that the new one replaces or contradicts;',
      '- "invalidate" an existing fact (by id) that is no longer true, with no replacement; - nothing, if already known.',
      'Answer with JSON only, no prose: {"changes": [{"op": "add", "kind": "fact|preference|profile", "text": "..."},',
      '{"op": "supersede", "id": "f12", "kind": "...", "text": "..."}, {"op": "invalidate", "id": "f7"}]}.',
      'Write each fact as a short third-person statement ("has a daughter named Mia", "prefers window seats").',
      'If there is nothing durable, answer {"changes": []}.',
    ].join('\n'),
    user: JSON.stringify({
      existing_facts: input.existing.map((fact) => ({ id: fact.id, kind: fact.kind, text: fact.text })),
      assistant_reply_for_context_only: input.assistantReply,
      person_said: input.userMessage,
    }),
  };
}

const Kind = z.enum(['fact', 'preference', 'profile']).catch('fact');
const Change = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), kind: Kind.default('fact'), text: z.string().trim().min(1).max(1000) }),
  z.object({ op: z.literal('supersede'), id: z.string().min(1), kind: Kind.default('fact'), text: z.string().trim().min(1).max(1000) }),
  z.object({ op: z.literal('invalidate'), id: z.string().min(1) }),
]);
const Extraction = z.object({ changes: z.array(Change).max(20) });

export type ExtractedChange = z.infer<typeof Change>;

/**
 * Parses the extractor's answer. Weak local models wrap JSON in prose or code fences, so the outermost JSON object
 * is taken from the text; anything still unparseable throws, and the caller retries once, then skips.
 */
export function parseExtraction(answer: string): ExtractedChange[] {
  const start = answer.indexOf('{');
  const end = answer.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the answer');
  const parsed = Extraction.safeParse(JSON.parse(answer.slice(start, end + 1)));
  if (!parsed.success) throw new Error(`unexpected JSON: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.changes;
}
