/**
 * Where simulated prompt text comes from: real public prompt sets when a folder of them is
 * given (gzip JSONL with `text`, `turns`, `system`, `tools`, `category`), otherwise a built-in
 * generator that composes varied prompts from parts, so the demo needs nothing outside the repo.
 * Text is never copied into the repository: data sets are read by path at run time.
 */
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Rng } from './rng.js';

export const PROMPT_CATEGORIES = ['chat', 'coding', 'math', 'tools', 'instructions'] as const;
export type PromptCategory = (typeof PROMPT_CATEGORIES)[number];

export interface PromptTool {
  name: string;
  description?: string;
  input_schema?: unknown;
}

export interface Prompt {
  text: string;
  /** Later user turns of the same conversation, when the source has them. */
  turns?: string[];
  tools?: PromptTool[];
}

export interface PromptSource {
  readonly kind: 'datasets' | 'built-in';
  size(category: PromptCategory): number;
  /** The i-th item of a category (wraps around): a problem bank walked in order. */
  item(category: PromptCategory, i: number): Prompt;
  random(category: PromptCategory, rng: Rng): Prompt;
}

const CATEGORY_OF: Record<string, PromptCategory> = {
  benign_chat: 'chat',
  coding: 'coding',
  math_reasoning: 'math',
  tool_use_agentic: 'tools',
  synthetic_instructions: 'instructions',
};

