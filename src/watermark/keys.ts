/**
 * Watermark keys. One master key, kept in a file, from which every campaign's key is
 * derived (HKDF-SHA256): the gateway marks a campaign's answers with its own key, so that a
 * positive test names the campaign whose answers a model learned from, and only the master
 * key needs keeping.
 */
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Result } from '../core/result.js';

declare const brand: unique symbol;
/** A derived 32-byte key; only `deriveKey` makes one, so a master key cannot be used to mark by mistake. */
export type WatermarkKey = Uint8Array & { readonly [brand]: 'WatermarkKey' };
export type MasterKey = Uint8Array & { readonly [brand]: 'MasterKey' };

/** Who a key marks for: one campaign, or accounts marked before any campaign was found. */
export type KeyScope = { kind: 'campaign'; campaignId: string } | { kind: 'unattributed' };

export const UNATTRIBUTED: KeyScope = { kind: 'unattributed' };

/** Fewer bytes than this would be guessable: a key file must hold at least 32 characters. */
const MIN_KEY_CHARS = 32;

/** A master key from a file's text (trimmed); the file holds any secret of 32 characters or more, e.g. `openssl rand -hex 32`. */
export function readMasterKey(path: string): Result<MasterKey, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    return { ok: false, error: `Cannot read the watermark key file "${path}": ${why}` };
  }
  if (text.length < MIN_KEY_CHARS) return { ok: false, error: `Cannot use the watermark key file "${path}": it holds ${text.length} characters, at least ${MIN_KEY_CHARS} are needed` };
  return { ok: true, value: masterKeyFrom(text) };
}

export function masterKeyFrom(secret: string | Uint8Array): MasterKey {
  return (typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)) as Uint8Array as MasterKey;
}

/** The key for one scope. Example: `deriveKey(master, { kind: 'campaign', campaignId: 'cmp_3' })`. */
export function deriveKey(master: MasterKey, scope: KeyScope): WatermarkKey {
  const info = scope.kind === 'campaign' ? `campaign:${scope.campaignId}` : 'unattributed';
  return new Uint8Array(hkdfSync('sha256', master, 'distillwatch-watermark-v1', info, 32)) as WatermarkKey;
}

/** A scope's name as reports print it. */
export function scopeName(scope: KeyScope): string {
  return scope.kind === 'campaign' ? `campaign ${scope.campaignId}` : 'unattributed';
}
