import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../traffic/rng.js';
import { isoMs } from './time.js';

const pad = (v: number, w: number): string => String(v).padStart(w, '0');

test('reads a time as Date.parse does, for the usual form and every other', () => {
  const fixed = [
    '2026-04-21T12:02:40.359Z',
    '2026-04-21T12:02:40Z',
    '1970-01-01T00:00:00.000Z',
    '2024-02-29T23:59:59.999Z',
    '2025-02-29T00:00:00.000Z',
    '2026-02-31T00:00:00.000Z',
    '2026-04-31T10:00:00.000Z',
    '2026-12-31T24:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-00-10T00:00:00.000Z',
    '2026-04-00T00:00:00.000Z',
    '2026-04-21T12:60:00.000Z',
    '2026-04-21T12:00:60.000Z',
    '2026-04-21T12:02:40.3Z',
    '2026-04-21T12:02:40.35Z',
    '2026-04-21T12:02:40.3591Z',
    '2026-04-21T12:02:40,359Z',
    '2026-04-21t12:02:40.359z',
    '2026-04-21T12:02:40.359+02:00',
    '2026-04-21T12:02:40.359',
    '2026-04-21 12:02:40.359Z',
    '2026-04-21',
    '+012026-04-21T12:02:40.359Z',
    '-000001-01-01T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '2026-0a-21T12:02:40.359Z',
    '2026-04-21T12:02:40.35aZ',
    'Tue, 21 Apr 2026 12:02:40 GMT',
    '',
    'not a time',
  ];
  for (const s of fixed) assert.equal(isoMs(s), Date.parse(s), JSON.stringify(s));
  // Seeded, so that a failing case can be replayed.
  const r = new Rng(7);
  for (let i = 0; i < 20_000; i++) {
    // Fields over and past their ranges, with and without milliseconds.
    const s = `${pad(r.int(0, 9999), 4)}-${pad(r.int(0, 13), 2)}-${pad(r.int(0, 32), 2)}T${pad(r.int(0, 25), 2)}:${pad(r.int(0, 61), 2)}:${pad(r.int(0, 61), 2)}${r.chance(0.5) ? '.' + pad(r.int(0, 999), 3) : ''}Z`;
    assert.equal(isoMs(s), Date.parse(s), s);
  }
});
