import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { messageText } from '../core/exchange.js';
import { classifyCapability } from './capability.js';
import { elicitationScore, isGrading } from './elicitation.js';
import { normalisedSig64 } from './text.js';
import { ALL_RULES, GATE_MAX_CHARS, gatedRules, scanPrompt } from './word-gate.js';
import { prepareSimulation } from '../traffic/simulate.js';

/** Texts at the edges of the rules' words: joined by symbols, cut, non-Latin, in tags, digits only. */
const EDGES = [
  'c++ code', 'in c++', 'c#', 'c++x', '#include <stdio.h>', 'x => y', 'a=>b', '`x`', '```', '3+4', '3 + 4 = 7', '$5', '12 apples',
  "let's think", 'lets think', 'let s think', '<think>', '</reasoning>', 'step-by-step', 'step by step', 'chain-of-thought',
  'multi-step task', 'éclick on the button', 'click on', 'clicks on', 'on a scale of 1 to 10', 'response a ... response b',
  'rewrite this, politically', 'neutralize the sensitive text', 'api endpoint', 'api call', 'function(', 'function call', 'def f(',
  'from x import y', 'public static void', 'class a:', 'import os', 'what is the sum', 'how many', 'logic puzzle', 'is this answer correct',
  'assign a score', 'reward model', 'which answer is better', 'wrapped in think tags', 'wrap it in <thinking> tags',
  'before answering, think', 'prior to responding please reason', 'walk me through your reasoning', 'keep your thinking in french',
  'reason it out step', 'justify each step', 'intermediate steps', 'full derivation', 'show me all of your work',
  'explain each single step', 'think carefully before', 'lay out the complete logic, every inference', '  \t spaced\u00a0 ', '',
  'ünïcödé wörds and 日本語 with step by step', 'K\u212a', 'x_click on y', 'click_on', '9click on',
];

async function corpus(): Promise<string[]> {
  const out = [...EDGES];
  const sim = await prepareSimulation({ scenario: 'small', seed: 3 });
  let i = 0;
  for (const ex of sim.exchanges) {
    const m = ex.request.messages;
    out.push(messageText(m[m.length - 1]!.content));
    if (++i >= 3000) break;
  }
  return out.map((t) => t.toLowerCase());
}

describe('scanPrompt', () => {
  it('never closes a rule whose regex matches the text', async () => {
    const rules = gatedRules();
    assert.ok(rules.length >= 18, `only ${rules.length} rules registered`);
    let closed = 0;
    for (const text of await corpus()) {
      const { open } = scanPrompt(text);
      for (const rule of rules) {
        if ((open & rule.bit) === 0) closed++;
        if (rule.re.test(text)) assert.notEqual(open & rule.bit, 0, `rule ${rule.re.source.slice(0, 60)} closed on "${text.slice(0, 80)}"`);
      }
    }
    // A gate that opened everything would pass the check above and save nothing.
    assert.ok(closed > 0, 'the gate closed no rule on any text');
  });

  it('hashes the prompt as normalisedSig64 does', async () => {
    for (const text of await corpus()) assert.equal(scanPrompt(text).hash, normalisedSig64(text), text.slice(0, 80));
  });

  it('opens every rule on a text too long to read whole', () => {
    assert.equal(scanPrompt('hello '.repeat(GATE_MAX_CHARS)).open, ALL_RULES);
  });

  it('gives the same scores with and without the gate', async () => {
    for (const text of await corpus()) {
      const { open } = scanPrompt(text);
      assert.equal(elicitationScore(text, open), elicitationScore(text), text.slice(0, 80));
      assert.equal(isGrading(text, open), isGrading(text), text.slice(0, 80));
      const input = { text, toolNames: [], nToolResults: 0, hasImage: false, grading: false };
      assert.equal(classifyCapability({ ...input, open }), classifyCapability(input), text.slice(0, 80));
    }
  });
});
