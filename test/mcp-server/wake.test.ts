/**
 * Wakes, as the MCP server sends them: a background task of a tool declared `onEnd: 'wake'` wakes
 * the configured agent runtime in the caller's runtime session once (and only once) its result is
 * in memory; nothing else wakes anyone; a busy session is tried again, a refusal is not. The woken
 * runtime is a stand-in of the test's own that speaks the runtime's HTTP contract, reached through
 * the local AgentCore service's InvokeAgentRuntime with the real AWS SDK client.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { CONTINUATION_HEADERS, formatCompositeSessionHeader } from '../../src/contract/index.ts'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import {
  startTask,
  startTestServer,
  structured,
  tempDir,
  TEST_TOKEN,
  waitFor,
} from '../helpers/mcp-server.ts'
import {
  type AgentConnection,
  connectAgent,
  type FakeAgentRuntime,
  type JobReader,
  jobTool,
  openJobs,
  runtimeSessionIdOf,
  settledJob,
  startFakeAgentRuntime,
  WAKE_ARN,
  agentSession,
} from '../helpers/wake.ts'

describe('wakes from the MCP server', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  let runtime: FakeAgentRuntime
  /** Registered for every other runtime: a wake sent anywhere but the configured ARN lands here. */
  let elsewhere: FakeAgentRuntime
  let server: LongRunningMcpServer
  let jobs: JobReader
  const dirs: { remove(): Promise<void> }[] = []
  const clients: Client[] = []

  const tools = () => [jobTool('waking_job', 'wake'), jobTool('quiet_job', 'none')]
  const connect = async (url: string, connection: AgentConnection) => {
    const client = await connectAgent(url, connection)
    clients.push(client)
    return client
  }
  /** An agent's session: its memory session and, when `label` is given, a runtime session beside it. */
  const session = (label: string) => agentSession(runtime, memoryId, label)
  const statusOf = async (client: Client, taskId: string) =>
    structured(await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
  /** The task's memory job once settled, which must be delivered. */
  const delivered = async (taskId: string) => {
    const memory = await settledJob(jobs, taskId, 'memory')
    assert.equal(memory.state, 'delivered', `the result of ${taskId} is in memory`)
  }
  /** Waits until the server runs nothing and owes nothing (any wake owed would have been sent). */
  const idle = (what: string) =>
    waitFor(() => server.health.report().status === 'Healthy', 20_000, `${what}: the server to go idle`)

  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
    runtime = await startFakeAgentRuntime(env)
    elsewhere = await startFakeAgentRuntime(env, '*')
    const dir = await tempDir()
    dirs.push(dir)
    server = await startTestServer(dir.path, {
      memoryClient: env.data,
      tools: tools(),
      wake: { runtime: WAKE_ARN },
    })
    jobs = await openJobs({ dataDir: dir.path })
  })
  after(async () => {
    runtime.release()
    for (const client of clients) await client.close()
    await jobs.close()
    await server.close()
    await runtime.close()
    await elsewhere.close()
    await env.close()
    for (const dir of dirs) await dir.remove()
  })

  describe('what a wake carries, and when it is sent', () => {
    test('sent once the result is in memory, to the configured runtime ARN and the caller’s runtime session, naming task, actor, memory and depth 1, with no prompt', async () => {
      const { memory, runtimeSession } = session('first')
      const client = await connect(server.url, { memory, runtimeSession })
      // Memory answers slowly: the wake, owed with the result, must wait for it.
      env.service.faults.set({ CreateEvent: { latencyMs: 500 } })
      let taskId: string
      try {
        taskId = await startTask(client, 'start_waking_job', { text: 'first' })
        await delivered(taskId)
      } finally {
        env.service.faults.set({})
      }
      const wake = await settledJob(jobs, taskId, 'wake')
      assert.equal(wake.state, 'delivered')
      assert.ok(
        wake.attempts >= 2,
        `the wake waited for the result to reach memory (${wake.attempts} attempts)`,
      )
      const [call, ...more] = runtime.wakesOf(taskId)
      assert.equal(more.length, 0, 'one wake')
      assert.equal(call?.resultInMemory, true, 'the result was in memory when the runtime was woken')
      assert.equal(call?.runtimeSessionId, runtimeSession)
      assert.deepEqual(call?.payload, {
        wake: { task_id: taskId, depth: 1 },
        actor_id: memory.actorId,
        memory_id: memoryId,
      })
      assert.equal(call?.answer, 200)
      assert.equal(elsewhere.calls.length, 0, 'no other runtime was invoked')
    })

    test('the depth is one more than the caller’s x-longrun-continuation-depth (0 counts as none)', async () => {
      const deeper = session('deeper')
      const two = await connect(server.url, { ...deeper, depth: '2' })
      const zero = await connect(server.url, { ...deeper, depth: '0' })
      const fromTwo = await startTask(two, 'start_waking_job', { text: 'deeper' })
      const fromZero = await startTask(zero, 'start_waking_job', { text: 'user turn' })
      for (const taskId of [fromTwo, fromZero])
        assert.equal((await settledJob(jobs, taskId, 'wake')).state, 'delivered')
      assert.deepEqual(
        runtime.wakesOf(fromTwo).map((call) => call.payload.wake),
        [{ task_id: fromTwo, depth: 3 }],
      )
      assert.deepEqual(
        runtime.wakesOf(fromZero).map((call) => call.payload.wake),
        [{ task_id: fromZero, depth: 1 }],
      )
    })

    test('a failed task wakes too; without the runtime session header, a memory session id that is a runtime session id is woken', async () => {
      const sessionId = runtimeSessionIdOf('ms-fallback')
      const memory = { sessionId, memoryId, actorId: 'actor-fallback' }
      const client = await connect(server.url, { memory })
      const taskId = await startTask(client, 'start_waking_job', { text: 'boom', fail: true })
      assert.equal((await settledJob(jobs, taskId, 'wake')).state, 'delivered')
      assert.equal((await statusOf(client, taskId)).status, 'failed')
      const calls = runtime.wakesOf(taskId)
      assert.equal(calls.length, 1)
      assert.equal(calls[0]?.runtimeSessionId, sessionId)
      assert.equal(calls[0]?.resultInMemory, true)
    })
  })

  describe('no wake', () => {
    test('for a tool that does not declare onEnd wake, a cancelled task, an inline call, a caller without a composite header, or one with no runtime session', async () => {
      const quiet = session('quiet')
      const quietClient = await connect(server.url, quiet)
      const quietTask = await startTask(quietClient, 'start_quiet_job', { text: 'quiet' })
      await delivered(quietTask)

      const cancelled = session('cancelled')
      const cancelClient = await connect(server.url, cancelled)
      const cancelledTask = await startTask(cancelClient, 'start_waking_job', {
        text: 'never ends',
        until_cancelled: true,
      })
      await waitFor(async () => (await statusOf(cancelClient, cancelledTask)).status === 'working')
      const answer = structured(
        await cancelClient.callTool({ name: 'cancel_task', arguments: { task_id: cancelledTask } }),
      )
      assert.equal(answer.status, 'cancelled')
      await delivered(cancelledTask)

      const inline = session('inline')
      const inlineClient = await connect(server.url, inline)
      const inlineAnswer = await inlineClient.callTool({ name: 'waking_job', arguments: { text: 'inline' } })
      assert.deepEqual(structured(inlineAnswer), { echo: 'inline' })

      const headerless = session('headerless')
      const headerlessClient = await connect(server.url, { runtimeSession: headerless.runtimeSession })
      const headerlessTask = await startTask(headerlessClient, 'start_waking_job', { text: 'nowhere' })
      await waitFor(async () => (await statusOf(headerlessClient, headerlessTask)).status === 'completed')

      // A memory session id too short for a runtime session, and no runtime session header.
      const short = { sessionId: 'ms-short', memoryId, actorId: 'actor-short' }
      const shortClient = await connect(server.url, { memory: short })
      const shortTask = await startTask(shortClient, 'start_waking_job', { text: 'short' })
      await delivered(shortTask)

      for (const taskId of [quietTask, cancelledTask, headerlessTask, shortTask])
        assert.equal(await jobs.job(taskId, 'wake'), undefined, `${taskId} owes no wake`)
      assert.equal(await jobs.job(headerlessTask, 'memory'), undefined, 'nor a memory event')
      await idle('no wake owed')
      const sessions = [quiet, cancelled, inline, headerless].map((one) => one.runtimeSession)
      assert.deepEqual(
        runtime.calls.filter((call) => sessions.includes(call.runtimeSessionId) || call.taskId === shortTask),
        [],
      )
      assert.equal(elsewhere.calls.length, 0)
    })

    test('when the result never reached memory (a memory that does not exist): the wake fails settled, unsent', async () => {
      const memory = { sessionId: 'ms-lost', memoryId: 'missing_memory-AbCdEf1234', actorId: 'actor-lost' }
      const runtimeSession = runtimeSessionIdOf('rt-lost')
      const client = await connect(server.url, { memory, runtimeSession })
      const taskId = await startTask(client, 'start_waking_job', { text: 'lost' })
      assert.equal((await settledJob(jobs, taskId, 'memory')).state, 'failed')
      assert.equal((await settledJob(jobs, taskId, 'wake')).state, 'failed')
      await idle('after the lost result')
      assert.deepEqual(runtime.wakesOf(taskId), [])
    })

    test('from a server with no wake configured', async () => {
      const dir = await tempDir()
      dirs.push(dir)
      const unwoken = await startTestServer(dir.path, { memoryClient: env.data, tools: tools() })
      const own = await openJobs({ dataDir: dir.path })
      try {
        const agent = session('unconfigured')
        const client = await connect(unwoken.url, agent)
        const taskId = await startTask(client, 'start_waking_job', { text: 'unconfigured' })
        assert.equal((await settledJob(own, taskId, 'memory')).state, 'delivered')
        assert.equal(await own.job(taskId, 'wake'), undefined)
        await waitFor(() => unwoken.health.report().status === 'Healthy', 20_000, 'the server to go idle')
        assert.deepEqual(runtime.wakesOf(taskId), [])
        assert.equal(elsewhere.calls.length, 0)
      } finally {
        await own.close()
        await unwoken.close()
      }
    })

    test('invalid continuation headers are refused (INVALID_REQUEST, naming the header) and nothing is stored', async () => {
      const memory = { sessionId: 'ms-invalid', memoryId, actorId: 'actor-invalid' }
      const valid = runtimeSessionIdOf('rt-invalid')
      runtime.mapSession(valid, memory.sessionId)
      const cases: Array<[string, Record<string, string>]> = [
        [CONTINUATION_HEADERS.runtimeSession, { [CONTINUATION_HEADERS.runtimeSession]: 'too-short' }],
        [
          CONTINUATION_HEADERS.runtimeSession,
          { [CONTINUATION_HEADERS.runtimeSession]: `${valid} with spaces` },
        ],
        [CONTINUATION_HEADERS.runtimeSession, { [CONTINUATION_HEADERS.runtimeSession]: 'x'.repeat(257) }],
        [
          CONTINUATION_HEADERS.depth,
          { [CONTINUATION_HEADERS.runtimeSession]: valid, [CONTINUATION_HEADERS.depth]: '-1' },
        ],
        [
          CONTINUATION_HEADERS.depth,
          { [CONTINUATION_HEADERS.runtimeSession]: valid, [CONTINUATION_HEADERS.depth]: 'two' },
        ],
        [
          CONTINUATION_HEADERS.depth,
          { [CONTINUATION_HEADERS.runtimeSession]: valid, [CONTINUATION_HEADERS.depth]: '1.5' },
        ],
        [
          CONTINUATION_HEADERS.depth,
          { [CONTINUATION_HEADERS.runtimeSession]: valid, [CONTINUATION_HEADERS.depth]: '1001' },
        ],
        [
          CONTINUATION_HEADERS.depth,
          { [CONTINUATION_HEADERS.runtimeSession]: valid, [CONTINUATION_HEADERS.depth]: '99999' },
        ],
      ]
      for (const [field, headers] of cases) {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TEST_TOKEN}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': formatCompositeSessionHeader(memory),
            ...headers,
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'start_waking_job', arguments: { text: 'refused' } },
          }),
        })
        const body = (await response.json()) as { error?: { data?: { code?: string; field?: string } } }
        assert.equal(response.status, 400, JSON.stringify(headers))
        assert.equal(body.error?.data?.code, 'INVALID_REQUEST', JSON.stringify(headers))
        assert.equal(body.error?.data?.field, field, JSON.stringify(headers))
      }
      const stored = await server.backend.list(memory.actorId, { limit: 10 })
      assert.deepEqual(stored.tasks, [], 'no task was stored')
      // The same call with valid headers is taken: the refusals were the headers'.
      const client = await connect(server.url, { memory, runtimeSession: valid, depth: '1' })
      const taskId = await startTask(client, 'start_waking_job', { text: 'accepted' })
      assert.equal((await settledJob(jobs, taskId, 'wake')).state, 'delivered')
      assert.deepEqual(
        runtime.calls.filter((call) => call.payload.actor_id === memory.actorId).map((call) => call.taskId),
        [taskId],
      )
    })
  })

  describe('a wake under way', () => {
    test('holds up neither the results nor the wakes of other tasks (a continuation turn takes long)', async () => {
      const slow = session('slow-turn')
      const other = session('other-turn')
      runtime.script = (call) => (call.runtimeSessionId === slow.runtimeSession ? { hold: true } : undefined)
      try {
        const slowTask = await startTask(await connect(server.url, slow), 'start_waking_job', {
          text: 'slow',
        })
        await waitFor(() => runtime.wakesOf(slowTask, 'held').length === 1, 20_000, 'the slow wake')
        const otherClient = await connect(server.url, other)
        const quietTask = await startTask(otherClient, 'start_quiet_job', { text: 'meanwhile' })
        const wakingTask = await startTask(otherClient, 'start_waking_job', { text: 'meanwhile' })
        await delivered(quietTask)
        assert.equal((await settledJob(jobs, wakingTask, 'wake')).state, 'delivered')
        assert.equal((await jobs.job(slowTask, 'wake'))?.state, 'pending', 'the slow wake is still under way')
        runtime.release()
        assert.equal((await settledJob(jobs, slowTask, 'wake')).state, 'delivered')
        assert.deepEqual(
          runtime.wakesOf(slowTask).map((call) => call.answer),
          [200],
        )
      } finally {
        runtime.script = undefined
        runtime.release()
      }
    })
  })

  describe('retries', () => {
    test('a busy session (409 SESSION_BUSY) is tried again until it takes the wake: one wake answered, none after it', async () => {
      const busy = session('busy')
      const refusals = 4
      runtime.script = (call, earlier) =>
        call.runtimeSessionId === busy.runtimeSession && earlier.length < refusals
          ? { status: 409, code: 'SESSION_BUSY' }
          : undefined
      try {
        const client = await connect(server.url, busy)
        const taskId = await startTask(client, 'start_waking_job', { text: 'busy' })
        const wake = await settledJob(jobs, taskId, 'wake')
        assert.equal(wake.state, 'delivered')
        // The SDK retries a 409 itself (3 attempts): past those, the server tried again.
        assert.ok(wake.attempts >= 2, `the server tried again (${wake.attempts} attempts)`)
        assert.equal(runtime.wakesOf(taskId, 409).length, refusals)
        assert.equal(runtime.wakesOf(taskId, 200).length, 1)
        await idle('after the busy session took its wake')
        assert.equal(runtime.wakesOf(taskId).length, refusals + 1, 'no wake after the one answered')
        assert.equal(runtime.wakesOf(taskId).at(-1)?.answer, 200)
      } finally {
        runtime.script = undefined
      }
    })

    test('a refusal a retry cannot change (WAKE_TASK_NOT_FOUND, FORBIDDEN, INVALID_REQUEST) is not tried again', async () => {
      const refusals: Array<[number, string]> = [
        [404, 'WAKE_TASK_NOT_FOUND'],
        [403, 'FORBIDDEN'],
        [400, 'INVALID_REQUEST'],
      ]
      for (const [status, code] of refusals) {
        const refused = session(`refused-${status}`)
        runtime.script = (call) =>
          call.runtimeSessionId === refused.runtimeSession ? { status, code } : undefined
        try {
          const client = await connect(server.url, refused)
          const taskId = await startTask(client, 'start_waking_job', { text: code })
          const wake = await settledJob(jobs, taskId, 'wake')
          assert.equal(wake.state, 'failed', code)
          assert.equal(wake.lastError, code)
          await idle(`after ${code}`)
          assert.equal(runtime.wakesOf(taskId).length, 1, `${code}: sent once`)
        } finally {
          runtime.script = undefined
        }
      }
    })

    test('a 2xx that is not the runtime’s JSON answer (another service at that ARN) is not tried again', async () => {
      const strange = session('strange-answer')
      runtime.script = (call) =>
        call.runtimeSessionId === strange.runtimeSession ? { status: 200, raw: '{"ok": true}' } : undefined
      try {
        const taskId = await startTask(await connect(server.url, strange), 'start_waking_job', {
          text: 'strange',
        })
        const wake = await settledJob(jobs, taskId, 'wake')
        assert.equal(wake.state, 'failed')
        assert.equal(wake.lastError, 'UNEXPECTED_WAKE_ANSWER')
        await idle('after the strange answer')
        assert.equal(runtime.wakesOf(taskId).length, 1)
      } finally {
        runtime.script = undefined
      }
    })
  })
})
