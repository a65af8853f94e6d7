/**
 * From one canonical exchange to the features the engine reads. Pure: the same exchange and
 * options always give the same row, so a scan can be re-run and a live gateway and a scan
 * see the same thing.
 */
import { phraseSigs } from './item-sketch.js';
import { createHmac } from 'node:crypto';
import { messageText, systemText, type Exchange, type Message } from '../core/exchange.js';
import type { ExchangeFeatures } from '../core/features.js';
import { isoMs } from '../core/time.js';
import { classifyCapability } from './capability.js';
import { elicitationScore, isGrading } from './elicitation.js';
import { Sig64Builder, sig64 } from './hash.js';
import { templateSignature } from './template.js';
import { maskForWords, maskVariableParts } from './text.js';
import { scanPrompt } from './word-gate.js';

export interface FeatureOptions {
  /**
   * When set, IPs and subnets are replaced by a keyed hash (HMAC-SHA256) so that stored data
   * links accounts by network without keeping addresses. Unset: addresses are kept as seen.
   */
  ipHashKey?: string;
  /** Characters of the last user message kept for analysts; 0 keeps none. @default 200 */
  promptPreviewChars?: number;
}

/**
 * Cache of keyed IP hashes, by key then address: the same few addresses recur on millions
 * of exchanges (and a map per key spares building a joined key string per lookup).
 */
const ipHashCache = new Map<string, Map<string, string>>();

function hashIp(value: string, key: string): string {
  let byValue = ipHashCache.get(key);
  if (byValue === undefined) {
    if (ipHashCache.size > 16) ipHashCache.clear();
    ipHashCache.set(key, (byValue = new Map()));
  }
  let h = byValue.get(value);
  if (h === undefined) {
    h = 'h:' + createHmac('sha256', key).update(value).digest('hex').slice(0, 16);
    if (byValue.size > 200_000) byValue.clear();
    byValue.set(value, h);
  }
  return h;
}

/** System prompts repeat across millions of requests: mask and hash each distinct one once. */
const systemSigCache = new Map<string, string>();
function systemSignature(system: string): string {
  let sig = systemSigCache.get(system);
  if (sig === undefined) {
    sig = sig64(maskVariableParts(system));
    if (systemSigCache.size > 50_000) systemSigCache.clear();
    systemSigCache.set(system, sig);
  }
  return sig;
}

/** /24 of an IPv4 address, /48 of an IPv6 one, null when it is neither. */
export function subnetOf(ip: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(':')) {
    const parts = ip.split(':');
    return parts.slice(0, 3).join(':') + '::/48';
  }
  return null;
}

/** The stored address and subnet of one client address, as configured (raw or keyed hashes). */
interface Network {
  ip: string;
  subnet: string | null;
}

/**
 * Address and subnet by raw address, per key ('' for none): a few thousand addresses recur
 * on millions of exchanges, and each paid a regex for its subnet, a string built from it and
 * two lookups (one of that new string, hashed afresh) on every exchange.
 */
const networkCache = new Map<string, Map<string, Network>>();

function networkOf(ip: string, key: string | undefined): Network {
  const k = key ?? '';
  let byIp = networkCache.get(k);
  if (byIp === undefined) {
    if (networkCache.size > 16) networkCache.clear();
    networkCache.set(k, (byIp = new Map()));
  }
  let net = byIp.get(ip);
  if (net === undefined) {
    const subnet = subnetOf(ip);
    net = key ? { ip: hashIp(ip, key), subnet: subnet && hashIp(subnet, key) } : { ip, subnet };
    if (byIp.size > 200_000) byIp.clear();
    byIp.set(ip, net);
  }
  return net;
}

/**
 * The text of the last user message that has any, else of the last message ('' when there
 * is none). Returned, not the message: its text was just made, and making it again joined
 * a block message's texts a second time.
 */
function lastUserText(messages: readonly Message[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    const text = messageText(m.content);
    if (text.length > 0) return text;
  }
  const last = messages[messages.length - 1];
  return last ? messageText(last.content) : '';
}

