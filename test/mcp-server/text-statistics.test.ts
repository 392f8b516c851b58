import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type ToolContext, textStatisticsTool } from '../../src/mcp-server/index.ts'

function context(onProgress: (done: number, total: number | undefined) => void): ToolContext {
  return {
    progress: (done, total) => onProgress(done, total),
    log: () => {},
    signal: new AbortController().signal,
    taskId: 'task',
    caller: { sessionId: undefined, memoryId: undefined, actorId: undefined },
    runNumber: 1,
    findOwnTask: () => Promise.resolve(undefined),
  }
}

describe('text_statistics', () => {
  test('a huge chunk of a generated corpus still gives the event loop turns before its first progress', async () => {
    const tool = textStatisticsTool()
    const input = tool.input.parse({ documents: 200_000, chunk_size: 100_000, seed: 7 })
    let turns = 0
    let running = true
    const spin = () => {
      if (!running) return
      turns += 1
      setImmediate(spin)
    }
    setImmediate(spin)
    let turnsAtFirstProgress: number | undefined
    const result = (await tool.run(
      input,
      context(() => {
        turnsAtFirstProgress ??= turns
      }),
    )) as { documents: number; words: number }
    running = false
    assert.equal(result.documents, 200_000)
    assert.ok((turnsAtFirstProgress ?? 0) > 0, 'other work ran while the first chunk was processed')
  })

  test('the same seed gives the same statistics, and documents above the cap are refused', async () => {
    const tool = textStatisticsTool()
    const run = () =>
      tool.run(
        tool.input.parse({ documents: 3000, chunk_size: 700, seed: 3 }),
        context(() => {}),
      )
    assert.deepEqual(await run(), await run())
    const refused = tool.input.safeParse({ documents: 10_000_000 })
    assert.equal(refused.success, false)
    assert.deepEqual(refused.error?.issues[0]?.path, ['documents'])
  })
})
