/** Test helper: one exchange's features with plain defaults, overridden field by field. */
import type { ExchangeFeatures } from '../core/features.js';

const T0 = Date.parse('2026-04-22T00:00:00Z');
const DAY = 24 * 3_600_000;

let seq = 0;

/**
 * A different prompt hash per exchange, as hex: the engine reads a prompt's first 32 bits as
 * its tag (count-table.ts `promptTag`), so `q1`, `q2`, ... would all be one prompt repeated.
 */
function promptHashOf(n: number): string {
  return (Math.imul(n, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0') + n.toString(16).padStart(8, '0');
}

export function feat(p: Partial<ExchangeFeatures> & { account_id: string; ts: number }): ExchangeFeatures {
  seq++;
  return {
    id: `e${seq}`,
    org_id: null,
    api_key_id: null,
    model: 'm-1',
    conversation_id: `c${seq}`,
    ip: '198.51.100.1',
    subnet: '198.51.100.0/24',
    asn: 64500,
    country: 'US',
    user_agent: 'sdk/1.0',
    tier: 'standard',
    account_created_at: T0 - 400 * DAY,
    payment_fp: null,
    email_domain: 'example.com',
    verified: true,
    n_messages: 1,
    n_user_turns: 1,
    n_tool_results: 0,
    n_tools: 0,
    tools_sig: '',
    system_sig: '',
    harness_sig: 'h-default',
    template_prefix: `p${seq}`,
    template_suffix: `s${seq}`,
    template_simhash: '0000000000000000',
    prompt_hash: promptHashOf(seq),
    phrase_sigs: '',
    prompt_chars: 200,
    capability: 'general_chat',
    elicitation: 0,
    grading: false,
    max_tokens: null,
    thinking_budget: null,
    stream: null,
    input_tokens: 100,
    output_tokens: 300,
    reasoning_tokens: null,
    status: 200,
    prompt_preview: null,
    ...p,
  };
}