function countBlocks(messages: readonly Message[]): { toolResults: number; images: number; userTurns: number } {
  let toolResults = 0;
  let images = 0;
  let userTurns = 0;
  for (const m of messages) {
    if (m.role === 'tool') toolResults++;
    if (typeof m.content !== 'string') {
      let hasText = false;
      for (const b of m.content) {
        if (b.type === 'tool_result') toolResults++;
        else if (b.type === 'image' || b.type === 'image_url') images++;
        else if (b.type === 'text' && b.text) hasText = true;
      }
      if (m.role === 'user' && hasText) userTurns++;
    } else if (m.role === 'user' && m.content.length > 0) userTurns++;
  }
  return { toolResults, images, userTurns };
}

/** The harness signature: the fields a client's harness fixes, joined by '|'. */
const HARNESS = new Sig64Builder(124 /* | */);

export function computeFeatures(ex: Exchange, opts: FeatureOptions = {}): ExchangeFeatures {
  const req = ex.request;
  const text = lastUserText(req.messages);
  const lower = text.toLowerCase();
  const blocks = countBlocks(req.messages);
  const toolNames = (req.tools ?? []).map((t) => t.name).sort();
  const system = systemText(req.system);
  const systemSig = system ? systemSignature(system) : '';
  const toolsSig = toolNames.length ? sig64(toolNames.join(',')) : '';
  const ua = ex.client?.user_agent ?? null;
  const thinkingBudget = req.thinking && req.thinking.type !== 'disabled' ? (req.thinking.budget_tokens ?? 0) : null;
  const harnessSig = HARNESS.begin()
    .add(ua ?? '').add(systemSig).add(toolsSig).add(req.max_tokens ?? '').add(req.temperature ?? '').add(thinkingBudget ?? '').add(req.stream ?? '')
    .digest();
  // Lower-cased once: the content rules, the mask and the prompt hash all read `lower`. A
  // long prompt's ends are lower-cased apart, since lower-casing can change a text's length.
  const masked = maskForWords(text.length > 20000 ? (text.slice(0, 10000) + ' ' + text.slice(-10000)).toLowerCase() : lower);
  const tpl = templateSignature(masked);
  // One walk of the prompt: its hash and which content rules can match it at all.
  const scan = scanPrompt(lower);
  const promptHash = scan.hash;
  const open = scan.open;
  const grading = isGrading(lower, open);
  const rawIp = ex.client?.ip ?? null;
  const key = opts.ipHashKey;
  const net = rawIp ? networkOf(rawIp, key) : null;
  const previewChars = opts.promptPreviewChars ?? 200;
  const created = ex.account?.created_at ? isoMs(ex.account.created_at) : NaN;

  return {
    id: ex.id,
    ts: isoMs(ex.ts),
    account_id: ex.account_id,
    org_id: ex.org_id ?? null,
    api_key_id: ex.api_key_id ?? null,
    model: ex.model,
    conversation_id: ex.conversation_id ?? null,
    ip: net === null ? rawIp : net.ip,
    subnet: net === null ? null : net.subnet,
    asn: ex.client?.asn ?? null,
    country: ex.client?.country ?? null,
    user_agent: ua,
    tier: ex.account?.tier ?? null,
    account_created_at: Number.isNaN(created) ? null : created,
    payment_fp: ex.account?.payment_fingerprint ?? null,
    email_domain: ex.account?.email_domain ?? null,
    verified: ex.account?.verified ?? null,
    n_messages: req.messages.length,
    n_user_turns: blocks.userTurns,
    n_tool_results: blocks.toolResults,
    n_tools: toolNames.length,
    tools_sig: toolsSig,
    system_sig: systemSig,
    harness_sig: harnessSig,
    template_prefix: tpl.prefix,
    template_suffix: tpl.suffix,
    template_simhash: tpl.simhash,
    prompt_hash: promptHash,
    phrase_sigs: phraseSigs(masked),
    prompt_chars: text.length,
    capability: classifyCapability({ text: lower, toolNames, nToolResults: blocks.toolResults, hasImage: blocks.images > 0, grading, open }),
    elicitation: elicitationScore(lower, open),
    grading,
    max_tokens: req.max_tokens ?? null,
    thinking_budget: thinkingBudget,
    stream: req.stream ?? null,
    input_tokens: ex.usage?.input_tokens ?? null,
    output_tokens: ex.usage?.output_tokens ?? null,
    reasoning_tokens: ex.usage?.reasoning_tokens ?? null,
    status: ex.status ?? null,
    prompt_preview: previewChars > 0 ? text.slice(0, previewChars) : null,
  };
}
