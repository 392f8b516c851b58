/**
 * docs/test-map.md tells, for every source file, which tests exercise it (scripts/test-map.ts
 * measures it with V8 coverage). A source file added without a line there, or a test named there
 * that no longer exists, fails here: regenerate the map.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { mappedSources } from '../../scripts/test-map.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const map = readFileSync(join(ROOT, 'docs/test-map.md'), 'utf8')
const rows = new Map(
  [...map.matchAll(/^\| `(src\/[^`]+)` \| (.*) \|$/gm)].map((match) => [
    match[1] as string,
    match[2] as string,
  ]),
)

test('every source file has a line in docs/test-map.md, and no line names a file that is gone', () => {
  const sources = mappedSources()
  assert.deepEqual(
    sources.filter((source) => !rows.has(source)),
    [],
    'not in the map: run scripts/test-map.ts',
  )
  assert.deepEqual(
    [...rows.keys()].filter((source) => !sources.includes(source)),
    [],
    'in the map, but gone from src/: run scripts/test-map.ts',
  )
})

test('every test the map names exists', () => {
  const named = [...rows.values()].flatMap((cell) =>
    [...cell.matchAll(/`(test\/[^`]+)`/g)].map((m) => m[1] as string),
  )
  assert.ok(named.length > 0)
  assert.deepEqual(
    [...new Set(named)].filter((path) => !existsSync(join(ROOT, path))),
    [],
  )
})
