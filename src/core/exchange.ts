/**
 * The canonical exchange record (format v1): one request/response with the model API.
 * Every adapter maps its input to this shape; the simulator writes it; the gateway logs it.
 * The schema is the contract, the TypeScript type is derived from it.
 */
import { z } from 'zod';

const isoTimestamp = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'is not an ISO-8601 timestamp' });

export const ContentBlockSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  tool_use_id: z.string().optional(),
  content: z.unknown().optional(),
});
export type ContentBlock = z.infer<typeof ContentBlockSchema>;

export const MessageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(ContentBlockSchema)]),
});
export type Message = z.infer<typeof MessageSchema>;

export const ToolSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  input_schema: z.unknown().optional(),
});

export const ClientSchema = z.looseObject({
  ip: z.string().optional(),
  user_agent: z.string().optional(),
  country: z.string().optional(),
  asn: z.number().int().optional(),
  asn_org: z.string().optional(),
});

export const AccountSnapshotSchema = z.looseObject({
  created_at: isoTimestamp.optional(),
  tier: z.string().optional(),
  payment_fingerprint: z.string().optional(),
  email_domain: z.string().optional(),
  verified: z.boolean().optional(),
});

export const RequestSchema = z.looseObject({
  system: z.union([z.string(), z.array(ContentBlockSchema)]).optional(),
  messages: z.array(MessageSchema).min(1, 'needs at least one message'),
  tools: z.array(ToolSchema).optional(),
  max_tokens: z.number().optional(),
  temperature: z.number().optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().optional() }).optional(),
  stream: z.boolean().optional(),
});

export const ResponseSchema = z.looseObject({
  text: z.string().optional(),
  reasoning: z.string().optional(),
  tool_calls: z.array(z.looseObject({ name: z.string(), input: z.unknown().optional() })).optional(),
  stop_reason: z.string().optional(),
});

export const UsageSchema = z.looseObject({
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  reasoning_tokens: z.number().optional(),
});

export const ExchangeSchema = z.looseObject({
  id: z.string().min(1),
  ts: isoTimestamp,
  account_id: z.string().min(1),
  org_id: z.string().optional(),
  api_key_id: z.string().optional(),
  model: z.string().min(1),
  conversation_id: z.string().optional(),
  client: ClientSchema.optional(),
  account: AccountSnapshotSchema.optional(),
  request: RequestSchema,
  response: ResponseSchema.optional(),
  usage: UsageSchema.optional(),
  latency_ms: z.number().optional(),
  status: z.number().int().optional(),
});
export type Exchange = z.infer<typeof ExchangeSchema>;

/** Plain text of a message's content, whatever its form. */
export function messageText(content: Message['content']): string {
  if (typeof content === 'string') return content;
  let out = '';
  for (const b of content) {
    if (typeof b.text === 'string') out += (out ? '\n' : '') + b.text;
  }
  return out;
}

/** Plain text of the system prompt, whatever its form. */
export function systemText(system: Exchange['request']['system']): string {
  if (system === undefined) return '';
  return typeof system === 'string' ? system : messageText(system);
}
