import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { ListSessionsCommand } from '@aws-sdk/client-bedrock-agentcore'
import { SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import type { Logger, LogLevel } from '../../src/shared/logger.ts'
import { waitFor } from '../helpers/local-agentcore.ts'
import { sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

interface Refusal {
  readonly status: number
  readonly code: string
  readonly field: string | undefined
}

describe('bad input at /invocations: a 400 naming the field, and nothing written', () => {
  const stack = useRuntimeStack()

  const post = async (
    url: string,
    body: string | Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<Refusal> => {
    const response = await fetch(`${url}/invocations`, { method: 'POST', headers, body })
    const parsed = (await response.json()) as { error?: { code: string; field?: string } }
    return { status: response.status, code: parsed.error?.code ?? '(none)', field: parsed.error?.field }
  }

  test('every malformed request is refused with its code and field, before any memory is touched', async () => {
    const runtime = await stack.startRuntime({
      RUNTIME_MAX_PROMPT_CHARS: '1000',
      RUNTIME_MAX_PAYLOAD_BYTES: '4000',
    })
    const url = runtime.server.url
    const session = { [SESSION_ID_HEADER]: sessionIdFor('bad-input'), accept: 'text/event-stream' }
    const json = (value: unknown) => JSON.stringify(value)
    const cases: Array<[string, string | Uint8Array, Record<string, string>, Refusal]> = [
      ['not JSON', 'train a model', session, { status: 400, code: 'INVALID_REQUEST', field: 'payload' }],
      ['a JSON array', json(['train']), session, { status: 400, code: 'INVALID_REQUEST', field: 'payload' }],
      [
        'no prompt',
        json({ actor_id: 'alice' }),
        session,
        { status: 400, code: 'INVALID_REQUEST', field: 'prompt' },
      ],
      [
        'an empty prompt',
        json({ prompt: '  \n' }),
        session,
        { status: 400, code: 'INVALID_REQUEST', field: 'prompt' },
      ],
      [
        'a prompt that is not text',
        json({ prompt: 42 }),
        session,
        { status: 400, code: 'INVALID_REQUEST', field: 'prompt' },
      ],
      [
        'a prompt over the limit',
        json({ prompt: 'x'.repeat(1001) }),
        session,
        { status: 400, code: 'INVALID_REQUEST', field: 'prompt' },
      ],
      [
        'a payload over the limit',
        json({ prompt: 'y'.repeat(3990), pad: 'z'.repeat(100) }),
        session,
        { status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'payload' },
      ],
      [
        'an invalid actor id',
        json({ prompt: 'hi', actor_id: 'alice smith!' }),
        session,
        { status: 400, code: 'INVALID_REQUEST', field: 'actor_id' },
      ],
      [
        'an invalid memory id',
        json({ prompt: 'hi', memory_id: 'not-a-memory' }),
        session,
        { status: 400, code: 'INVALID_REQUEST', field: 'memory_id' },
      ],
      [
        'a misspelt field',
        json({ prompt: 'hi', actorId: 'bob' }),
        session,
        { status: 400, code: 'INVALID_REQUEST', field: 'actorId' },
      ],
      [
        'a session id over 256 characters',
        json({ prompt: 'hi' }),
        { [SESSION_ID_HEADER]: 's'.repeat(257) },
        { status: 400, code: 'INVALID_REQUEST', field: SESSION_ID_HEADER },
      ],
      [
        'a session id with a space',
        json({ prompt: 'hi' }),
        { [SESSION_ID_HEADER]: `${'s'.repeat(40)} x` },
        { status: 400, code: 'INVALID_REQUEST', field: SESSION_ID_HEADER },
      ],
    ]
    for (const [what, body, headers, expected] of cases) {
      assert.deepEqual(await post(url, body, headers), expected, what)
    }
    const sessions = await stack.env.data.send(
      new ListSessionsCommand({ memoryId: stack.memoryId, actorId: 'default' }),
    )
    assert.deepEqual(sessions.sessionSummaries ?? [], [], 'no session was written for the default actor')
    const alice = await stack.env.data.send(
      new ListSessionsCommand({ memoryId: stack.memoryId, actorId: 'alice' }),
    )
    assert.deepEqual(alice.sessionSummaries ?? [], [])
  })

  test('no memory anywhere is a 400 naming memory_id and MEMORY_ID; an unknown memory is a 404', async () => {
    const runtime = await stack.startRuntime({ MEMORY_ID: '' })
    const session = { [SESSION_ID_HEADER]: sessionIdFor('no-memory') }
    const missing = await fetch(`${runtime.server.url}/invocations`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ prompt: 'hello' }),
    })
    assert.equal(missing.status, 400)
    const body = (await missing.json()) as { error: { code: string; field: string; message: string } }
    assert.equal(body.error.code, 'MEMORY_ID_MISSING')
    assert.equal(body.error.field, 'memory_id')
    assert.ok(body.error.message.includes('MEMORY_ID'), 'the message names the variable too')
    assert.deepEqual(
      await post(
        runtime.server.url,
        JSON.stringify({ prompt: 'hello', memory_id: 'nosuch_memory-AbCdEf1234' }),
        session,
      ),
      { status: 404, code: 'MEMORY_NOT_FOUND', field: undefined },
    )
  })

  test('other paths and methods are refused with their own codes', async () => {
    const runtime = await stack.startRuntime()
    const get = await fetch(`${runtime.server.url}/invocations`)
    assert.equal(get.status, 405)
    assert.equal(((await get.json()) as { error: { code: string } }).error.code, 'METHOD_NOT_ALLOWED')
    const other = await fetch(`${runtime.server.url}/elsewhere`, { method: 'POST', body: '{}' })
    assert.equal(other.status, 404)
    assert.equal(((await other.json()) as { error: { code: string } }).error.code, 'NOT_FOUND')
  })

  test('a caller that hangs up mid-body is an info line, not an error with a stack', async () => {
    const lines: { level: LogLevel; message: string; fields: Record<string, unknown> }[] = []
    const logger: Logger = { log: (level, message, fields = {}) => lines.push({ level, message, fields }) }
    const runtime = await stack.startRuntime({}, logger)
    const socket = connect(runtime.server.port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.write(
      'POST /invocations HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"prompt": "trai',
    )
    // The server has the headers and part of the body; the caller goes away.
    await waitFor(() => runtime.server.running === 1, 15_000, 'the request to be taken')
    socket.destroy()
    const hungUp = await waitFor(() => lines.find((line) => line.fields.code === 'REQUEST_ABORTED'))
    assert.equal(hungUp.level, 'info')
    await waitFor(() => runtime.server.running === 0, 15_000, 'the request to be let go')
    assert.deepEqual(
      lines.filter((line) => line.level === 'error'),
      [],
    )
  })
})
