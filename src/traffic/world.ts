/**
 * What every simulated actor draws from: client software, networks, countries, models, tiers,
 * request parameters, and the one identity generator. Attackers and honest users draw from
 * the same pools (with different weights where the threat model says so), so no single field
 * value marks an attacker.
 */
import type { Exchange } from '../core/exchange.js';
import { FOLLOW_UPS, type Prompt, type PromptTool } from './prompts.js';
import type { Rng } from './rng.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

export const USER_AGENTS = [
  'openai-python/1.54.3',
  'openai-python/1.40.0',
  'openai-node/4.73.1',
  'anthropic-sdk-python/0.40.0',
  'anthropic-sdk-typescript/0.32.1',
  'langchain-python/0.3.7',
  'litellm/1.52.0',
  'python-requests/2.32.3',
  'axios/1.7.7',
  'Go-http-client/2.0',
  'curl/8.5.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
] as const;

/** Coding agent products: their users all send the product's UA, system prompt and tools. */
export const AGENT_PRODUCTS = [
  { ua: 'claude-cli/1.0.58 (external, cli)', system: 'You are an interactive CLI coding agent. Use the tools to read, edit and test code in the user repository. Be concise.', tools: ['bash', 'read_file', 'edit_file', 'glob', 'grep', 'run_tests'] },
  { ua: 'aider/0.65.1', system: 'Act as an expert software developer. Always use best practices. Reply with SEARCH/REPLACE blocks for every edit.', tools: ['apply_patch', 'run_shell', 'read_file'] },
  { ua: 'openai-agents-python/0.0.19', system: 'You are a software engineering agent working in a sandboxed repository. Plan, then act with the tools.', tools: ['shell', 'read_file', 'write_file', 'run_tests', 'search_code'] },
] as const;

export interface Network {
  asn: number;
  org: string;
  kind: 'residential' | 'mobile' | 'cloud' | 'datacenter' | 'university' | 'corporate';
  prefix: string; // first two octets
}

export const NETWORKS: readonly Network[] = [
  { asn: 7922, org: 'Comcast Cable', kind: 'residential', prefix: '73.12' },
  { asn: 701, org: 'Verizon Business', kind: 'residential', prefix: '71.185' },
  { asn: 3320, org: 'Deutsche Telekom', kind: 'residential', prefix: '87.150' },
  { asn: 5089, org: 'Virgin Media', kind: 'residential', prefix: '82.22' },
  { asn: 9829, org: 'BSNL', kind: 'residential', prefix: '117.200' },
  { asn: 4766, org: 'Korea Telecom', kind: 'residential', prefix: '121.130' },
  { asn: 12322, org: 'Free SAS', kind: 'residential', prefix: '88.160' },
  { asn: 21928, org: 'T-Mobile USA', kind: 'mobile', prefix: '172.56' },
  { asn: 20057, org: 'AT&T Mobility', kind: 'mobile', prefix: '166.205' },
  { asn: 16509, org: 'Amazon.com', kind: 'cloud', prefix: '3.91' },
  { asn: 15169, org: 'Google LLC', kind: 'cloud', prefix: '34.118' },
  { asn: 8075, org: 'Microsoft Corporation', kind: 'cloud', prefix: '20.84' },
  { asn: 14061, org: 'DigitalOcean', kind: 'datacenter', prefix: '159.65' },
  { asn: 24940, org: 'Hetzner Online', kind: 'datacenter', prefix: '95.217' },
  { asn: 16276, org: 'OVH SAS', kind: 'datacenter', prefix: '51.38' },
  { asn: 63949, org: 'Akamai Connected Cloud', kind: 'datacenter', prefix: '172.105' },
  { asn: 396982, org: 'Google Cloud', kind: 'cloud', prefix: '35.230' },
  { asn: 11537, org: 'Internet2', kind: 'university', prefix: '128.32' },
  { asn: 786, org: 'Jisc Services', kind: 'university', prefix: '131.111' },
  { asn: 3356, org: 'Lumen', kind: 'corporate', prefix: '4.14' },
];

