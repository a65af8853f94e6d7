/**
 * How much of a prompt a dossier may show. The store keeps only a preview of each prompt; a
 * dossier leaves the building, so by default it shortens that preview further and masks what
 * could identify a person or open a system (addresses, links, keys, long numbers).
 */

export const REDACTIONS = ['mask', 'omit', 'none'] as const;
/**
 * - `mask` (default): the preview cut to {@link MASKED_PREVIEW_CHARS} characters, with e-mail
 *   addresses, URLs, IP addresses, key-like tokens and long numbers replaced by a label;
 * - `omit`: no prompt text at all, only the exchange's metadata;
 * - `none`: the preview as the store keeps it (never more than the preview).
 */
export type Redaction = (typeof REDACTIONS)[number];

/** Characters of a preview a masked dossier shows. */
export const MASKED_PREVIEW_CHARS = 120;

// Order matters: a URL holds addresses and numbers that must go with it, not piecemeal.
const MASKS: readonly [RegExp, string][] = [
  [/\b(?:https?|ftp):\/\/\S+/gi, '[url]'],
  [/\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g, '[email]'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '[ip]'],
  [/\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b/gi, '[ip]'],
  // API keys and tokens: long runs of letters and digits, mixed, or with a known prefix.
  [/\b(?:sk|pk|rk|ghp|xox[a-z])[-_][\w-]{8,}/gi, '[secret]'],
  [/\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}\b/g, '[secret]'],
  [/\+?\d[\d -]{6,}\d/g, '[number]'],
];

/** The text a dossier shows for a stored prompt preview under a redaction, or null for none. */
export function redactPreview(preview: string | null, redaction: Redaction): string | null {
  if (preview === null || redaction === 'omit') return null;
  if (redaction === 'none') return preview;
  let text = preview;
  for (const [re, label] of MASKS) text = text.replace(re, label);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > MASKED_PREVIEW_CHARS ? text.slice(0, MASKED_PREVIEW_CHARS).trimEnd() + '…' : text;
}
