/**
 * The watermark's lexicon: pairs of interchangeable word forms. A key picks one form of a
 * pair for each context; both forms of a pair must read the same in nearly every sentence,
 * so only pairs that keep meaning are listed (spelling variants, near-exact synonyms of one
 * part of speech, connectives). Pairs only, never larger sets: with two forms, text that
 * never saw the key matches the key's choice with probability exactly 1/2 in every
 * context, which makes the test's null distribution exact (binomial).
 *
 * Left out after reading marked human prose: pairs one of whose forms has a sense the
 * other lacks ("required"/"needed": "you are needed to"; "improve"/"enhance": "might
 * enhance in"; "reduces"/"decreases": "the formula decreases to"; "happened"/"occurred":
 * "occurred to be"; "showed"/"demonstrated": "demonstrated up"; "extra"/"additional":
 * "additional careful"; "critical"/"crucial": "crucial of").
 */

/** One pair of forms, told apart by its index in the lexicon. */
export interface LexiconPair {
  readonly id: number;
  readonly forms: readonly [string, string];
  /** Only after this word (lower case): a form that is a synonym in one phrase only ("for example"). */
  readonly after?: string;
}

// Spelling: American and British forms of the same word.
const SPELLINGS = `
color colour|colors colours|colored coloured|behavior behaviour|behaviors behaviours|favorite favourite|
favorites favourites|neighbor neighbour|neighbors neighbours|honor honour|labor labour|flavor flavour|
humor humour|rumor rumour|harbor harbour|center centre|centers centres|centered centred|fiber fibre|theater theatre|
liter litre|liters litres|analyze analyse|analyzed analysed|analyzing analysing|
organize organise|organized organised|organizing organising|organization organisation|organizations organisations|
realize realise|realized realised|realizing realising|recognize recognise|recognized recognised|recognizing recognising|
optimize optimise|optimized optimised|optimizing optimising|optimization optimisation|minimize minimise|minimized minimised|
maximize maximise|maximized maximised|summarize summarise|summarized summarised|prioritize prioritise|prioritized prioritised|
emphasize emphasise|emphasized emphasised|categorize categorise|categorized categorised|visualize visualise|visualization visualisation|
apologize apologise|criticize criticise|memorize memorise|specialized specialised|standardized standardised|
modeling modelling|modeled modelled|labeled labelled|labeling labelling|traveling travelling|traveled travelled|
canceled cancelled|canceling cancelling|fueled fuelled|defense defence|offense offence|catalog catalogue|dialog dialogue|
analog analogue|gray grey|toward towards|afterward afterwards|judgment judgement|aging ageing|
skeptical sceptical|jewelry jewellery|cozy cosy|mold mould|plow plough|learned learnt|spelled spelt|
dreamed dreamt|burned burnt|leaped leapt|enroll enrol|fulfill fulfil|installment instalment|skillful skilful|
`;

// Near-exact synonyms: one part of speech each, interchangeable in ordinary prose.
const SYNONYMS = `
often frequently|usually typically|nearly almost|perhaps maybe|therefore thus|moreover furthermore|
hence consequently|quickly rapidly|mostly largely|mainly primarily|especially particularly|exactly precisely|
completely entirely|roughly approximately|significantly considerably|immediately instantly|essentially basically|
eventually ultimately|additionally also|begins starts|choose select|purchased bought|modify alter|modified altered|
huge enormous|difficult challenging|vital essential|simple straightforward|obtain acquire|obtained acquired|
examine inspect|examined inspected|accurate precise|ability capability|abilities capabilities|
drawback disadvantage|drawbacks disadvantages|
`;

function parse(block: string): [string, string][] {
  return block
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const [a, b] = s.split(/\s+/);
      return [a!, b!];
    });
}

function buildLexicon(): LexiconPair[] {
  const raw: { forms: [string, string]; after?: string }[] = [...parse(SPELLINGS), ...parse(SYNONYMS)].map((forms) => ({ forms }));
  // A phrase-bound pair: "instance" means "example" only after "for".
  raw.push({ forms: ['example', 'instance'], after: 'for' });
  // A word in two pairs would be ambiguous to read back; the later pair is dropped.
  const seen = new Set<string>();
  const out: LexiconPair[] = [];
  for (const r of raw) {
    if (r.forms.some((f) => seen.has(f)) || r.forms[0] === r.forms[1]) continue;
    for (const f of r.forms) seen.add(f);
    out.push({ id: out.length, forms: r.forms, ...(r.after ? { after: r.after } : {}) });
  }
  return out;
}

export const LEXICON: readonly LexiconPair[] = buildLexicon();

const BY_FORM = new Map<string, { pair: LexiconPair; index: 0 | 1 }>();
for (const p of LEXICON) {
  BY_FORM.set(p.forms[0], { pair: p, index: 0 });
  BY_FORM.set(p.forms[1], { pair: p, index: 1 });
}

/** The pair a lower-case word belongs to, and which of its forms it is. */
export function lookupForm(word: string): { pair: LexiconPair; index: 0 | 1 } | undefined {
  return BY_FORM.get(word);
}
