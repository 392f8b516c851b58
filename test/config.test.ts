import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ENVIRONMENT_VARIABLES } from '../src/config.ts'

test('every variable src/config.ts reads is documented in .env.example', () => {
  const documented = readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
  const missing = ENVIRONMENT_VARIABLES.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(documented))
  assert.deepEqual(missing, [])
})