/** Loads every `*.jsonl.gz` of a folder (a few MB in all), grouped by category. */
export async function loadDatasets(dir: string): Promise<PromptSource> {
  const byCat: Record<PromptCategory, Prompt[]> = { chat: [], coding: [], math: [], tools: [], instructions: [] };
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz')).sort();
  if (files.length === 0) throw new Error(`No prompt sets (*.jsonl.gz) in "${dir}"`);
  for (const f of files) {
    const rl = createInterface({ input: createReadStream(join(dir, f)).pipe(createGunzip()), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { text?: unknown; turns?: unknown; tools?: unknown; category?: unknown };
      const cat = CATEGORY_OF[String(row.category)];
      if (!cat || typeof row.text !== 'string' || !row.text) continue;
      const p: Prompt = { text: row.text };
      if (Array.isArray(row.turns) && row.turns.length > 1) p.turns = row.turns.slice(1).map(String);
      if (Array.isArray(row.tools)) p.tools = (row.tools as { name?: unknown; description?: unknown; parameters?: unknown }[]).filter((t) => typeof t?.name === 'string').map((t) => ({ name: String(t.name), description: String(t.description ?? ''), input_schema: t.parameters ?? {} }));
      byCat[cat].push(p);
    }
  }
  for (const c of PROMPT_CATEGORIES) if (byCat[c].length === 0) byCat[c] = builtInBank(c, 400, 1);
  return fromBanks('datasets', byCat);
}

function fromBanks(kind: PromptSource['kind'], banks: Record<PromptCategory, Prompt[]>): PromptSource {
  return {
    kind,
    size: (c) => banks[c].length,
    item: (c, i) => banks[c][((i % banks[c].length) + banks[c].length) % banks[c].length]!,
    random: (c, rng) => rng.pick(banks[c]),
  };
}

// ---- the built-in generator ----

const TOPICS = ['a bakery', 'a school library', 'a bike repair shop', 'a hiking club', 'a dental clinic', 'a small farm', 'a chess tournament', 'a music festival', 'a city council', 'a startup', 'a family budget', 'a wedding', 'a garden', 'a podcast', 'a museum', 'a football team', 'a kitchen renovation', 'a job interview', 'a science fair', 'a travel itinerary to Lisbon', 'a birthday party', 'a research paper on soil', 'an online course', 'a board game night'];
const CHAT_FORMS = [
  (t: string) => `Can you help me write an email to ${t} about rescheduling our meeting next week?`,
  (t: string) => `What are some good ideas for ${t}? I have a small budget.`,
  (t: string) => `Write a short poem about ${t}.`,
  (t: string) => `I'm preparing a presentation about ${t}. What should the outline look like?`,
  (t: string) => `Summarize the pros and cons of starting ${t} in a small town.`,
  (t: string) => `My friend runs ${t} and is stressed. How can I support them?`,
  (t: string) => `Give me a catchy name and slogan for ${t}.`,
  (t: string) => `how do i make a plan for ${t}`,
  (t: string) => `Translate into French: "We are looking forward to visiting ${t} soon."`,
  (t: string) => `Is it a good idea to invest savings into ${t}? be honest`,
];
const LANGS = ['Python', 'JavaScript', 'TypeScript', 'Go', 'Rust', 'Java', 'C++', 'SQL', 'Bash'];
const CODE_TASKS = ['parse a CSV file and sum one column', 'reverse a linked list', 'find duplicate files by hash', 'validate an email address', 'merge two sorted arrays', 'implement an LRU cache', 'debounce a function', 'retry an HTTP request with backoff', 'count word frequencies in a text', 'flatten a nested list', 'compute the median of a stream', 'paginate results from a REST API', 'convert Roman numerals to integers', 'detect a cycle in a directed graph', 'serialize a binary tree'];
const CODE_FORMS = [
  (l: string, t: string) => `Write a ${l} function to ${t}.`,
  (l: string, t: string) => `How do I ${t} in ${l}? My attempt keeps failing with an index error.`,
  (l: string, t: string) => `Can you review this ${l} code that tries to ${t}?\n\n\`\`\`\n// my code\nfor (i = 0; i <= n; i++) { result.push(items[i]) }\n\`\`\``,
  (l: string, t: string) => `${l}: fastest way to ${t}?`,
  (l: string, t: string) => `Implement a program in ${l} that can ${t}, with unit tests.`,
];
const NAMES = ['Ana', 'Bo', 'Chen', 'Dara', 'Eli', 'Farah', 'Gus', 'Hana', 'Ivo', 'Jun'];
const THINGS = ['apples', 'marbles', 'books', 'tickets', 'cupcakes', 'stamps', 'pencils', 'eggs'];
const TOOL_SETS: PromptTool[][] = [
  [{ name: 'get_weather', description: 'Current weather for a city' }, { name: 'get_forecast', description: 'Forecast for a city' }],
  [{ name: 'search_flights', description: 'Find flights' }, { name: 'book_flight', description: 'Book a flight' }],
  [{ name: 'query_database', description: 'Run a read-only SQL query' }],
  [{ name: 'send_email', description: 'Send an email' }, { name: 'list_contacts', description: 'List contacts' }],
  [{ name: 'calculate_loan', description: 'Monthly loan payment' }],
];
const TOOL_FORMS = ['What will the weather be in {city} tomorrow?', 'Find me a flight from {city} to Berlin next Friday.', 'How many orders did we ship to {city} last month?', 'Email the team that the meeting in {city} moved to 3pm.', 'What is my monthly payment on a 30 year loan of {n} dollars at 6%?'];
const CITIES = ['Paris', 'Nairobi', 'Lima', 'Osaka', 'Denver', 'Cairo', 'Oslo', 'Hanoi', 'Austin', 'Porto'];
const INSTRUCTION_FORMS = [(t: string) => `Describe ${t} in three sentences.`, (t: string) => `Classify the sentiment: "I loved the visit to ${t}."`, (t: string) => `Generate a list of five facts about ${t}.`, (t: string) => `Rewrite this sentence more formally: "${t} was kinda awesome."`];

function builtInItem(c: PromptCategory, i: number, rng: Rng | null, salt: number): Prompt {
  const pick = <T,>(xs: readonly T[], k: number): T => xs[(rng ? Math.floor(rng.next() * xs.length) : k) % xs.length]!;
  const k = i * 7 + salt;
  switch (c) {
    case 'chat':
      return { text: pick(CHAT_FORMS, k)(pick(TOPICS, k * 3 + 1)) };
    case 'coding':
      return { text: pick(CODE_FORMS, k)(pick(LANGS, k * 5 + 2), pick(CODE_TASKS, k * 11 + 3)) };
    case 'math': {
      const a = 3 + ((k * 13) % 40);
      const b = 2 + ((k * 17) % 12);
      const p = 1 + ((k * 7) % 9);
      return { text: `${pick(NAMES, k)} has ${a} ${pick(THINGS, k * 3)} and buys ${b} packs of ${p} more. ${pick(NAMES, k + 3)} takes ${Math.min(a, b + p)} of them. How many ${pick(THINGS, k * 3)} does ${pick(NAMES, k)} have now?` };
    }
    case 'tools': {
      const f = pick(TOOL_FORMS, k);
      const idx = TOOL_FORMS.indexOf(f);
      return { text: f.replace('{city}', pick(CITIES, k * 3)).replace('{n}', String(100000 + ((k * 977) % 400000))), tools: TOOL_SETS[idx]! };
    }
    case 'instructions':
      return { text: pick(INSTRUCTION_FORMS, k)(pick(TOPICS, k * 5 + 4)) };
  }
}

function builtInBank(c: PromptCategory, n: number, salt: number): Prompt[] {
  return Array.from({ length: n }, (_, i) => builtInItem(c, i, null, salt));
}

export function builtInPrompts(): PromptSource {
  const banks = {} as Record<PromptCategory, Prompt[]>;
  for (const c of PROMPT_CATEGORIES) banks[c] = builtInBank(c, 1500, 0);
  return fromBanks('built-in', banks);
}

/** Follow-up turns people write after a first answer. */
export const FOLLOW_UPS = [
  'Can you make it shorter?',
  'Thanks! Can you give an example?',
  'Why is that?',
  'That did not work, I get an error on line 3.',
  'Can you explain the second part again?',
  'ok and what about the edge cases',
  'Perfect. Now rewrite it in a friendlier tone.',
  'What would you do differently?',
  'hmm are you sure? double check please',
  'Can you turn that into a table?',
];
