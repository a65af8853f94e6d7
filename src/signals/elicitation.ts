/**
 * Reasoning elicitation: does a prompt ask for the model's reasoning itself, the part a
 * distiller most wants to copy? Explicit phrasings score 1; paraphrases (a reasoning noun
 * near a demand verb) score 0.6, so that a reworded template does not escape entirely.
 * One prompt asking for steps proves nothing: the engine only uses the share over many.
 */
import { ALL_RULES, gatedRule, ruleMatches } from './word-gate.js';

const EXPLICIT: RegExp[] = [
  /\bstep[- ]by[- ]step\b/,
  /\bshow (?:me )?(?:all )?(?:of )?your (?:work|working|reasoning|thinking|thought process|steps)\b/,
  /\bexplain (?:every|each|all (?:the|of the|your)?) ?(?:single )?steps?\b/,
  /\bthink (?:carefully |hard |deeply |it through |this through )?(?:before|first|prior to)\b/,
  /\b(?:before|prior to) (?:answering|responding|you answer|giving)[^.]{0,40}\b(?:think|reason)/,
  /<\/?(?:think|thinking|reasoning|reason|scratchpad|thought|cot|analysis)>/,
  /\b(?:in|inside|within|between|wrap(?:ped)? (?:it )?in) (?:<|\[)?(?:think|thinking|reasoning|scratchpad)(?:>|\])? tags?\b/,
  /\bchain[- ]of[- ]thought\b/,
  /\b(?:full|complete|entire|detailed|explicit) (?:reasoning|derivation|thought process|chain of reasoning|rationale)\b/,
  /\bwalk (?:me )?through (?:your|the|each|every) (?:reasoning|steps?|logic|thinking)\b/,
  /\b(?:keep|write|do) your (?:thinking|reasoning)(?: process)? in\b/,
  /\blet'?s think\b/,
  /\breason (?:it |this )?(?:out|through) (?:step|carefully|explicitly|in detail)\b/,
  /\bjustify (?:each|every|all) (?:step|claim|inference)\b/,
  /\bintermediate (?:steps|reasoning|calculations)\b/,
];

/**
 * The explicit phrasings as one alternation: one walk of the text instead of one per
 * phrasing. Each phrasing starts with one of these words, or holds a '<' (the tags).
 */
const ANY_EXPLICIT = gatedRule(anyOf(EXPLICIT), [
  'step', 'show', 'explain', 'think', 'before', 'prior', 'in', 'inside', 'within', 'between', 'wrap', 'wrapped',
  'chain', 'full', 'complete', 'entire', 'detailed', 'explicit', 'walk', 'keep', 'write', 'do', 'let', 'lets',
  'reason', 'justify', 'intermediate',
], '<');

/** One regex that matches where any of `res` does (same flags: none). */
function anyOf(res: readonly RegExp[]): RegExp {
  return new RegExp(res.map((re) => `(?:${re.source})`).join('|'));
}

const REASONING_NOUN_WORDS = ['reasoning', 'thinking', 'thought', 'thoughts', 'rationale', 'derivation', 'steps', 'logic', 'deliberation', 'inference'];
const REASONING_NOUN = gatedRule(new RegExp(`\\b(?:${REASONING_NOUN_WORDS.join('|')})\\b`), REASONING_NOUN_WORDS);
const DEMAND = gatedRule(
  /\b(?:show|explain|write out|spell out|lay out|detail|describe|expose|include|document|articulate|present|provide|give|narrate|verbalize|verbalise|outline)\b/,
  ['show', 'explain', 'write', 'spell', 'lay', 'detail', 'describe', 'expose', 'include', 'document', 'articulate', 'present', 'provide', 'give', 'narrate', 'verbalize', 'verbalise', 'outline'],
);
const COMPLETENESS_WORDS = ['every', 'each', 'all', 'full', 'complete', 'entire', 'whole', 'exhaustive', 'thorough', 'detailed', 'explicit', 'before'];
const COMPLETENESS = gatedRule(new RegExp(`\\b(?:${COMPLETENESS_WORDS.join('|')})\\b`), COMPLETENESS_WORDS);

/**
 * Scores one prompt (already lower-cased) for reasoning elicitation, 0..1. `open`: the rules
 * the prompt may match, from `scanPrompt(lowerText)`.
 * @example elicitationScore('solve it. explain every step.') // 1
 */
export function elicitationScore(lowerText: string, open = ALL_RULES): number {
  // Only the wrapper matters, and it sits at the ends; scanning a 50 KB pasted file is waste.
  const text = lowerText.length > 4000 ? lowerText.slice(0, 2000) + ' ' + lowerText.slice(-2000) : lowerText;
  // The gate read the whole text: a cut one may hold words it did not.
  if (text !== lowerText) open = ALL_RULES;
  if (ruleMatches(ANY_EXPLICIT, text, open)) return 1;
  if (ruleMatches(REASONING_NOUN, text, open) && ruleMatches(DEMAND, text, open) && ruleMatches(COMPLETENESS, text, open)) return 0.6;
  return 0;
}

const GRADING: RegExp[] = [
  /\b(?:grade|score|rate|rank|evaluate|judge|assess)\b[^.?!]{0,60}\b(?:answers?|responses?|solutions?|completions?|outputs?|candidates?|replies)\b/,
  /\bwhich (?:of (?:the|these) )?(?:answer|response|solution|completion|output|reply)s? is (?:better|best|more (?:correct|helpful|accurate))\b/,
  /\bon a scale (?:of|from) \d+ (?:to|-) \d+\b/,
  /\b(?:assign|give|output) (?:a|an|the) (?:score|grade|rating|reward)\b/,
  /\b(?:response|answer|assistant|completion) a\b[\s\S]{0,2000}\b(?:response|answer|assistant|completion) b\b/,
  /\breward (?:score|model|signal)\b/,
  /\bis (?:this|the following) (?:answer|solution|response) correct\b/,
];

/** Each phrasing starts with one of these words. */
const ANY_GRADING = gatedRule(anyOf(GRADING), [
  'grade', 'score', 'rate', 'rank', 'evaluate', 'judge', 'assess', 'which', 'on', 'assign', 'give', 'output',
  'response', 'answer', 'assistant', 'completion', 'reward', 'is',
]);

/** Does a prompt ask the model to grade, score or rank answers (use as a reward model)? `open` as for elicitationScore. */
export function isGrading(lowerText: string, open = ALL_RULES): boolean {
  const text = lowerText.length > 6000 ? lowerText.slice(0, 3000) + ' ' + lowerText.slice(-3000) : lowerText;
  return ruleMatches(ANY_GRADING, text, text === lowerText ? open : ALL_RULES);
}
