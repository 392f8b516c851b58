import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { scoreDocuments, tokenize } from '../../src/local/index.ts'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'

describe('admin endpoints', () => {
  test('faults and call counts are set and read over HTTP with the admin token only', async (t) => {
    const env = await startLocalAgentCore({ adminToken: 'admin-token-for-tests' })
    t.after(() => env.close())
    const admin = { authorization: 'Bearer admin-token-for-tests', 'content-type': 'application/json' }
    const denied = await fetch(`${env.service.url}/_local/faults`, {
      headers: { authorization: 'Bearer wrong' },
    })
    assert.equal(denied.status, 401)
    const set = await fetch(`${env.service.url}/_local/faults`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ CreateMemory: { throttleNext: 1 } }),
    })
    assert.equal(set.status, 200)
    await env.createMemory()
    const stats = (await (
      await fetch(`${env.service.url}/_local/stats`, { headers: admin })
    ).json()) as Record<string, { calls: number; throttled: number }>
    assert.deepEqual(stats.CreateMemory, { calls: 2, throttled: 1, failed: 0, responsesLost: 0 })
    const invalid = await fetch(`${env.service.url}/_local/faults`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ CreateEvent: { throttleRate: 2 } }),
    })
    assert.equal(invalid.status, 400)
    assert.match(((await invalid.json()) as { message: string }).message, /throttleRate/)
    // A misspelt operation is refused, and the faults set before stay as they were.
    const before = await (await fetch(`${env.service.url}/_local/faults`, { headers: admin })).json()
    const misspelt = await fetch(`${env.service.url}/_local/faults`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ CreateEvnt: { errorNext: 1 }, ListEvents: { errorNext: 1 } }),
    })
    assert.equal(misspelt.status, 400)
    assert.equal(misspelt.headers.get('x-amzn-errortype')?.split(':')[0], 'ValidationException')
    assert.deepEqual(
      await (await fetch(`${env.service.url}/_local/faults`, { headers: admin })).json(),
      before,
    )
  })

  test('admin endpoints are off without an admin token', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const response = await fetch(`${env.service.url}/_local/stats`)
    assert.equal(response.status, 404)
  })
})

describe('lexical relevance', () => {
  test('scores lie in [0, 1], shared rare words score higher and nothing shared scores 0', () => {
    const scores = scoreDocuments('dark mode preference', [
      'The user prefers dark mode',
      'The user likes tea',
      'Dark chocolate and dark mode and preference settings',
    ])
    for (const score of scores) assert.ok(score >= 0 && score <= 1)
    assert.equal(scores[1], 0)
    assert.ok((scores[0] as number) > 0)
    assert.ok((scores[2] as number) > (scores[0] as number))
  })

  test('tokenize drops stop words and folds simple plurals', () => {
    assert.deepEqual(tokenize('The models are training'), ['model', 'train'])
  })
})
