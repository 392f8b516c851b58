import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ENVIRONMENT_VARIABLES } from '../src/config.ts'

test('every variable src/config.ts reads is documented in .env.example', () => {
  const documented = readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
  const missing = ENVIRONMENT_VARIABLES.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(documented))
  assert.deepEqual(missing, [])
})

/** The configuration reference: one table row per variable, its name in backticks in the first cell. */
const REFERENCE = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8')

/** The cells of every reference row (a table row whose first cell is one `VARIABLE_NAME`). */
function referenceRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => /^\|\s*`[A-Z][A-Z0-9_]*`\s*\|/.test(line))
    .map((line) =>
      line
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split('|')
        .map((cell) => cell.trim()),
    )
}

const rows = referenceRows(REFERENCE)
const documented = rows.map((cells) => (cells[0] ?? '').replaceAll('`', ''))

test('docs/configuration.md documents every variable src/config.ts reads', () => {
  assert.deepEqual(
    ENVIRONMENT_VARIABLES.filter((name) => !documented.includes(name)),
    [],
  )
})

test('docs/configuration.md documents no variable that src/config.ts does not read', () => {
  assert.deepEqual(
    documented.filter((name) => !ENVIRONMENT_VARIABLES.includes(name)),
    [],
  )
})

test('docs/configuration.md documents each variable once, with its default, allowed values and meaning', () => {
  assert.deepEqual(
    documented.filter((name, index) => documented.indexOf(name) !== index),
    [],
  )
  const incomplete = rows.filter((cells) => cells.length !== 4 || cells.some((cell) => cell === ''))
  assert.deepEqual(
    incomplete.map((cells) => cells[0]),
    [],
  )
})
