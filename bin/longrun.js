#!/usr/bin/env node
// The `longrun` command. In a checkout it runs dist/ while dist/ is up to date with the sources
// (JavaScript starts faster than TypeScript, whose type stripping costs every start), else the
// TypeScript sources (Node >= 22.18 strips types); an installed package carries dist/ only.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// node:sqlite announces itself as experimental once per process; every other warning is printed.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && warning.message.includes('SQLite')) return
  process.stderr.write(`${warning.name}: ${warning.message}\n`)
})

const sources = new URL('../src/cli/main.ts', import.meta.url)
const built = new URL('../dist/src/cli/main.js', import.meta.url)
let entry = built
if (existsSync(sources)) {
  const { distIsFresh } = await import('../scripts/dist-freshness.js')
  entry = distIsFresh(fileURLToPath(new URL('..', import.meta.url))) ? built : sources
}
await import(entry.href)
