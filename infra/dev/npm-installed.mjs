// Exit 0 when node_modules holds what package-lock.json locks, 1 when an install is due.
// Plain JavaScript on purpose: on a fresh clone it runs on the system's Node 20, before
// anything is installed. It compares npm's own record of the install
// (node_modules/.package-lock.json, written by npm ci and npm install) with the lock:
// every package the lock requires is installed at its locked version, and nothing else.
// Optional packages (other platforms' binaries) may be absent.
import { readFileSync } from 'node:fs';

const read = (path) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')).packages ?? {};
  } catch {
    return null;
  }
};

const locked = read('package-lock.json');
const installed = read('node_modules/.package-lock.json');
const why = (() => {
  if (!locked) return 'package-lock.json is missing or unreadable';
  if (!installed) return 'nothing installed yet';
  for (const [path, entry] of Object.entries(locked)) {
    if (!path.startsWith('node_modules/')) continue;
    const have = installed[path];
    if (!have && !entry.optional) return `${path} is not installed`;
    if (have && have.version !== entry.version)
      return `${path} is ${have.version}, the lock says ${entry.version}`;
  }
  for (const path of Object.keys(installed)) {
    if (!locked[path]) return `${path} is installed but not in the lock`;
  }
  return null;
})();

if (why) {
  process.stdout.write(`setup: npm packages to install: ${why}\n`);
  process.exit(1);
}
