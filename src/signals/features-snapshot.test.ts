/**
 * The features' values are a contract: stored rows, indicator keys and template clusters
 * are compared across scans, so a faster feature path must give the same row for the same
 * exchange. These digests were taken from computeFeatures before its hot path was rewritten;
 * a change here means a change in what the engine sees, and needs a reason of its own.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Exchange } from '../core/exchange.js';
import type { ExchangeFeatures } from '../core/features.js';
import { computeFeatures } from './features.js';
import { prepareSimulation } from '../traffic/simulate.js';

/** Every 3rd of the first 12,000 exchanges of a small scenario: each kind of actor's prompts. */
async function sample(): Promise<Exchange[]> {
  const sim = await prepareSimulation({ scenario: 'small', seed: 7 });
  const out: Exchange[] = [];
  let i = 0;
  for (const ex of sim.exchanges) {
    if (i++ % 3 === 0) out.push(JSON.parse(JSON.stringify(ex)) as Exchange);
    if (i >= 12_000) break;
  }
  return [...out, ...crafted(out.slice(0, 300))];
}

/**
 * Prompts the small scenario seldom sends (screens, rewrites, images, URLs, e-mails, quotes,
 * non-Latin words, texts long enough to be cut), pieced together from fixed fragments so
 * that every branch of the matchers is crossed.
 */
const FRAGMENTS = [
  'Click on the Submit button and take a screenshot.',
  'Rewrite this politically sensitive paragraph so it reads as neutral.',
  'See https://example.com/a?b=1 and mail bob.smith+x@mail.example.org now.',
  'He said "hello there" and then \'goodbye\' with `code` inside.',
  '```python\ndef f(x):\n    return x * 2\n``` fix the bug in this function',
  'Grade the following answer on a scale of 1 to 10. Response A: yes. Response B: no.',
  "Let's think step by step, show your work and explain every step.",
  'Calculate 12 + 7 = ? How many apples, 3.5 kg, $20, 1,000,000 people.',
  'Résumé über naïve café — 日本語のテキスト 😀 emoji 𝒳 mathematical.',
  'Use the tools to plan and execute a multi-step task with a function call.',
  'Please lay out the complete logic you followed, every inference included.',
  '<think>inner</think> write it inside <reasoning> tags',
  '   \t\n  spaced   out\u00a0text\u2003here  ',
  'Open the browser and navigate to the website, then fill out the form.',
];

function crafted(base: readonly Exchange[]): Exchange[] {
  const out: Exchange[] = [];
  for (let i = 0; i < base.length; i++) {
    const ex = structuredClone(base[i]!) as Exchange;
    const parts: string[] = [];
    for (let k = 0; k < 1 + (i % 4); k++) parts.push(FRAGMENTS[(i * 7 + k * 3) % FRAGMENTS.length]!);
    let text = parts.join(i % 2 ? '\n\n' : ' ');
    // Every 10th is long enough to be cut at both ends by each matcher's own limit.
    if (i % 10 === 0) text = text + ' filler words here.'.repeat(200 + 60 * (i % 50)) + ' ' + text;
    if (i % 5 === 0) text = text.toUpperCase();
    const content = i % 3 === 0 ? [{ type: 'text', text }, ...(i % 9 === 0 ? [{ type: 'image' }] : [])] : text;
    ex.request = { ...ex.request, messages: [...ex.request.messages, { role: 'user', content }] };
    if (i % 11 === 0) ex.request.tools = [{ name: i % 2 ? 'computer_use' : 'run_tests' }, { name: 'Read_File' }];
    out.push(ex);
  }
  return out;
}

/** The columns computed from the exchange; the others are copied from it as they are. */
const COMPUTED = [
  'ip', 'subnet', 'n_user_turns', 'n_tool_results', 'n_tools', 'tools_sig', 'system_sig', 'harness_sig',
  'template_prefix', 'template_suffix', 'template_simhash', 'prompt_hash', 'prompt_chars',
  'capability', 'elicitation', 'grading', 'thinking_budget', 'prompt_preview',
] as const satisfies readonly (keyof ExchangeFeatures)[];

/** One digest per computed column, so that a mismatch names the column that moved. */
function digests(rows: readonly ExchangeFeatures[]): Record<string, string> {
  const hashes = new Map<string, ReturnType<typeof createHash>>();
  for (const row of rows) {
    for (const k of COMPUTED) {
      const v = row[k];
      let h = hashes.get(k);
      if (!h) hashes.set(k, (h = createHash('sha256')));
      h.update(JSON.stringify(v) ?? 'undefined').update('\n');
    }
  }
  return Object.fromEntries([...hashes].map(([k, h]) => [k, h.digest('hex').slice(0, 16)]));
}

const EXPECTED_INPUT = '383e2948836a1a19';
const EXPECTED_PLAIN: Record<string, string> = {
  ip: '37faa272ea68ee86',
  subnet: 'f480bc970f0a5091',
  n_user_turns: '2a2b001ab10bc4f4',
  n_tool_results: 'e0a55732cd07b128',
  n_tools: '3357378e2774b21a',
  tools_sig: '852f62dbe4850995',
  system_sig: '99e14598d50f41da',
  harness_sig: '8ca6f450778e05d9',
  template_prefix: 'c13a7a94fbfec291',
  template_suffix: 'd4e4a191f42c0eba',
  template_simhash: '36e7a20cb38418af',
  prompt_hash: '6659c149804292fd',
  prompt_chars: '0898b3ad2b924b5e',
  capability: 'fe47107b879580cf',
  elicitation: '8765cf3da74a79ef',
  grading: 'a37b2beebc2dd10e',
  thinking_budget: 'd9b9be5a830dea57',
  prompt_preview: '13ac0019f2b0908a',
};
// An IP hash key changes only these three columns.
const EXPECTED_KEYED: Record<string, string> = {
  ...EXPECTED_PLAIN,
  ip: '5fbe5a7ea6e35ff5',
  subnet: '9c4292d5fbb84121',
  prompt_preview: 'de11fa1cf8b94ce5',
};

describe('computeFeatures over simulated traffic', () => {
  it('gives the same values as before its hot path was rewritten', async () => {
    const exchanges = await sample();
    assert.equal(exchanges.length, 4300);
    // The simulator may change its traffic: then the inputs' digest moves too, and the
    // expected digests are retaken from the code before the change, not from the new code.
    const input = createHash('sha256').update(JSON.stringify(exchanges.map((ex) => ex.request))).digest('hex').slice(0, 16);
    const plain = digests(exchanges.map((ex) => computeFeatures(ex)));
    const keyed = digests(exchanges.map((ex) => computeFeatures(ex, { ipHashKey: 'k1', promptPreviewChars: 50 })));
    if (process.env.PRINT_FEATURE_DIGESTS) process.stdout.write(JSON.stringify({ input, plain, keyed }, null, 1) + '\n');
    assert.equal(input, EXPECTED_INPUT, 'the simulated requests changed: retake the digests with the feature code before the change');
    assert.deepEqual(plain, EXPECTED_PLAIN);
    assert.deepEqual(keyed, EXPECTED_KEYED);
  });
});

describe('computeFeatures phrase sketch over simulated traffic', () => {
  // A column added after the digests above were taken: pinned on its own, so that the hot
  // path's digests stay those of the code before it was rewritten.
  it('gives the same phrase_sigs as when the column was added', async () => {
    const h = createHash('sha256');
    for (const ex of await sample()) h.update(computeFeatures(ex).phrase_sigs).update('\n');
    assert.equal(h.digest('hex').slice(0, 16), '405da05f1959b636');
  });
});