export const byKind = (kinds: readonly Network['kind'][]): Network[] => NETWORKS.filter((n) => kinds.includes(n.kind));

export const COUNTRIES_SERVED = ['US', 'GB', 'DE', 'FR', 'IN', 'KR', 'JP', 'BR', 'CA', 'AU', 'NL', 'SG', 'ES', 'MX', 'PL'] as const;
/** Regions where the service is not offered; a few honest users reach it from there too (VPNs). */
export const COUNTRIES_NOT_SERVED = ['CN', 'RU', 'IR', 'KP', 'BY'] as const;

export const MAX_TOKENS = [null, null, 512, 1024, 2048, 4096, 4096, 8192, 16000] as const;
export const TEMPERATURES = [null, null, 0, 0.2, 0.7, 0.7, 1] as const;

export interface ModelCatalog {
  current: string;
  previous: string;
  /** Released during the scenario. */
  next: string;
  nextReleaseAt: number;
}

/** One generator of identities for everyone: an id never tells who made it. */
export class Ids {
  private seq: number;
  /**
   * `seqFirst` and `seqStep` interleave the counters of several shards (shard s of n counts
   * s, s+n, s+2n...) so exchange ids stay unique across shards written apart.
   */
  constructor(
    private readonly rng: Rng,
    seqFirst = 0,
    private readonly seqStep = 1,
  ) {
    this.seq = seqFirst;
  }
  account(): string {
    return `acct_${this.rng.hex(10)}`;
  }
  org(): string {
    return `org_${this.rng.hex(8)}`;
  }
  payment(): string {
    return `pmfp_${this.rng.hex(12)}`;
  }
  key(): string {
    return `key_${this.rng.hex(10)}`;
  }
  conversation(): string {
    return `conv_${this.rng.hex(12)}`;
  }
  /** Unique by construction (a counter) yet not ordered by who sent it (mixed with random bits). */
  exchange(): string {
    this.seq += this.seqStep;
    return `ex_${this.rng.hex(6)}${this.seq.toString(16).padStart(8, '0')}`;
  }
}

