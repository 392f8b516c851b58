#!/usr/bin/env node
// Runs the built CLI when the package is installed, or the TypeScript sources in a checkout (Node >= 22.18).
import { existsSync } from 'node:fs'

const built = new URL('../dist/src/cli/main.js', import.meta.url)
await import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href)
