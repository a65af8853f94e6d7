// Runs every compiled test file with node's own test runner. Node 20 cannot take a
// glob on the command line, so the files are listed here.
//
// A test run must end: each test has a time limit, a test file whose tests are over exits
// even if something it started is still open, and the whole run is stopped after
// DISTILLWATCH_TEST_RUN_MINUTES (default 45) with a line saying so.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { preflight } from './preflight.mjs';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = find('dist').filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (files.length === 0) {
  console.error('No test files found under dist/: run "npm run build" first');
  process.exit(1);
}

preflight();

// Node applies this limit to each test and to each test file as a whole: it must leave room
// for the slowest file on a loaded machine (the detection benchmark file takes minutes).
const args = ['--test', '--test-concurrency=2', '--test-timeout=900000'];
// Node 20.14 and later: end a test file once its tests are over, whatever it left open. Asked of
// node itself: the flag is not one NODE_OPTIONS may carry, so allowedNodeEnvironmentFlags never
// lists it, and a file whose setup failed (no redis-server) waited out the per-file limit.
if (spawnSync(process.execPath, ['--test-force-exit', '-e', ''], { stdio: 'ignore' }).status === 0) args.push('--test-force-exit');
const minutes = Number(process.env.DISTILLWATCH_TEST_RUN_MINUTES ?? 45);
const child = spawn(process.execPath, [...args, ...files], { stdio: 'inherit', detached: true });
const watchdog = setTimeout(() => {
  process.stderr.write(`tests still running after ${minutes} minutes: stopped (DISTILLWATCH_TEST_RUN_MINUTES sets the limit)\n`);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}, minutes * 60_000);
// Ctrl-C stops the test files too: they run in their own process group.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    process.exit(130);
  });
}
child.on('exit', (code) => {
  clearTimeout(watchdog);
  process.exit(code ?? 1);
});
