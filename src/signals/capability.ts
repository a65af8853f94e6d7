/**
 * Which capability a prompt targets. Rule-based on purpose: it must run at line rate, load
 * offline, and explain itself; what matters downstream is the mix over an account or a
 * campaign, not the label of one prompt.
 */
import type { Capability } from '../core/features.js';

export interface CapabilityInput {
  /** Last user message, lower-cased. */
  text: string;
  toolNames: readonly string[];
  nToolResults: number;
  hasImage: boolean;
  grading: boolean;
}

const COMPUTER_TOOL = /\b(?:computer|browser|screenshot|mouse|click|keyboard|desktop|navigate|playwright|selenium)\b/;
const COMPUTER_TEXT = /\b(?:click (?:on|the)|take a screenshot|open the browser|navigate to (?:the )?(?:page|website|url)|fill (?:in|out) the form|desktop app)\b/;
const SENSITIVE = /\b(?:rewrite|rephrase|reword|paraphrase|reframe|neutrali[sz]e)\b[^.?!]{0,80}\b(?:politic\w*|sensitive|controvers\w*|censor\w*|propaganda|government|neutral|safe|acceptable|official (?:position|line))\b/;

const CODE_PATTERNS: RegExp[] = [
  /```/,
  /\bdef \w+\(|\bfunction \w*\(|=>|\bclass \w+[:({]|#include|\bimport \w+|\bfrom \w+ import\b|\bpublic static\b/,
  /\b(?:python|javascript|typescript|java|c\+\+|rust|golang|sql|bash|regex|html|css|kotlin|swift|php|ruby)\b/,
  /\b(?:write|implement|refactor|debug|fix|optimi[sz]e|complete)\b[^.?!]{0,40}\b(?:function|method|class|code|program|script|algorithm|bug|query|endpoint|module)\b/,
  /\b(?:compile|stack trace|exception|segfault|unit tests?|api endpoint|runtime error|null pointer)\b/,
];
const MATH_PATTERNS: RegExp[] = [
  /\b(?:calculate|compute|solve|prove|derive|how many|how much|what is the (?:value|probability|sum|product|area|total))\b/,
  /\b(?:equation|integral|derivative|probability|theorem|lemma|prime|polynomial|matrix|percent|ratio|average)\b/,
  /\d+\s*[-+*/^=×÷]\s*\d+/,
  /\$\d|\d+ (?:dollars|cents|hours|minutes|apples|eggs|miles|km|kg)\b/,
  /\b(?:logic puzzle|riddle|deduce|infer)\b/,
];
const AGENT_TEXT = /\b(?:use the (?:tools?|functions?)|call the (?:function|tool|api)|function call|tool call|agent|multi-step task|plan and execute|api call)\b/;

function hits(patterns: readonly RegExp[], text: string): number {
  let n = 0;
  for (const re of patterns) if (re.test(text)) n++;
  return n;
}

/** @example classifyCapability({ text: 'write a python function to add two numbers', toolNames: [], nToolResults: 0, hasImage: false, grading: false }) // 'coding' */
export function classifyCapability(input: CapabilityInput): Capability {
  const text = input.text.length > 6000 ? input.text.slice(0, 3000) + ' ' + input.text.slice(-3000) : input.text;
  if (input.grading) return 'grading';
  if (input.hasImage) return 'vision';
  const toolText = input.toolNames.join(' ').toLowerCase().replace(/_/g, ' ');
  if ((toolText && COMPUTER_TOOL.test(toolText)) || COMPUTER_TEXT.test(text)) return 'computer_use';
  if (SENSITIVE.test(text)) return 'sensitive_rewrite';
  const code = hits(CODE_PATTERNS, text);
  const math = hits(MATH_PATTERNS, text);
  if (input.toolNames.length > 0 || input.nToolResults > 0) {
    // Coding agents carry tools too: their tool set names code actions.
    if (code >= 2 || /\b(?:run tests?|edit file|bash|shell|git|read file|write file)\b/.test(toolText)) return 'coding';
    return 'agentic_tool_use';
  }
  if (AGENT_TEXT.test(text)) return 'agentic_tool_use';
  if (code >= 2 || (code === 1 && math === 0 && /```|\bdef |\bfunction\b/.test(text))) return 'coding';
  if (math >= 2) return 'reasoning';
  if (code === 1) return 'coding';
  if (math === 1 && text.length < 600) return 'reasoning';
  return 'general_chat';
}
