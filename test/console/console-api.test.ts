/**
 * The console's API over the local AgentCore service, with the real AWS SDK client and plain HTTP:
 * the timeline read incrementally through a cursor, a task's result read as values, the marks of
 * a continuation's entries, the session the console opens by default, and the headers that keep
 * the page and its answers to themselves.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { CreateEventCommand } from '@aws-sdk/client-bedrock-agentcore'
import { z } from 'zod'
import { ConsoleApi, ConsoleServer, type CliSession } from '../../src/console/index.ts'
import {
  CONTINUATION_METADATA_KEY,
  CONTINUATION_STOPPED,
  continuationPrompt,
  TASK_ID_METADATA_KEY,
} from '../../src/contract/index.ts'
import {
  defineLongRunningTool,
  type LongRunningMcpServer,
  modelTrainingTool,
} from '../../src/mcp-server/index.ts'
import { memoryEventText } from '../../src/mcp-server/memory-event.ts'
import { userTextEventPayload } from '../../src/memory/index.ts'
import { memorySessionIdFor } from '../../src/runtime/index.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore, waitFor } from '../helpers/local-agentcore.ts'
import { connectClient, startTask, startTestServer, tempDir, TEST_TOKEN } from '../helpers/mcp-server.ts'

const ACTOR = 'console-api-actor'
const T0 = Date.parse('2026-12-01T09:00:00Z')

interface Item {
  eventId: string
  text: string
  author: string
  result?: { taskId: string; status: string; values?: Record<string, unknown> }
  taskId?: string
  continuation?: { depth?: number; stopped: boolean }
  calls?: string[]
}
interface TimelineAnswer {
  items: Item[]
  cursor: string
  full: boolean
}

/** A background tool that always fails: its result is its failure. */
const failingTool = defineLongRunningTool({
  name: 'always_fails',
  description: 'Fails at once.',
  input: z.object({}),
  mode: 'async',
  run: async () => {
    throw new Error('the data set is empty')
  },
})

