import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RetrieveMemoryRecordsCommand } from '@aws-sdk/client-bedrock-agentcore'
import { resolveNamespace, retrieveLongTermContext } from '../../src/memory/index.ts'

/** A MemoryDataClient that answers RetrieveMemoryRecords from a table keyed by namespace. */
function recordingClient(answers: Record<string, { text: string; score?: number }[] | Error>) {
  const requests: RetrieveMemoryRecordsCommand['input'][] = []
  return {
    requests,
    async send(command: object) {
      const input = (command as RetrieveMemoryRecordsCommand).input
      requests.push(input)
      const answer = answers[input.namespacePath as string]
      if (answer instanceof Error) throw answer
      return {
        memoryRecordSummaries: (answer ?? []).map(({ text, score }) => ({ content: { text }, score })),
      }
    },
  }
}

const base = {
  memoryId: 'mem-abcdefghij',
  actorId: 'alice',
  sessionId: 's1',
  query: 'units',
  retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
}

describe('long-term context', () => {
  it('fills the actorId, sessionId and memoryStrategyId placeholders', () => {
    assert.equal(
      resolveNamespace('/strategies/{memoryStrategyId}/actors/{actorId}/sessions/{sessionId}', {
        actorId: 'alice',
        sessionId: 's1',
        strategyId: 'prefs-123',
      }),
      '/strategies/prefs-123/actors/alice/sessions/s1',
    )
    assert.equal(resolveNamespace('/x/{memoryStrategyId}', { actorId: 'a', sessionId: 's' }), '/x/')
  })

  it('keeps records scoring at least the relevance score, per namespace in configured order, sending topK', async () => {
    const client = recordingClient({
      '/facts/alice': [
        { text: 'prefers metric', score: 0.9 },
        { text: 'weak match', score: 0.1 },
        { text: '  ', score: 0.95 },
      ],
      '/summaries/s1': [{ text: 'talked about units', score: 0.3 }, { text: 'no score' }],
    })
    const lines: string[] = []
    const texts = await retrieveLongTermContext({
      ...base,
      client,
      namespaces: { '/facts/{actorId}': { topK: 3 }, '/summaries/{sessionId}': { relevanceScore: 0 } },
      log: (line) => lines.push(line),
    })
    assert.deepEqual(texts, ['prefers metric', 'talked about units', 'no score'])
    assert.deepEqual(
      client.requests.map((request) => [
        request.namespacePath,
        request.searchCriteria?.topK,
        request.searchCriteria?.searchQuery,
      ]),
      [
        ['/facts/alice', 3, 'units'],
        ['/summaries/s1', 10, 'units'],
      ],
    )
    assert.deepEqual(lines, [])
  })

  it('leaves out a namespace whose search fails, logging it, and keeps the others', async () => {
    const failure = Object.assign(new Error('denied'), { name: 'AccessDeniedException' })
    const client = recordingClient({ '/a': failure, '/b': [{ text: 'kept', score: 1 }] })
    const lines: string[] = []
    const texts = await retrieveLongTermContext({
      ...base,
      client,
      namespaces: { '/a': {}, '/b': {} },
      log: (line) => lines.push(line),
    })
    assert.deepEqual(texts, ['kept'])
    assert.equal(lines.length, 1)
    assert.match(
      lines[0] as string,
      /^operation=RetrieveMemoryRecords namespace=\/a error=AccessDeniedException \| /,
    )
  })

  it('retries a throttled search, logging each retry, and keeps its records', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' })
    const answers = recordingClient({ '/facts/alice': [{ text: 'prefers metric', score: 0.9 }] })
    let failuresLeft = 2
    const client = {
      requests: answers.requests,
      send(command: object) {
        if (failuresLeft > 0) {
          failuresLeft -= 1
          return Promise.reject(throttled)
        }
        return answers.send(command)
      },
    }
    const lines: string[] = []
    const texts = await retrieveLongTermContext({
      ...base,
      retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
      client,
      namespaces: { '/facts/{actorId}': {} },
      log: (line) => lines.push(line),
    })
    assert.deepEqual(texts, ['prefers metric'])
    assert.equal(failuresLeft, 0)
    assert.deepEqual(lines, [
      'operation=RetrieveMemoryRecords attempt=1 wait_ms=0 error=ThrottlingException | retrying search',
      'operation=RetrieveMemoryRecords attempt=2 wait_ms=0 error=ThrottlingException | retrying search',
    ])
  })
})
