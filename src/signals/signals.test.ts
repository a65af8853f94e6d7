import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { classifyCapability } from './capability.js';
import { elicitationScore, isGrading } from './elicitation.js';
import { computeFeatures, subnetOf } from './features.js';
import { fnv1a32, hex16, hex8, sig64 } from './hash.js';
import { hammingDistance, simhash64, templateSignature } from './template.js';
import { maskVariableParts, normalise, normalisedSig64, words } from './text.js';
import type { Exchange } from '../core/exchange.js';

const cap = (text: string, extra: Partial<Parameters<typeof classifyCapability>[0]> = {}) =>
  classifyCapability({ text: text.toLowerCase(), toolNames: [], nToolResults: 0, hasImage: false, grading: false, ...extra });

describe('elicitationScore', () => {
  it('scores explicit requests for the reasoning as 1', () => {
    for (const t of [
      'Solve this. Explain every step.',
      "Let's think step by step.",
      'Put your reasoning in <think> tags before the answer.',
      'Think carefully before answering and keep your thinking in Spanish.',
      'Give the full derivation.',
    ]) assert.equal(elicitationScore(t.toLowerCase()), 1, t);
  });
  it('scores a paraphrase lower but above zero', () => {
    const s = elicitationScore('please lay out the complete logic you followed, every inference included'.toLowerCase());
    assert.ok(s > 0 && s < 1, String(s));
  });
  it('scores ordinary requests as 0', () => {
    for (const t of ['Write a haiku about autumn.', 'What is the capital of France?', 'Fix the bug in this function'])
      assert.equal(elicitationScore(t.toLowerCase()), 0, t);
  });
});

describe('isGrading', () => {
  it('recognises requests to grade or rank answers', () => {
    assert.ok(isGrading('grade the following answer on a scale of 1 to 10'));
    assert.ok(isGrading('which response is better? response a: foo. response b: bar.'));
  });
  it('does not fire on ordinary questions', () => {
    assert.ok(!isGrading('how do i rate limit an api in express?'));
  });
});

describe('classifyCapability', () => {
  it('labels code, math, tools, images and grading', () => {
    assert.equal(cap('Write a Python function to reverse a linked list.'), 'coding');
    assert.equal(cap('A farmer has 12 cows and buys 7 more. How many cows does he have? Calculate the total.'), 'reasoning');
    assert.equal(cap('Find the weather in Paris', { toolNames: ['get_weather'] }), 'agentic_tool_use');
    assert.equal(cap('Open the settings page', { toolNames: ['computer'] }), 'computer_use');
    assert.equal(cap('What is in this picture?', { hasImage: true }), 'vision');
    assert.equal(cap('anything', { grading: true }), 'grading');
    assert.equal(cap('Rewrite this politically sensitive paragraph so it reads as neutral.'), 'sensitive_rewrite');
    assert.equal(cap('Tell me a story about a dragon.'), 'general_chat');
  });
});

describe('templateSignature', () => {
  it('gives one prefix and suffix to a wrapper filled with different items', () => {
    const wrap = (item: string) =>
      maskVariableParts(`Solve the following problem carefully and explain every step.\n\n${item}\n\nPut the final answer at the end in a box.`);
    const a = templateSignature(wrap('Janet has 16 eggs and eats 3. How many are left?'));
    const b = templateSignature(wrap('A train leaves at 9 and arrives at 11. How long is the trip for the passengers?'));
    assert.equal(a.prefix, b.prefix);
    assert.equal(a.suffix, b.suffix);
  });
  it('keeps near-identical texts within a few bits and unrelated ones far apart', () => {
    const a = templateSignature(maskVariableParts('Write a detailed essay about the history of the Roman empire and its fall, with sources.'));
    const b = templateSignature(maskVariableParts('Write a detailed essay about the history of the Roman empire and its decline, with sources.'));
    const c = templateSignature(maskVariableParts('How do I configure nginx as a reverse proxy for a node server on port 3000?'));
    assert.ok(hammingDistance(a.simhash, b.simhash) < hammingDistance(a.simhash, c.simhash));
    assert.ok(hammingDistance(a.simhash, b.simhash) <= 16);
  });
});