describe('the console API', () => {
  let local: LocalAgentCoreFixture
  let dir: { path: string; remove(): Promise<void> }
  let mcp: LongRunningMcpServer
  let memoryId: string
  let api: ConsoleApi
  let server: ConsoleServer
  let cliSession: CliSession | undefined

  before(async () => {
    local = await startLocalAgentCore()
    memoryId = await local.createMemory('console_api')
    dir = await tempDir('longrun-console-api-')
    mcp = await startTestServer(dir.path, {
      memoryClient: local.data,
      tools: [modelTrainingTool({ dataDir: dir.path, epochDelayMs: 0 }), failingTool],
    })
    api = new ConsoleApi({
      agentCore: local.data,
      runtimeArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/console_api-0000000000',
      memoryId,
      mcp: { url: mcp.url, bearerToken: TEST_TOKEN },
      cliSession: async () => cliSession,
    })
    server = await ConsoleServer.start({
      api,
      port: 0,
      defaults: { actorId: ACTOR, memoryId, runtimeArn: 'arn' },
    })
  })

  after(async () => {
    await server?.close()
    await api?.close()
    await mcp?.close()
    await local?.close()
    await dir?.remove()
  })

  const get = async (path: string, params: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}?${new URLSearchParams(params)}`, {
      headers: { authorization: `Bearer ${server.token}` },
    })
    return { response, body: (await response.json()) as Record<string, unknown> }
  }
  const timeline = async (sessionId: string, cursor?: string) => {
    const { response, body } = await get('/api/timeline', {
      actorId: ACTOR,
      sessionId,
      ...(cursor !== undefined && { cursor }),
    })
    assert.equal(response.status, 200, JSON.stringify(body))
    return body as unknown as TimelineAnswer
  }
  const write = async (
    sessionId: string,
    text: string,
    atMs: number,
    actorId = ACTOR,
    metadata: Record<string, string> = {},
  ) => {
    const { event } = await local.data.send(
      new CreateEventCommand({
        memoryId,
        actorId,
        sessionId,
        eventTimestamp: new Date(atMs),
        payload: [userTextEventPayload(text)],
        ...(Object.keys(metadata).length > 0 && {
          metadata: Object.fromEntries(
            Object.entries(metadata).map(([key, value]) => [key, { stringValue: value }]),
          ),
        }),
      }),
    )
    return event?.eventId as string
  }
  const listEventsCalls = () => local.service.faults.counts().ListEvents?.calls ?? 0

  test('a timeline read with the cursor of the previous one answers only the events written since', async () => {
    const session = 'timeline-incremental-0000000000000000000000'
    for (let i = 0; i < 3; i++) await write(session, `message ${i}`, T0 + i * 1000)

    const first = await timeline(session)
    assert.equal(first.full, true)
    assert.deepEqual(
      first.items.map((item) => item.text),
      ['message 0', 'message 1', 'message 2'],
    )

    const calls = listEventsCalls()
    const nothing = await timeline(session, first.cursor)
    assert.deepEqual(nothing.items, [], 'nothing new, nothing answered')
    assert.equal(nothing.full, false)
    assert.equal(listEventsCalls() - calls, 1, 'one ListEvents call for a read with nothing new')

    const newer = await write(session, 'message 3', T0 + 3000)
    const next = await timeline(session, nothing.cursor)
    assert.deepEqual(
      next.items.map((item) => item.eventId),
      [newer],
    )

    // Stamped before the newest event already given (a task result whose delivery lagged), but
    // within the lookback allowance: still new to the reader, and given once.
    const late = await write(session, 'stamped late', T0 + 2500)
    const withLate = await timeline(session, next.cursor)
    assert.deepEqual(
      withLate.items.map((item) => item.eventId),
      [late],
    )
    assert.deepEqual((await timeline(session, withLate.cursor)).items, [])

    // Stamped further back than the allowance: only a whole read brings it (the page does one
    // when a task says it delivered a result the timeline does not hold).
    const older = await write(session, 'stamped long before', T0 + 3000 - 120_000)
    assert.deepEqual((await timeline(session, withLate.cursor)).items, [])
    assert.ok((await timeline(session)).items.some((item) => item.eventId === older))
  })

  test("a cursor from another session's timeline, or made up, is refused and nothing is read", async () => {
    const one = 'cursor-session-one-000000000000000000000000'
    const two = 'cursor-session-two-000000000000000000000000'
    await write(one, 'in one', T0)
    const { cursor } = await timeline(one)
    const calls = listEventsCalls()
    for (const bad of [cursor, 'not-a-cursor']) {
      const { response, body } = await get('/api/timeline', { actorId: ACTOR, sessionId: two, cursor: bad })
      assert.equal(response.status, 400)
      assert.equal((body.error as { code: string }).code, 'INVALID_REQUEST')
    }
    assert.equal(listEventsCalls(), calls)
  })

  test('a task result in the timeline reads as its values', async () => {
    const session = 'timeline-result-000000000000000000000000000'
    const scores = { model_name: 'fraud-v1', epochs: 30, test_accuracy: 0.81875, test_loss: 0.4286 }
    const text = memoryEventText(
      { taskId: 'task-123', tool: 'model_training' },
      {
        status: 'completed',
        result: { content: [{ type: 'text', text: JSON.stringify(scores, null, 2) }] },
      },
    )
    await write(session, text, T0)
    const [item] = (await timeline(session)).items
    assert.equal(item?.author, 'task result')
    assert.deepEqual(item?.result, {
      taskId: 'task-123',
      tool: 'model_training',
      status: 'completed',
      values: scores,
    })
  })

  test("a continuation's entries carry its mark and task, from the events' metadata", async () => {
    const session = 'timeline-continuation-0000000000000000000000'
    const task = { [TASK_ID_METADATA_KEY]: 'task-away' }
    await write(session, 'train a model', T0)
    await write(
      session,
      'Long-running task task-away (tool model_training) completed.',
      T0 + 1000,
      ACTOR,
      task,
    )
    await write(session, continuationPrompt('task-away'), T0 + 2000, ACTOR, {
      ...task,
      [CONTINUATION_METADATA_KEY]: '1',
    })
    await write(session, continuationPrompt('task-away'), T0 + 3000, ACTOR, {
      ...task,
      [CONTINUATION_METADATA_KEY]: CONTINUATION_STOPPED,
    })
    const items = (await timeline(session)).items
    assert.deepEqual(
      items.map((item) => [item.author, item.taskId, item.continuation]),
      [
        ['user', undefined, undefined],
        ['task result', 'task-away', undefined],
        ['runtime', 'task-away', { depth: 1, stopped: false }],
        ['runtime', 'task-away', { stopped: true }],
      ],
    )
  })

  test('the default session is the one whose newest event is newest, not the one created last', async () => {
    const actorId = 'default-newest'
    await write('first-created-0000000000000000000000000000', 'a', T0, actorId)
    await write('second-created-000000000000000000000000000', 'b', T0 + 1000, actorId)
    const picked = async () => (await get('/api/sessions/default', { actorId })).body
    assert.deepEqual(await picked(), {
      sessionId: 'second-created-000000000000000000000000000',
      reason: 'newest-event',
    })
    // A result lands in the first session: it is now the one that changed last.
    await write('first-created-0000000000000000000000000000', 'c', T0 + 2000, actorId)
    assert.deepEqual(await picked(), {
      sessionId: 'first-created-0000000000000000000000000000',
      reason: 'newest-event',
    })
  })

  test("the default session is given as the CLI's runtime session id when the CLI used it last", async () => {
    const actorId = 'default-cli'
    // A runtime session id that is not a valid memory session id: memory holds it under a derived one.
    const runtimeSession = 'cli.session.with.dots-00000000000000000000000'
    const memorySession = memorySessionIdFor(runtimeSession)
    assert.notEqual(memorySession, runtimeSession)
    await write('older-console-session-000000000000000000000', 'x', T0, actorId)
    await write(memorySession, 'y', T0 + 1000, actorId)
    cliSession = { sessionId: runtimeSession, actorId }
    try {
      assert.deepEqual((await get('/api/sessions/default', { actorId })).body, {
        sessionId: runtimeSession,
        reason: 'cli',
      })
      // The same session remembered for another actor says nothing about this one's.
      cliSession = { sessionId: runtimeSession, actorId: 'someone-else' }
      assert.deepEqual((await get('/api/sessions/default', { actorId })).body, {
        sessionId: memorySession,
        reason: 'newest-event',
      })
      // An actor with no session in memory opens the CLI's when it was this actor's, else a new one.
      cliSession = { sessionId: runtimeSession, actorId: 'nothing-yet' }
      assert.deepEqual((await get('/api/sessions/default', { actorId: 'nothing-yet' })).body, {
        sessionId: runtimeSession,
        reason: 'cli',
      })
      assert.deepEqual((await get('/api/sessions/default', { actorId: 'nobody' })).body, {
        sessionId: null,
        reason: 'none',
      })
    } finally {
      cliSession = undefined
    }
  })

  test("tasks say whether they belong to the session in view; an ended task's result reads as values, a failed one's as its failure", async () => {
    const session = 'tasks-session-000000000000000000000000000000'
    const client = await connectClient(mcp.url, { memory: { sessionId: session, memoryId, actorId: ACTOR } })
    try {
      const trained = await startTask(client, 'start_model_training', { model_name: 'api-demo', epochs: 3 })
      const failed = await startTask(client, 'always_fails', {})
      const tasks = async (sessionId: string) => {
        const { body } = await get('/api/tasks', { actorId: ACTOR, sessionId })
        return body.tasks as { task_id: string; status: string; in_session: boolean }[]
      }
      const ended = await waitFor(async () => {
        const all = await tasks(session)
        return all.length === 2 && all.every((task) => task.status !== 'working') ? all : undefined
      })
      assert.deepEqual(
        ended.map((task) => [task.task_id, task.status, task.in_session]).sort(),
        [
          [trained, 'completed', true],
          [failed, 'failed', true],
        ].sort(),
      )
      const elsewhere = await tasks('another-session-0000000000000000000000000000')
      assert.deepEqual(
        elsewhere.map((task) => task.in_session),
        [false, false],
      )

      const result = async (taskId: string) =>
        get('/api/tasks/result', { actorId: ACTOR, sessionId: session, taskId })
      const completed = await result(trained)
      assert.equal(completed.response.status, 200)
      assert.equal(completed.body.status, 'completed')
      const values = completed.body.values as Record<string, unknown>
      assert.equal(values.model_name, 'api-demo')
      assert.equal(values.epochs, 3)
      assert.equal(typeof values.test_accuracy, 'number')
      assert.equal(JSON.parse(completed.body.text as string).test_accuracy, values.test_accuracy)

      // A task's own failure is its result, not a refused call: answered once, never a 4xx to retry.
      const failure = await result(failed)
      assert.equal(failure.response.status, 200)
      assert.equal(failure.body.status, 'failed')
      assert.match(failure.body.text as string, /the data set is empty/)
      assert.equal(failure.body.values, undefined)

      const unknown = await result('no-such-task')
      assert.equal(unknown.response.status, 404)
      assert.equal((unknown.body.error as { code: string }).code, 'NOT_FOUND')
    } finally {
      await client.close()
    }
  })

  test('the page carries a policy allowing only its own scripts and its import map, and no answer is framed, sniffed or cached', async () => {
    const page = await fetch(`${server.url}/`)
    assert.equal(page.status, 200)
    const html = await page.text()
    const policy = page.headers.get('content-security-policy') ?? ''
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? ''
    const hash = createHash('sha256').update(importMap, 'utf8').digest('base64')
    const directives = new Map(
      policy.split(';').map((directive) => {
        const [name = '', ...values] = directive.trim().split(/\s+/)
        return [name, values] as const
      }),
    )
    assert.deepEqual(directives.get('default-src'), ["'none'"])
    assert.deepEqual(directives.get('script-src'), ["'self'", `'sha256-${hash}'`])
    assert.deepEqual(directives.get('style-src'), ["'self'"])
    assert.deepEqual(directives.get('connect-src'), ["'self'"])
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"])
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer')

    const script = await fetch(`${server.url}/assets/console.js`)
    assert.equal(script.status, 200)
    assert.equal(script.headers.get('x-content-type-options'), 'nosniff')
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)

    const answered = await get('/api/config')
    const refused = await fetch(`${server.url}/api/config`)
    for (const response of [answered.response, refused]) {
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
    }
    assert.equal(refused.status, 401)
  })

  test('only the page’s own files are served: no path leads out of its folder', async () => {
    for (const path of ['/assets/../console-api.ts', '/assets/%2e%2e%2fconsole-api.ts', '/assets/nope.js']) {
      const response = await fetch(`${server.url}${path}`)
      assert.equal(response.status, 404, path)
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'NOT_FOUND')
    }
  })
})