export function ipIn(net: Network, rng: Rng): string {
  return `${net.prefix}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

export interface AccountProfile {
  id: string;
  orgId?: string;
  apiKeyId?: string;
  createdAt: number;
  tier: string;
  payment: string;
  emailDomain: string;
  verified: boolean;
  country: string;
}

export const EMAIL_DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'icloud.com', 'qq.com', 'mail.ru', 'hotmail.com'] as const;

export interface TurnSpec {
  /** Prior turns (user/assistant alternating), then the new user text. */
  history: { role: 'user' | 'assistant'; content: Exchange['request']['messages'][number]['content'] }[];
  text: string;
}

export interface ClientSpec {
  ip: string;
  network: Network;
  userAgent: string;
  country: string;
  /** The client program's streaming setting; undefined leaves the field out. */
  stream?: boolean | undefined;
}

/** Streaming settings, drawn per client program by honest and attacker clients alike. */
const STREAM_MODES = [undefined, undefined, true, true, false] as const;
export const pickStream = (rng: Rng): boolean | undefined => rng.pick(STREAM_MODES);

export interface RequestSpec {
  model: string;
  system?: string;
  tools?: PromptTool[];
  maxTokens: number | null;
  temperature: number | null;
  thinkingBudget?: number;
  stream?: boolean;
  conversationId?: string;
  /** Expected output length in tokens (drives usage and latency). */
  outputTokens: number;
  /** The model answers with a tool call (agents). */
  toolCall?: string;
}

const ANSWER_WORDS = 'the result follows from the definition above so we can check each case and then combine them into a final answer which is shown below with a short explanation of why it holds'.split(' ');

function answerText(rng: Rng, tokens: number): string {
  // Short on purpose: response text is not what detection reads, and volume must stay cheap.
  const words = Math.min(60, Math.max(8, Math.round(tokens / 20)));
  let out = rng.pick(ANSWER_WORDS);
  for (let i = 1; i < words; i++) out += ' ' + rng.pick(ANSWER_WORDS);
  return out + '.';
}

/** Accounts send thousands of exchanges with the same creation date: format it once per account. */
const createdIso = new WeakMap<AccountProfile, { at: number; iso: string }>();
function createdAtIso(acct: AccountProfile): string {
  const c = createdIso.get(acct);
  if (c !== undefined && c.at === acct.createdAt) return c.iso;
  const iso = new Date(acct.createdAt).toISOString();
  createdIso.set(acct, { at: acct.createdAt, iso });
  return iso;
}

export function buildExchange(ids: Ids, rng: Rng, ts: number, acct: AccountProfile, client: ClientSpec, req: RequestSpec, turn: TurnSpec): Exchange {
  const messages: Exchange['request']['messages'] = [...turn.history.map((m) => ({ role: m.role, content: m.content })), { role: 'user', content: turn.text }];
  const inputTokens = Math.round(messages.reduce((n, m) => n + (typeof m.content === 'string' ? m.content.length : 200), 0) / 4 + (req.system?.length ?? 0) / 4);
  const outputTokens = Math.max(5, Math.round(req.outputTokens * (0.6 + rng.next() * 0.8)));
  const capped = req.maxTokens ? Math.min(outputTokens, req.maxTokens) : outputTokens;
  const ex: Exchange = {
    id: ids.exchange(),
    ts: new Date(ts).toISOString(),
    account_id: acct.id,
    model: req.model,
    client: { ip: client.ip, user_agent: client.userAgent, country: client.country, asn: client.network.asn, asn_org: client.network.org },
    account: { created_at: createdAtIso(acct), tier: acct.tier, payment_fingerprint: acct.payment, email_domain: acct.emailDomain, verified: acct.verified },
    request: { messages },
    usage: { input_tokens: inputTokens, output_tokens: capped },
    latency_ms: Math.round(300 + capped * (8 + rng.next() * 10)),
    status: rng.chance(0.004) ? 529 : 200,
  };
  if (acct.orgId) ex.org_id = acct.orgId;
  if (acct.apiKeyId) ex.api_key_id = acct.apiKeyId;
  // Every request gets a conversation id, as the provider's own logs give one: its absence must not mark a population.
  ex.conversation_id = req.conversationId ?? ids.conversation();
  if (req.system) ex.request.system = req.system;
  if (req.tools?.length) ex.request.tools = req.tools.map((t) => ({ name: t.name, description: t.description ?? '', input_schema: t.input_schema ?? {} }));
  if (req.maxTokens !== null) ex.request.max_tokens = req.maxTokens;
  if (req.temperature !== null) ex.request.temperature = req.temperature;
  const stream = req.stream ?? client.stream;
  if (stream !== undefined) ex.request.stream = stream;
  const response: NonNullable<Exchange['response']> = { text: answerText(rng, capped), stop_reason: capped < outputTokens ? 'max_tokens' : 'end_turn' };
  if (req.thinkingBudget) {
    ex.request.thinking = { type: 'enabled', budget_tokens: req.thinkingBudget };
    const r = Math.round(Math.min(req.thinkingBudget, capped * (0.5 + rng.next())));
    response.reasoning = answerText(rng, r);
    ex.usage!.reasoning_tokens = r;
  }
  if (req.toolCall) {
    response.tool_calls = [{ name: req.toolCall, input: { arg: rng.hex(6) } }];
    response.stop_reason = 'tool_use';
  }
  ex.response = response;
  return ex;
}

/** A plausible earlier exchange of a conversation, for multi-turn requests. */
export function historyFor(rng: Rng, firstText: string, turnsSoFar: number): TurnSpec['history'] {
  const h: TurnSpec['history'] = [{ role: 'user', content: firstText }];
  for (let i = 0; i < turnsSoFar; i++) {
    h.push({ role: 'assistant', content: answerText(rng, 200) });
    if (i < turnsSoFar - 1) h.push({ role: 'user', content: rng.pick(FOLLOW_UPS) });
  }
  return h;
}

export type { Prompt };
