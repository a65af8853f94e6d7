import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatListen, parseListen } from './listen.js';

test('parseListen reads PORT, HOST:PORT and [IPv6]:PORT', () => {
  assert.deepEqual(parseListen('8790'), { ok: true, value: { host: '127.0.0.1', port: 8790 } });
  assert.deepEqual(parseListen('0.0.0.0:80'), { ok: true, value: { host: '0.0.0.0', port: 80 } });
  assert.deepEqual(parseListen('gw.internal:8787'), { ok: true, value: { host: 'gw.internal', port: 8787 } });
  assert.deepEqual(parseListen('[::1]:8787'), { ok: true, value: { host: '::1', port: 8787 } });
  assert.equal(formatListen({ host: '::1', port: 8787 }), '[::1]:8787');
});

test('parseListen names what is wrong with an address it cannot read', () => {
  const cases: [string, RegExp][] = [
    ['70000', /expected PORT/],
    ['host:70000', /"70000" is not a port/],
    ['::1:8787', /IPv6 address goes in brackets/],
    ['[::1]8787', /expected \[IPv6\]:PORT/],
    ['[nope]:1', /"nope" is not an IPv6 address/],
    [':8787', /the host is empty/],
  ];
  for (const [text, why] of cases) {
    const r = parseListen(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.match(r.error, /^Invalid listen address "/);
      assert.match(r.error, why, text);
    }
  }
});