describe('computeFeatures', () => {
  const ex: Exchange = {
    id: 'ex_1',
    ts: '2026-04-22T08:15:03.120Z',
    account_id: 'acct_1',
    model: 'frontier-2',
    client: { ip: '203.0.113.7', user_agent: 'sdk/1.0', asn: 64500 },
    account: { created_at: '2026-04-20T00:00:00Z', tier: 'edu', verified: false },
    request: {
      system: 'You are a helpful assistant.',
      messages: [
        { role: 'user', content: 'Earlier question' },
        { role: 'assistant', content: [{ type: 'tool_use', name: 'run_tests', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }, { type: 'text', text: 'Now explain every step.' }] },
      ],
      tools: [{ name: 'run_tests' }],
      max_tokens: 4096,
    },
    usage: { output_tokens: 100 },
  };
  it('maps an exchange to features with the last user message as the prompt', () => {
    const f = computeFeatures(ex);
    assert.equal(f.ts, Date.parse('2026-04-22T08:15:03.120Z'));
    assert.equal(f.subnet, '203.0.113.0/24');
    assert.equal(f.n_user_turns, 2);
    assert.equal(f.n_tool_results, 1);
    assert.equal(f.n_tools, 1);
    assert.equal(f.elicitation, 1);
    assert.equal(f.prompt_preview, 'Now explain every step.');
    assert.equal(f.account_created_at, Date.parse('2026-04-20T00:00:00Z'));
    assert.equal(f.output_tokens, 100);
  });
  it('hashes IPs and keeps no prompt when configured so', () => {
    const f = computeFeatures(ex, { ipHashKey: 'secret', promptPreviewChars: 0 });
    assert.ok(f.ip && f.ip.startsWith('h:') && !f.ip.includes('203.0.113'));
    assert.ok(f.subnet && f.subnet.startsWith('h:'));
    assert.equal(f.prompt_preview, null);
    assert.equal(computeFeatures(ex, { ipHashKey: 'secret' }).ip, f.ip, 'the same key gives the same hash');
    assert.notEqual(computeFeatures(ex, { ipHashKey: 'other' }).ip, f.ip);
  });
  it('gives one harness signature to one client and another to a different one', () => {
    const a = computeFeatures(ex).harness_sig;
    const b = computeFeatures({ ...ex, client: { ...ex.client, user_agent: 'other/2.0' } }).harness_sig;
    assert.notEqual(a, b);
  });
  it('gives each address and subnet as hashing them afresh would, whatever was computed before', () => {
    // Addresses and subnets are cached per key: the same address alternates between keys and
    // no key, and addresses without a subnet, empty or absent, come between them.
    const hmac = (v: string, key: string): string => 'h:' + createHmac('sha256', key).update(v).digest('hex').slice(0, 16);
    const ips = ['203.0.113.7', '2001:db8:1234:5678::1', 'not an ip', '', '203.0.113.7', '10.0.0.1', '::1', '2001:db8:1234:5678::1', '999.1.1.1', undefined];
    for (let round = 0; round < 3; round++) {
      for (const ip of ips) {
        for (const key of [undefined, 'k1', '', 'k2', 'k1']) {
          const client = ip === undefined ? {} : { ip };
          const f = computeFeatures({ ...ex, client }, key === undefined ? {} : { ipHashKey: key });
          const subnet = ip ? subnetOf(ip) : null;
          assert.equal(f.ip, ip === undefined ? null : ip && key ? hmac(ip, key) : ip, `ip of ${String(ip)} with key ${String(key)}`);
          assert.equal(f.subnet, subnet && key ? hmac(subnet, key) : subnet, `subnet of ${String(ip)} with key ${String(key)}`);
        }
      }
    }
  });
  it('finds the /48 of an IPv6 address', () => {
    assert.equal(subnetOf('2001:db8:1234:5678::1'), '2001:db8:1234::/48');
    assert.equal(subnetOf('not an ip'), null);
  });
});

