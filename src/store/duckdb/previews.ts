/**
 * Prompt previews kept once each. An operation sends the same prompts again and again (a
 * problem bank under a few wrappers): in hydra-28m, 49M exchanges carry about 156,000 different
 * previews. Stored with each exchange, the previews were a third of the store on disk (the
 * medium scenario: 65 MB with them, 42 MB apart). Now `prompt_previews` holds each text once
 * under its signature, and an exchange names its preview by that signature (`preview_sig`);
 * readers join them back.
 *
 * A preview is stored with the batch that first brings it, inside that batch's transaction:
 * an exchange never names a preview the store does not hold. What this process knows to be
 * stored is bounded; past the bound, or in another process, a preview may be stored again,
 * which readers never see (they take one text per signature).
 */
import { sig64 } from '../../signals/hash.js';

/** Previews remembered by text, for their signature: bounded, since each is a few hundred bytes. */
const MAX_TEXTS = 50_000;
/** Signatures known to be stored: bounded too, past it a preview is stored again (harmless). */
const MAX_STORED = 1_000_000;

/** A batch's previews: the signature each row names (null without a preview), and the texts to store with it. */
export interface BatchPreviews {
  sigs: (string | null)[];
  fresh: { sig: string; preview: string }[];
}

export class PreviewBook {
  private readonly sigOf = new Map<string, string>();
  private readonly stored = new Set<string>();

  /**
   * The signatures of `previews` (one per row), and the ones this batch must store; `inBatch`,
   * the signatures its earlier parts store already (a batch written part by part), gains this
   * part's.
   */
  forBatch(previews: readonly (string | null)[], inBatch = new Set<string>()): BatchPreviews {
    const sigs: (string | null)[] = new Array(previews.length);
    const fresh: BatchPreviews['fresh'] = [];
    for (let i = 0; i < previews.length; i++) {
      const p = previews[i];
      if (p === null || p === undefined) {
        sigs[i] = null;
        continue;
      }
      let sig = this.sigOf.get(p);
      if (sig === undefined) {
        // The signature of '' is '': a preview is never empty-signed, so an empty text gets one of its own.
        sig = p.length === 0 ? '0000000000000000' : sig64(p);
        if (this.sigOf.size >= MAX_TEXTS) this.sigOf.clear();
        this.sigOf.set(p, sig);
      }
      sigs[i] = sig;
      if (!this.stored.has(sig) && !inBatch.has(sig)) {
        inBatch.add(sig);
        fresh.push({ sig, preview: p });
      }
    }
    return { sigs, fresh };
  }

  /** The batch committed: its previews are stored. (Not called for a batch rolled back.) */
  committed(batch: BatchPreviews): void {
    if (this.stored.size + batch.fresh.length > MAX_STORED) this.stored.clear();
    for (const f of batch.fresh) this.stored.add(f.sig);
  }
}

/**
 * The prompt preview of the exchange row `e`: its own (rows written before schema 3), else
 * the text its signature names in `prompt_previews` (one per signature, whichever copy).
 * DuckDB runs the lookup as one join. `previewsApart` false: a store opened read-only at
 * schema 2 or before, which has neither the table nor the signatures.
 */
export const previewOf = (e: string, previewsApart: boolean): string =>
  previewsApart ? `coalesce(${e}.prompt_preview, (SELECT any_value(p.preview) FROM prompt_previews p WHERE p.sig = ${e}.preview_sig))` : `${e}.prompt_preview`;
