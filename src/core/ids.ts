/**
 * Branded identifiers: an account id and a campaign id are both strings on the wire, and
 * swapping one for the other must be a compile error, not a wrong report.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type AccountId = Brand<string, 'AccountId'>;
export type CampaignId = Brand<string, 'CampaignId'>;

/** An account id as read from an exchange (any non-empty string the provider uses). */
export const accountId = (raw: string): AccountId => raw as AccountId;
/** The id of the `seq`-th campaign the engine flagged: `cmp_<seq>`. */
export const campaignId = (seq: number): CampaignId => `cmp_${seq}` as CampaignId;