/** The plain SimHash vote, one counter per bit: what the bit-sliced version must equal. */
function referenceSimhash(w: string[]): string {
  const ones = new Array<number>(64).fill(0);
  const n = Math.max(1, w.length - 2);
  for (let i = 0; i < n; i++) {
    let a = 0x9e3779b9;
    let b = 0x85ebca6b;
    for (let j = i; j < Math.min(i + 3, w.length); j++) {
      a = Math.imul(a ^ fnv1a32(w[j]!), 0x01000193) ^ (a >>> 15);
      b = Math.imul(b ^ fnv1a32(w[j]!, 0x9747b28c), 0x01000193) ^ (b >>> 13);
    }
    for (let bit = 0; bit < 32; bit++) {
      ones[bit]! += (a >>> bit) & 1;
      ones[bit + 32]! += (b >>> bit) & 1;
    }
  }
  let lo = 0;
  let hi = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (ones[bit]! * 2 > n) lo |= 1 << bit;
    if (ones[bit + 32]! * 2 > n) hi |= 1 << bit;
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

describe('hex8 and hex16', () => {
  it('give the zero-padded lower-case hex of their numbers', () => {
    const plain = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
    const values = [0, 1, 15, 16, 0xffffffff, 0x80000000, 0x7fffffff, -1, -(2 ** 31), 0xdeadbeef];
    let seed = 7;
    for (let i = 0; i < 500; i++) values.push((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0));
    for (const a of values) {
      assert.equal(hex8(a), plain(a));
      for (const b of values.slice(0, 12)) assert.equal(hex16(a, b), plain(a) + plain(b));
    }
  });
});

describe('simhash64', () => {
  it('equals the plain per-bit vote for every length it is given', () => {
    for (let len = 0; len <= 48; len++) {
      const w = Array.from({ length: len }, (_, i) => `w${(i * 7919 + len * 31) % 97}`);
      assert.equal(simhash64(w), referenceSimhash(w), `${len} words`);
    }
  });

  it('equals the plain per-bit vote on random words, where counts fall on every side of half', () => {
    // The vote is taken bit-sliced: counts one below, at and one above half must all be seen.
    let seed = 12345;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let round = 0; round < 400; round++) {
      const len = next() % 49;
      // Few distinct words in some rounds, so that shingles repeat and counts pile up.
      const vocabulary = 1 + (next() % (round % 2 ? 5 : 1000));
      const w = Array.from({ length: len }, () => `x${next() % vocabulary}é`);
      assert.equal(simhash64(w), referenceSimhash(w), `round ${round}: ${w.join(' ')}`);
    }
  });
});

describe('one walk of the prompt', () => {
  // The plain forms the walked ones replace: every replacement run, words as strings, joined.
  const CHAIN: [RegExp, string][] = [
    [/```[\s\S]*?(```|$)/g, ' <code> '],
    [/\bhttps?:\/\/\S+/g, ' <url> '],
    [/\b[\w.+-]+@[\w-]+\.[\w.-]+\b/g, ' <email> '],
    [/"[^"\n]{1,200}"|'[^'\n]{1,200}'|`[^`\n]{1,200}`/g, ' <q> '],
    [/\b\d+(?:[.,]\d+)*\b/g, '#'],
  ];
  const plainMask = (t: string): string => CHAIN.reduce((s, [re, to]) => s.replace(re, to), t.toLowerCase()).replace(/\s+/g, ' ').trim();
  const plainSignature = (masked: string) => {
    const all = words(masked, 20000);
    const w = all.length > 48 ? all.slice(0, 24).concat(all.slice(-24)) : all;
    return { prefix: sig64('p:' + w.slice(0, 8).join(' ')), suffix: sig64('s:' + w.slice(-8).join(' ')), simhash: simhash64(w) };
  };
  const texts = [
    '',
    '   ',
    'Solve: 12 + 7 = ?',
    "Don't stop. It's \"quoted text\" and `code` with 3.14 and 1,000 items, see https://example.com/x?y=1 or mail a.b@example.org",
    '```python\nprint(1)\n``` then explain every step <think> tags </think> <notatag <a1> #x',
    'Ünïcödé wörds, 日本語のテキスト, emoji 😀 and 𝒳𝒴 letters, İstanbul\u00a0\u2028line\ufeff end\t\n',
    Array.from({ length: 300 }, (_, i) => `w${i % 37} ${i % 5 ? 'alpha' : '42'}`).join(' '),
    'x'.repeat(25000) + ' tail words here',
  ];
  it('masks, finds words and signs a template as the plain chain of replacements does', () => {
    for (const t of texts) {
      const masked = maskVariableParts(t);
      assert.equal(masked, plainMask(t), JSON.stringify(t.slice(0, 40)));
      assert.deepEqual(templateSignature(masked), plainSignature(masked), JSON.stringify(t.slice(0, 40)));
    }
  });
  it('hashes the normalised prompt without building it', () => {
    for (const t of texts) assert.equal(normalisedSig64(t.toLowerCase()), sig64(normalise(t)), JSON.stringify(t.slice(0, 40)));
  });
});
