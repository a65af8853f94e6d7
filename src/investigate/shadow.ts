/**
 * Shadow mode's would-have counts as the dashboard shows them: read from a gateway's
 * `GET /admin/shadow` (the gateway counts in memory what its policy would have done; nothing
 * of it is in the store). A gateway that cannot be reached is a state to show, not an error.
 */
import { z } from 'zod';

const Counts = z.object({ flag: z.number().int(), throttle: z.number().int(), degrade: z.number().int(), block: z.number().int() });
const GatewayShadowSchema = z.object({
  mode: z.enum(['enforce', 'shadow']),
  since: z.string(),
  would_have: Counts,
  accounts: z.array(Counts.extend({ account_id: z.string() })),
});

export type ShadowState = ({ available: true; gateway: string } & z.infer<typeof GatewayShadowSchema>) | { available: false; reason: string };

/** Where the would-have counts come from; null when `serve` was given no gateway. */
export type ShadowSource = () => Promise<ShadowState>;

/**
 * Reads a gateway's shadow tally with a token any role holds.
 *
 * @example const shadow = gatewayShadow('http://127.0.0.1:8788', process.env.DISTILLWATCH_GATEWAY_TOKEN ?? null)
 */
export function gatewayShadow(adminUrl: string, token: string | null, timeoutMs = 2000): ShadowSource {
  const base = adminUrl.replace(/\/+$/, '');
  return async () => {
    let r: Response;
    try {
      r = await fetch(`${base}/admin/shadow`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      return { available: false, reason: `Cannot reach the gateway at ${base}: ${(e as Error).name === 'TimeoutError' ? 'no answer in time' : (e as Error).message}` };
    }
    const body = (await r.json().catch(() => null)) as unknown;
    if (!r.ok) return { available: false, reason: `The gateway at ${base} answered ${r.status} to GET /admin/shadow${r.status === 401 ? ': give serve a token it takes (DISTILLWATCH_GATEWAY_TOKEN)' : ''}` };
    const parsed = GatewayShadowSchema.safeParse(body);
    if (!parsed.success) return { available: false, reason: `The gateway at ${base} answered GET /admin/shadow with something else than a shadow tally` };
    return { available: true, gateway: base, ...parsed.data };
  };
}
