import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  CompositeSessionHeaderError,
  formatCompositeSessionHeader,
  isCompositeSessionHeader,
  parseCompositeSessionHeader,
} from '../../src/mcp/index.ts'

const memoryId = 'longrun_memory-AbCdEf1234'

describe('composite session header', () => {
  test('round-trips session, memory and actor ids', () => {
    const parts = { sessionId: 'session-1', memoryId, actorId: 'user:alice/eu' }
    const header = formatCompositeSessionHeader(parts)
    assert.equal(header, `session-1@@@${memoryId}@@@user:alice/eu`)
    assert.deepEqual(parseCompositeSessionHeader(header), parts)
    assert.equal(isCompositeSessionHeader(header), true)
    assert.equal(isCompositeSessionHeader('6f9a3c2e-runtime-session'), false)
  })

  test('a near miss of the separator claims to be composite and is refused, not ignored', () => {
    assert.equal(isCompositeSessionHeader('s@@m@@a'), true)
    assert.throws(
      () => parseCompositeSessionHeader('s@@m@@a'),
      (error: unknown) => error instanceof CompositeSessionHeaderError && error.field === 'header',
    )
  })

  test('names the part that breaks the id rules', () => {
    const cases: Array<[string, string]> = [
      ['only@@@two', 'header'],
      [`a@@@${memoryId}@@@b@@@c`, 'header'],
      [`bad.session@@@${memoryId}@@@actor`, 'sessionId'],
      ['session@@@no-suffix@@@actor', 'memoryId'],
      [`session@@@${memoryId}@@@`, 'actorId'],
      [`session@@@${memoryId}@@@-starts-with-dash`, 'actorId'],
    ]
    for (const [header, field] of cases) {
      assert.throws(
        () => parseCompositeSessionHeader(header),
        (error: unknown) =>
          error instanceof CompositeSessionHeaderError &&
          error.code === 'INVALID_COMPOSITE_SESSION_HEADER' &&
          error.field === field,
        header,
      )
    }
  })

  test('refuses to format invalid parts', () => {
    assert.throws(
      () => formatCompositeSessionHeader({ sessionId: 's', memoryId, actorId: 'has space' }),
      (error: unknown) => error instanceof CompositeSessionHeaderError && error.field === 'actorId',
    )
  })
})
