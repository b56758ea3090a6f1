import { z } from 'zod';

/**
 * A current fact the extractor may keep, supersede or invalidate. Invalidating is how a fact the person retracts
 * leaves current memory: it is closed, not deleted, so history keeps it.
 */
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

/**
 * The system and user messages of the one write-back call per turn. The person's message is the only source of facts;
 * the assistant reply travels in a field named as context only, so its suggestions are never recorded as theirs.
 */
export function extractionPrompt(input: ExtractionInput): { system: string; user: string } {
  return {
    system: [
      'You maintain long-term memory about a person. From their latest message, extract durable facts and preferences',
      'about THEM (who they are, what they like or dislike, their situation, plans, people in their life).',
      'Record only what the person states in "person_said". Ignore small talk and questions.',
      '"assistant_reply_for_context_only" is context only, to understand what the person refers to: suggestions,',
      'recommendations or claims made by the assistant are not facts about the person. Record one only if the person',
      'states it themselves in their message (for example they accept a suggestion: "yes, I booked it").',
      'Compare with the existing facts and decide for each new piece of information:',
      '- "add" a new fact; - "supersede" an existing fact (by id) that the new one replaces or contradicts;',
      '- "invalidate" an existing fact (by id) that the person retracts or says is no longer true, with no replacement:',
      '  this removes it from current memory (its history is kept); there is no delete; - nothing, if already known.',
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

/** Most changes one answer may make; beyond it the first ones are kept (one turn rarely states more). */
const MAX_CHANGES = 20;

const Kind = z.enum(['fact', 'preference', 'profile']).catch('fact');
const Change = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), kind: Kind.default('fact'), text: z.string().trim().min(1).max(1000) }),
  z.object({
    op: z.literal('supersede'),
    id: z.string().min(1),
    kind: Kind.default('fact'),
    text: z.string().trim().min(1).max(1000),
  }),
  // Invalidate closes the fact: it leaves current memory (recall, profile) and stays in history. The extractor has
  // no delete on purpose; deleting is the person's explicit request, through the forget tool or the CLI.
  z.object({ op: z.literal('invalidate'), id: z.string().min(1) }),
]);
const Extraction = z.object({ changes: z.array(z.unknown()) });

/**
 * One change the extractor asked for: `add` a fact, `supersede` fact `id` with a new one, or `invalidate` fact `id`,
 * which is how a fact the person retracts is removed from current memory (history keeps it).
 */
export type ExtractedChange = z.infer<typeof Change>;

/**
 * Parses the extractor's answer into at most 20 changes. Weak local models wrap JSON in prose or code fences, so the
 * outermost JSON object is taken from the text. Each change is checked on its own: a malformed one is dropped and the
 * others kept, and past 20 valid changes the first 20 are kept. An answer with no JSON object or no `changes` array
 * throws, and the caller retries once, then skips.
 * @example
 * parseExtraction('{"changes": [{"op": "add", "text": "has a dog"}, {"op": "delete"}]}');
 * // → [{ op: 'add', kind: 'fact', text: 'has a dog' }]
 */
export function parseExtraction(answer: string): ExtractedChange[] {
  const start = answer.indexOf('{');
  const end = answer.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the answer');
  const parsed = Extraction.safeParse(JSON.parse(answer.slice(start, end + 1)));
  if (!parsed.success) throw new Error('unexpected JSON: no "changes" array');
  return parsed.data.changes
    .flatMap((change) => {
      const result = Change.safeParse(change);
      return result.success ? [result.data] : [];
    })
    .slice(0, MAX_CHANGES);
}
