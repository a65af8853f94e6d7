/**
 * ExchangeFeatures: what the detection engine needs of one exchange, computed once by the
 * per-exchange signals (pure, stateless) and stored as one row. The engine never sees raw
 * prompts; the store keeps these rows (and, when retention allows, a prompt preview) so a
 * scan can be replayed in time order and an analyst can see why a flag fired.
 */

/** Capabilities a sweep targets. `general_chat` is the catch-all. */
export const CAPABILITIES = [
  'coding',
  'agentic_tool_use',
  'reasoning',
  'computer_use',
  'vision',
  'general_chat',
  'grading',
  'sensitive_rewrite',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface ExchangeFeatures {
  id: string;
  /** Event time, ms since epoch (UTC). */
  ts: number;
  account_id: string;
  org_id: string | null;
  api_key_id: string | null;
  model: string;
  conversation_id: string | null;

  // Edge metadata
  ip: string | null; // as configured: raw or keyed hash
  subnet: string | null; // /24 for IPv4, /48 for IPv6 (hashed when IPs are)
  asn: number | null;
  country: string | null;
  user_agent: string | null;

  // Account snapshot
  tier: string | null;
  account_created_at: number | null; // ms
  payment_fp: string | null;
  email_domain: string | null;
  verified: boolean | null;

  // Shape of the request
  n_messages: number;
  n_user_turns: number;
  /** Tool results from real tool executions in the history (agents), not just a tool list. */
  n_tool_results: number;
  n_tools: number;
  /** Hash of the sorted tool names offered, '' when none. */
  tools_sig: string;
  /** Hash of the masked system prompt, '' when none. */
  system_sig: string;
  /**
   * Hash of the client harness: user agent family, system prompt, tool set and request
   * parameters (max_tokens, temperature, thinking, stream) together. What one scripted
   * client sends on every request, whichever account it runs under.
   */
  harness_sig: string;
  /** Template family signatures of the last user message (see signals/template.ts). */
  template_prefix: string;
  template_suffix: string;
  /** 64-bit SimHash of the masked last user message, as 16 hex characters. */
  template_simhash: string;
  /** Hash of the exact normalised last user message (prompt-bank item reuse). */
  prompt_hash: string;
  /** Hashes of the masked sentences of the last user message, space-separated (signals/item-sketch.ts). */
  phrase_sigs: string;
  prompt_chars: number;

  // Content signals
  capability: Capability;
  /** 0..1: how strongly the prompt asks for the reasoning itself. */
  elicitation: number;
  /** Asks the model to grade, score or rank answers (reward-model use). */
  grading: boolean;

  // Output demand and accounting
  max_tokens: number | null;
  thinking_budget: number | null;
  stream: boolean | null;
  input_tokens: number | null;
  output_tokens: number | null;
  reasoning_tokens: number | null;
  status: number | null;

  /** First characters of the last user message, or null when prompt retention is off. */
  prompt_preview: string | null;
}

/** Where a record came from, for provenance and quarantine. */
export interface SourcePosition {
  file: string;
  line: number;
}
