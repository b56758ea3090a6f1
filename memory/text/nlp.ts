import model from 'wink-eng-lite-web-model';
import winkNLP from 'wink-nlp';

/** One token of a text as mnemo's retrieval sees it. */
export interface Token {
  /** The token as written. */
  readonly value: string;
  /** Lower-cased surface form (`normal` in wink-nlp). */
  readonly normal: string;
  /** Dictionary form (`went` → `go`), from wink-nlp's part-of-speech lemmatiser. */
  readonly lemma: string;
  /** wink-nlp token type: `word`, `number`, `punctuation`, `email`, `time`, `hashtag`, ... */
  readonly type: string;
  /** True for function words (`the`, `did`, `her`). */
  readonly stop: boolean;
  /** Universal part-of-speech tag (`PROPN`, `NOUN`, `VERB`, ...). */
  readonly pos: string;
}

/** A date, time or duration phrase wink-nlp's named-entity recogniser found. */
export interface TemporalEntity {
  readonly value: string;
  readonly type: 'DATE' | 'TIME' | 'DURATION';
}

// wink-nlp loads its language model in ~50 ms; build it once, on first use.
let instance: ReturnType<typeof winkNLP> | undefined;
function nlp(): ReturnType<typeof winkNLP> {
  instance ??= winkNLP(model, ['sbd', 'pos', 'ner']);
  return instance;
}

/** Tokens and date phrases of one text, from a single wink-nlp pass. */
export function analyze(text: string): { tokens: Token[]; temporal: TemporalEntity[] } {
  const engine = nlp();
  const its = engine.its;
  const document = engine.readDoc(text);
  const tokens = document.tokens();
  const values = tokens.out() as string[];
  const normals = tokens.out(its.normal) as string[];
  const tags = tokens.out(its.pos) as string[];
  // wink-nlp types its.lemma as needing model add-ons; the English model provides them.
  const lemmas = tokens.out(its.lemma as Parameters<typeof tokens.out>[0]) as string[];
  const types = tokens.out(its.type) as string[];
  const stops = tokens.out(its.stopWordFlag) as unknown as boolean[];
  const details = document.entities().out(its.detail) as unknown as Array<{ value: string; type: string }>;
  return {
    tokens: normals.map((normal, index) => ({
      value: values[index] ?? normal,
      normal,
      pos: tags[index] ?? 'X',
      lemma: lemmas[index] ?? normal,
      type: types[index] ?? 'word',
      stop: stops[index] ?? false,
    })),
    temporal: details
      .filter(
        (entity): entity is TemporalEntity =>
          entity.type === 'DATE' || entity.type === 'TIME' || entity.type === 'DURATION',
      )
      .map((entity) => ({ value: entity.value, type: entity.type })),
  };
}

/** Tokens of `text` with lemma, type and stop-word flag. */
export const tokenize = (text: string): Token[] => analyze(text).tokens;

/** Date, time and duration phrases in `text`, in order of appearance. */
export const temporalEntities = (text: string): TemporalEntity[] => analyze(text).temporal;

/** True for tokens that carry meaning for retrieval: words, numbers, e-mails, hashtags — not punctuation. */
export function isContentToken(token: Token): boolean {
  return token.type !== 'punctuation' && token.type !== 'symbol' && token.type !== 'emoji' && token.type !== 'emoticon';
}

/** The parts of a token an embedder needs: surface form, lemma and type, without stop-word or entity analysis. */
export type WordToken = Pick<Token, 'normal' | 'lemma' | 'type'>;

// Bulk embedding only needs words and lemmas. Keeping the part-of-speech pass (the lemmatiser needs it:
// `painted` → `paint`) but dropping sentence boundaries and named entities makes this ~1.7× faster than tokenize().
let wordInstance: ReturnType<typeof winkNLP> | undefined;

/** Tokens of `text` with lemma and type only; the fast path for embedding many texts. */
export function tokenizeWords(text: string): WordToken[] {
  wordInstance ??= winkNLP(model, ['pos']);
  const its = wordInstance.its;
  const tokens = wordInstance.readDoc(text).tokens();
  const normals = tokens.out(its.normal) as string[];
  const lemmas = tokens.out(its.lemma as Parameters<typeof tokens.out>[0]) as string[];
  const types = tokens.out(its.type) as string[];
  return normals.map((normal, index) => ({ normal, lemma: lemmas[index] ?? normal, type: types[index] ?? 'word' }));
}
