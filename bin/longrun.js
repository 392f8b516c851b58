#!/usr/bin/env node
// Runs the TypeScript sources in a checkout (Node >= 22.18 strips types), or the built CLI when the
// package is installed (an installed package carries dist/ only).
import { existsSync } from 'node:fs'

// node:sqlite announces itself as experimental once per process; every other warning is printed.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && warning.message.includes('SQLite')) return
  process.stderr.write(`${warning.name}: ${warning.message}\n`)
})

const sources = new URL('../src/cli/main.ts', import.meta.url)
await import(existsSync(sources) ? sources.href : new URL('../dist/src/cli/main.js', import.meta.url).href)
