#!/usr/bin/env node
// The npm registry reachable here lacks some platform builds (biome's and rollup's for other OSes),
// so `npm install` leaves them out of package-lock.json and `npm ci` then refuses the lock as out of
// sync. This adds an entry for each missing optional platform package, with the os/cpu/libc that keep
// npm from ever fetching it on a machine it does not fit. Run it after any `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const meta of Object.values(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const [os, cpu, abi] = name
      .split('/')
      .at(-1)
      .replace(/^(cli-|rollup-)/, '')
      .split('-');
    const entry = { version, cpu: [cpu], optional: true, os: [os] };
    if (abi?.includes('musl')) entry.libc = ['musl'];
    else if (os === 'linux' && (abi === 'gnu' || abi === 'gnueabihf')) entry.libc = ['glibc'];
    if (meta.dev) entry.dev = true;
    packages[key] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform entries`);
