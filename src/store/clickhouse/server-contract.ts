/**
 * The store contract against a real ClickHouse server (23.8 or later):
 *
 *   CLICKHOUSE_URL=clickhouse://user:pass@host:8123/dw_test npm run test:clickhouse
 *
 * Every test makes a database of its own, named after the URL's with a number added, and
 * drops it at the end. Not part of `npm test` (which runs the same contract on chdb): it needs
 * a server. Without CLICKHOUSE_URL, or when the server cannot be reached, it fails at once
 * saying so, never skips.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@clickhouse/client';
import { runStoreContract } from '../contract.js';
import { openClickHouseStore } from './store.js';
import { displayStoreUrl, parseStoreUrl, type StoreLocation } from '../url.js';

const text = process.env['CLICKHOUSE_URL'];
const parsed = text ? parseStoreUrl(text) : null;
const problem =
  text === undefined || text === ''
    ? 'CLICKHOUSE_URL is not set: give the server as clickhouse://user:pass@host:8123/db'
    : !parsed!.ok
      ? parsed!.error
      : parsed!.location.kind !== 'clickhouse'
        ? `CLICKHOUSE_URL "${displayStoreUrl(text)}" is not a clickhouse:// URL`
        : null;

type ServerLocation = Extract<StoreLocation, { kind: 'clickhouse' }>;

if (problem !== null) {
  describe('ClickHouse server store contract', () => {
    it('has a server to run on', () => assert.fail(problem));
  });
} else {
  const base = (parsed as { ok: true; location: ServerLocation }).location;
  const made: string[] = [];
  let n = 0;
  const fresh = (): ServerLocation => {
    const database = `${base.database}_${process.pid}_${++n}`;
    made.push(database);
    return { ...base, database };
  };
  const admin = createClient({ url: base.url, username: base.username, password: base.password });
  before(async () => {
    const ping = await admin.ping();
    if (!ping.success) throw new Error(`Cannot reach the ClickHouse server at ${base.url}: ${ping.error.message}`);
    const v = await (await admin.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
    process.stderr.write(`ClickHouse server ${v[0]?.v ?? '?'} at ${base.url}\n`);
  });
  after(async () => {
    for (const d of made) await admin.command({ query: `DROP DATABASE IF EXISTS \`${d}\`` }).catch(() => undefined);
    await admin.close();
  });
  runStoreContract('ClickHouse server', () => openClickHouseStore(fresh()), {
    persistent: () => {
      const loc = fresh();
      return () => openClickHouseStore(loc);
    },
  });
}
