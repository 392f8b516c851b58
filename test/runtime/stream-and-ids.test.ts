import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { explainIdViolation, SESSION_ID_RULE } from '../../src/memory/index.ts'
import {
  formatSseEvent,
  memorySessionIdFor,
  parseRuntimeStream,
  type RuntimeStreamEvent,
  StreamEventError,
} from '../../src/runtime/index.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'

async function* chunked(text: string, sizes: () => number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let at = 0; at < bytes.length;) {
    const size = Math.max(1, sizes())
    yield bytes.subarray(at, at + size)
    at += size
  }
}

describe('runtime stream events', () => {
  const events: RuntimeStreamEvent[] = [
    { type: 'text', text: 'Grüße, 🌍\nline two' },
    { type: 'tool_start', tool: 'model_training', tool_use_id: 'tu-1', input: { epochs: 3 } },
    {
      type: 'tool_progress',
      tool: 'model_training',
      tool_use_id: 'tu-1',
      progress: 1,
      total: 3,
      message: 'epoch 1/3',
    },
    { type: 'tool_end', tool: 'model_training', tool_use_id: 'tu-1', status: 'success' },
    { type: 'task_started', task_id: 'abc', tool: 'start_model_training' },
    {
      type: 'done',
      response: 'ok',
      session_id: 's',
      tasks: [{ task_id: 'abc', tool: 'start_model_training' }],
    },
  ]

  test('every event survives formatting and parsing, however the bytes are cut (seeded)', async () => {
    const text = events.map(formatSseEvent).join('')
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed)
      const parsed: RuntimeStreamEvent[] = []
      for await (const event of parseRuntimeStream(chunked(text, () => Math.floor(random() * 7))))
        parsed.push(event)
      assert.deepEqual(parsed, events, `seed ${seed}`)
    }
  })

  test('a frame that is not one of the events is refused with INVALID_STREAM_EVENT', async () => {
    const read = async (text: string) => {
      for await (const _event of parseRuntimeStream([text])) {
        // Drain.
      }
    }
    await assert.rejects(
      read('data: {"type":"nope"}\n\n'),
      (error: unknown) => error instanceof StreamEventError && error.code === 'INVALID_STREAM_EVENT',
    )
    await assert.rejects(read('data: not json\n\n'), StreamEventError)
  })
})

describe('memory session ids of runtime session ids', () => {
  test('a valid Memory session id is kept; any other maps deterministically to a valid, distinct one', () => {
    const valid = 'a1b2c3d4-0000-4000-8000-000000000000-mx4gv6em'
    assert.equal(memorySessionIdFor(valid), valid)
    const random = seededRandom(7)
    const seen = new Map<string, string>()
    const alphabet = 'abcXYZ019.:@/ -_~!'
    for (let index = 0; index < 2000; index += 1) {
      const length = 33 + Math.floor(random() * 224)
      const id = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
      const mapped = memorySessionIdFor(id)
      assert.equal(explainIdViolation(mapped, SESSION_ID_RULE), undefined, `${id} -> ${mapped}`)
      assert.equal(memorySessionIdFor(id), mapped, 'the same id always maps the same way')
      const earlier = seen.get(mapped)
      assert.ok(earlier === undefined || earlier === id, 'two runtime sessions never share a memory session')
      seen.set(mapped, id)
    }
  })
})
