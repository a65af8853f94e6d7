/**
 * Which capability a prompt targets. Rule-based on purpose: it must run at line rate, load
 * offline, and explain itself; what matters downstream is the mix over an account or a
 * campaign, not the label of one prompt.
 */
import type { Capability } from '../core/features.js';
import { ALL_RULES, gatedRule, ruleMatches, type GatedRule } from './word-gate.js';

export interface CapabilityInput {
  /** Last user message, lower-cased. */
  text: string;
  toolNames: readonly string[];
  nToolResults: number;
  hasImage: boolean;
  grading: boolean;
  /** The content rules the prompt may match, from `scanPrompt` of `text`. @default ALL_RULES */
  open?: number;
}

const COMPUTER_TOOL = /\b(?:computer|browser|screenshot|mouse|click|keyboard|desktop|navigate|playwright|selenium)\b/;
// Each rule with the words (or characters) one of which any match must hold: see word-gate.
const COMPUTER_TEXT = gatedRule(
  /\b(?:click (?:on|the)|take a screenshot|open the browser|navigate to (?:the )?(?:page|website|url)|fill (?:in|out) the form|desktop app)\b/,
  ['click', 'take', 'open', 'navigate', 'fill', 'desktop'],
);
const SENSITIVE = gatedRule(
  /\b(?:rewrite|rephrase|reword|paraphrase|reframe|neutrali[sz]e)\b[^.?!]{0,80}\b(?:politic\w*|sensitive|controvers\w*|censor\w*|propaganda|government|neutral|safe|acceptable|official (?:position|line))\b/,
  ['rewrite', 'rephrase', 'reword', 'paraphrase', 'reframe', 'neutralise', 'neutralize'],
);

const CODE_PATTERNS: GatedRule[] = [
  gatedRule(/```/, [], '`'),
  gatedRule(
    /\bdef \w+\(|\bfunction \w*\(|=>|\bclass \w+[:({]|#include|\bimport \w+|\bfrom \w+ import\b|\bpublic static\b/,
    ['def', 'function', 'class', 'import', 'from', 'public'],
    '=#',
  ),
  gatedRule(
    /\b(?:python|javascript|typescript|java|c\+\+|rust|golang|sql|bash|regex|html|css|kotlin|swift|php|ruby)\b/,
    ['python', 'javascript', 'typescript', 'java', 'c', 'rust', 'golang', 'sql', 'bash', 'regex', 'html', 'css', 'kotlin', 'swift', 'php', 'ruby'],
  ),
  gatedRule(
    /\b(?:write|implement|refactor|debug|fix|optimi[sz]e|complete)\b[^.?!]{0,40}\b(?:function|method|class|code|program|script|algorithm|bug|query|endpoint|module)\b/,
    ['write', 'implement', 'refactor', 'debug', 'fix', 'optimise', 'optimize', 'complete'],
  ),
  gatedRule(
    /\b(?:compile|stack trace|exception|segfault|unit tests?|api endpoint|runtime error|null pointer)\b/,
    ['compile', 'stack', 'exception', 'segfault', 'unit', 'api', 'runtime', 'null'],
  ),
];
const DIGITS = '0123456789';
const MATH_PATTERNS: GatedRule[] = [
  gatedRule(
    /\b(?:calculate|compute|solve|prove|derive|how many|how much|what is the (?:value|probability|sum|product|area|total))\b/,
    ['calculate', 'compute', 'solve', 'prove', 'derive', 'how', 'what'],
  ),
  gatedRule(
    /\b(?:equation|integral|derivative|probability|theorem|lemma|prime|polynomial|matrix|percent|ratio|average)\b/,
    ['equation', 'integral', 'derivative', 'probability', 'theorem', 'lemma', 'prime', 'polynomial', 'matrix', 'percent', 'ratio', 'average'],
  ),
  gatedRule(/\d+\s*[-+*/^=×÷]\s*\d+/, [], DIGITS),
  gatedRule(/\$\d|\d+ (?:dollars|cents|hours|minutes|apples|eggs|miles|km|kg)\b/, [], DIGITS),
  gatedRule(/\b(?:logic puzzle|riddle|deduce|infer)\b/, ['logic', 'riddle', 'deduce', 'infer']),
];
const AGENT_TEXT = gatedRule(
  /\b(?:use the (?:tools?|functions?)|call the (?:function|tool|api)|function call|tool call|agent|multi-step task|plan and execute|api call)\b/,
  ['use', 'call', 'function', 'tool', 'agent', 'multi', 'plan', 'api'],
);

function hits(patterns: readonly GatedRule[], text: string, open: number): number {
  let n = 0;
  for (const rule of patterns) if (ruleMatches(rule, text, open)) n++;
  return n;
}

/** @example classifyCapability({ text: 'write a python function to add two numbers', toolNames: [], nToolResults: 0, hasImage: false, grading: false }) // 'coding' */
export function classifyCapability(input: CapabilityInput): Capability {
  const text = input.text.length > 6000 ? input.text.slice(0, 3000) + ' ' + input.text.slice(-3000) : input.text;
  // The gate read the whole text: a cut one may hold words it did not (see GATE_MAX_CHARS).
  const open = text === input.text ? (input.open ?? ALL_RULES) : ALL_RULES;
  if (input.grading) return 'grading';
  if (input.hasImage) return 'vision';
  const toolText = input.toolNames.join(' ').toLowerCase().replace(/_/g, ' ');
  if ((toolText && COMPUTER_TOOL.test(toolText)) || ruleMatches(COMPUTER_TEXT, text, open)) return 'computer_use';
  if (ruleMatches(SENSITIVE, text, open)) return 'sensitive_rewrite';
  const code = hits(CODE_PATTERNS, text, open);
  const math = hits(MATH_PATTERNS, text, open);
  if (input.toolNames.length > 0 || input.nToolResults > 0) {
    // Coding agents carry tools too: their tool set names code actions.
    if (code >= 2 || /\b(?:run tests?|edit file|bash|shell|git|read file|write file)\b/.test(toolText)) return 'coding';
    return 'agentic_tool_use';
  }
  if (ruleMatches(AGENT_TEXT, text, open)) return 'agentic_tool_use';
  if (code >= 2 || (code === 1 && math === 0 && /```|\bdef |\bfunction\b/.test(text))) return 'coding';
  if (math >= 2) return 'reasoning';
  if (code === 1) return 'coding';
  if (math === 1 && text.length < 600) return 'reasoning';
  return 'general_chat';
}
