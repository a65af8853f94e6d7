// What the tests need from outside npm, checked before they run. A missing program is
// installed with apt-get when this user may (root, or sudo without a password), as .ci/run
// does; otherwise one line names the Debian package and the tests that need it fail fast.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Programs the tests start, with the Debian package that provides each. */
export const NEEDS = [
  { program: 'redis-server', debian: 'redis-server', why: 'the gateway tests run a real Redis' },
  { program: 'curl', debian: 'curl', why: "the README's gateway example is run as written, with curl" },
  { program: 'chromium', debian: 'chromium', why: 'the dashboard tests drive a real Chromium' },
];

/** The program's path on PATH, or null. Looked up here rather than with `sh -c command -v`, which needs a shell on PATH. */
export function onPath(program, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, program);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/** How this user can run apt-get: directly (root), through `sudo -n`, or not at all. */
function aptCommand() {
  if (process.env.DISTILLWATCH_NO_INSTALL) return null;
  if (!onPath('apt-get')) return null;
  if (process.getuid?.() === 0) return [];
  if (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  return null;
}

/**
 * Installs what is missing when it can, and returns one line per program still missing.
 * Never asks for input: apt-get runs non-interactively and sudo only without a password.
 */
export function preflight(log = (line) => process.stderr.write(line + '\n')) {
  const missing = NEEDS.filter((n) => !onPath(n.program));
  if (missing.length === 0) return [];
  const apt = aptCommand();
  if (apt) {
    const pkgs = missing.map((n) => n.debian);
    log(`${missing.map((n) => n.program).join(', ')} not found: installing the Debian package ${pkgs.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const [cmd, ...pre] = [...apt, 'apt-get'];
    const run = (args) => spawnSync(cmd, [...pre, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env, timeout: 600_000 });
    run(['update', '-qq']);
    run(['install', '-y', '-qq', ...pkgs]);
  }
  const still = NEEDS.filter((n) => !onPath(n.program));
  for (const n of still) log(`${n.program} not found: install the Debian package ${n.debian} (${n.why}; those tests will fail)`);
  return still;
}
