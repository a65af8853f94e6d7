/**
 * Answers that read like a model's, for tests and the benchmark's stub upstream: sentences
 * of ordinary explanatory prose around the words of the prompt, with the lexicon's words
 * where writers put them (either form of a pair, as writers vary), sometimes a code block or
 * a JSON object. Deterministic from the prompt and a seed.
 */
import { Rng } from '../traffic/rng.js';
import { lookupForm } from './lexicon.js';

const SENTENCES = [
  'The {n} is often the first thing to examine when the {n} behaves in an unexpected way.',
  'You can usually improve the {n} by choosing a simple default and measuring the result.',
  'In practice, {n} planning is essentially a trade-off between the {n} and the {n}.',
  'It is crucial to choose a clear name for the {n}, for example one that matches the {n}.',
  'Moreover, a {n} can modify the {n} in ways that are difficult to predict.',
  'This usually happens when the {n} grows quickly and more {n} is required to keep up.',
  'To analyze the {n}, start with a small example and then add the {n} step by step.',
  'The color of each {n} is mostly a matter of taste, but the {n} matters too.',
  'Most people realize that the {n} and the {n} are nearly the same problem.',
  '{N} errors appear when the {n} is modified while the {n} is still being read.',
  'Therefore the {n} should be organized around the {n}, not the other way round.',
  'A {n} that is completely separate from the {n} is easier to optimize.',
  'If the {n} is huge, you will need to summarize it before anyone can examine it.',
  'Perhaps the most important point is that the {n} shows up far more often than the {n}.',
  'Additionally, the {n} improves when the {n} is labeled with accurate values.',
  '{N} behavior is typically easier to recognize once you visualize the {n}.',
  'The {n} center is roughly where the {n} begins to change.',
  'Hence the {n} is significantly simpler than it looks, especially for a new {n}.',
  'Eventually the {n} becomes vital, because every {n} depends on it.',
  'We obtained the {n} from the {n}, then examined each {n} exactly as before.',
  'The {n} ability of a team is primarily a question of the {n} it can afford.',
  'One drawback of the {n} is that it reduces the {n} you can choose from.',
  'Furthermore, the {n} showed that {n} problems are frequently caused by the {n}.',
  'Your favorite {n} may be a gray area, so check the {n} immediately.',
  'After the {n} finished, the {n} looked completely different.',
  'The {n} is largely defined by its {n}, and the {n} by its neighbors.',
  'Maybe the {n} can be enhanced with an additional {n} for the {n}.',
  'Consequently the {n} needed to be analyzed again toward the end of the {n}.',
  'It is almost always worth the time to minimize the {n} and maximize the {n}.',
  'For example, the {n} can alter the {n} rapidly when the {n} is challenging.',
  'This is particularly true of {n} modeling, where the {n} is precise but the {n} is not.',
  'The {n} is then ultimately the straightforward part, and the {n} the essential one.',
];
const FALLBACK_NOUNS = ['system', 'data', 'model', 'budget', 'schedule', 'design', 'team', 'process', 'result', 'approach', 'input', 'output', 'garden', 'recipe', 'story', 'account', 'network', 'report', 'question', 'context'];
const STOP = new Set('about above after again also because before being below between both could does doing down during each from further have having here into itself just more most must only other over same should some such than that their them then there these they this those through under until very what when where which while whom with would your yours write please explain using give make like want need know tell show find create help list following given number'.split(' '));
const CODE = '```python\ndef often_used(colour, behavior):\n    """Usually fine: kept as written."""\n    return {"color": colour, "often": behavior}\n```';
const JSON_BLOCK = '{"color": "gray", "behavior": "often", "items": ["usually", "analyze"]}';

/** The prompt's content words, in order, to fill the sentences with. */
function nounsOf(prompt: string): string[] {
  const words = (prompt.toLowerCase().match(/[a-z]{4,14}/g) ?? []).filter((w) => !STOP.has(w));
  return words.length >= 3 ? words : FALLBACK_NOUNS;
}

/** An answer to `prompt`: 4 to 9 sentences in one or two paragraphs, now and then with code or JSON. */
export function sampleAnswer(prompt: string, seed: number): string {
  const rng = new Rng(seed);
  const nouns = nounsOf(prompt);
  const noun = () => (rng.chance(0.6) ? rng.pick(nouns) : rng.pick(FALLBACK_NOUNS));
  const sentences: string[] = [];
  const n = rng.int(4, 9);
  for (let i = 0; i < n; i++) {
    sentences.push(rng.pick(SENTENCES).replace(/\{n\}/g, noun).replace(/\{N\}/g, () => {
      const w = noun();
      return w[0]!.toUpperCase() + w.slice(1);
    }));
  }
  // Writers vary: now and then the other form of a pair ("frequently" for "often").
  for (let i = 0; i < sentences.length; i++) {
    sentences[i] = sentences[i]!.replace(/[A-Za-z]+/g, (w) => {
      const f = lookupForm(w.toLowerCase());
      if (!f || !rng.chance(0.3)) return w;
      const other = f.pair.forms[1 - f.index]!;
      return w[0] !== w[0]!.toLowerCase() ? other[0]!.toUpperCase() + other.slice(1) : other;
    });
  }
  const cut = rng.int(2, n - 1);
  let text = sentences.slice(0, cut).join(' ') + '\n\n' + sentences.slice(cut).join(' ');
  const extra = rng.next();
  if (extra < 0.1) text += '\n\n' + CODE + '\n';
  else if (extra < 0.15) text += '\n\nAs JSON: `' + JSON_BLOCK + '`';
  return text;
}
