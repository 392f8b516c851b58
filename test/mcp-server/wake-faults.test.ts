/**
 * Wakes through faults, with the MCP server as its own process (src/mcp-server-entrypoint.ts, its
 * example tools: model_training wakes): killed with SIGKILL while a wake is owed or under way, the
 * next life sends it (again: at least once, the runtime makes a second wake of a task a no-op) and
 * settles it once answered; with memory and the invoke gateway throttled, every result lands once
 * and every task is woken, answered, once.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { seededRandom } from '../../src/shared/seeded-random.ts'
import { type ServiceProcess, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import {
  type LocalAgentCoreFixture,
  listSessionEvents,
  startLocalAgentCore,
} from '../helpers/local-agentcore.ts'
import { mcpProcessEnv, startTask, tempDir, waitFor } from '../helpers/mcp-server.ts'
import {
  connectAgent,
  type FakeAgentRuntime,
  openJobs,
  settledJob,
  startFakeAgentRuntime,
  WAKE_ARN,
  agentSession,
} from '../helpers/wake.ts'

const MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname
/** Child processes start slowly on a busy machine. */
const SLOW = 60_000

describe('wakes across crashes and throttling (the server as its own process)', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  let runtime: FakeAgentRuntime
  const children: ServiceProcess[] = []
  const clients: Client[] = []
  const dirs: { remove(): Promise<void> }[] = []

  /** A data directory of its own, the environment of its processes, and its jobs as an operator reads them. */
  const place = async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const processEnv = mcpProcessEnv(env.service.url, dir.path, {
      MCP_WAKE_RUNTIME: WAKE_ARN,
      MCP_DELIVERY_BASE_DELAY_MS: '20',
      MCP_DELIVERY_MAX_DELAY_MS: '200',
      MCP_TRAINING_EPOCH_DELAY_MS: '0',
    })
    return { dir: dir.path, processEnv, jobs: await openJobs({ dataDir: dir.path }) }
  }
  const start = async (processEnv: Record<string, string>) => {
    const child = await startServiceProcess(MAIN, processEnv)
    children.push(child)
    return child
  }
  /** An agent's session: a memory session and the runtime session beside it. */
  const session = (label: string) => agentSession(runtime, memoryId, label)
  const connect = async (url: string, agent: ReturnType<typeof session>) => {
    const client = await connectAgent(url, agent)
    clients.push(client)
    return client
  }
  /** Waits until the process at `url` runs nothing and owes nothing (GET /ping says Healthy). */
  const idle = (url: string) =>
    waitFor(
      async () => {
        const answer = (await (await fetch(new URL('/ping', url))).json()) as { status: string }
        return answer.status === 'Healthy'
      },
      SLOW,
      'the server to go idle',
    )
  const train = (client: Client, name: string) =>
    startTask(client, 'start_model_training', { model_name: name, epochs: 2 })

  before(async () => {
    // Seeded, so the injected throttling replays the same way on every run.
    env = await startLocalAgentCore({ random: seededRandom(20261207) })
    memoryId = await env.createMemory()
    runtime = await startFakeAgentRuntime(env)
  })
  after(async () => {
    runtime.release()
    for (const client of clients) await client.close().catch(() => {})
    for (const child of children) await stopServiceProcess(child, 'SIGKILL')
    await runtime.close()
    await env.close()
    for (const dir of dirs) await dir.remove()
  })

  test('killed between the delivery and the wake: the next life sends the wake it owed, and once it is answered never again', async () => {
    const { processEnv, jobs } = await place()
    try {
      const agent = session('owed')
      let refusing = true
      // The runtime is not ready yet (503): the wake stays owed.
      runtime.script = (call) =>
        call.runtimeSessionId === agent.runtimeSession && refusing
          ? { status: 503, code: 'SHUTTING_DOWN' }
          : undefined
      const first = await start(processEnv)
      const taskId = await train(await connect(first.url, agent), 'owed')
      assert.equal((await settledJob(jobs, taskId, 'memory', SLOW)).state, 'delivered')
      await waitFor(() => runtime.wakesOf(taskId, 503).length >= 1, SLOW, 'a refused wake')
      await stopServiceProcess(first, 'SIGKILL')
      const killedAt = Date.now()
      assert.equal((await jobs.job(taskId, 'wake'))?.state, 'pending', 'the wake is owed')
      refusing = false

      const second = await start(processEnv)
      assert.equal((await settledJob(jobs, taskId, 'wake', SLOW)).state, 'delivered')
      const answered = runtime.wakesOf(taskId, 200)
      assert.equal(answered.length, 1)
      assert.ok((answered[0]?.receivedAt ?? 0) >= killedAt, 'sent by the second life')
      assert.equal(answered[0]?.resultInMemory, true)
      assert.deepEqual(answered[0]?.payload, {
        wake: { task_id: taskId, depth: 1 },
        actor_id: agent.memory.actorId,
        memory_id: memoryId,
      })
      await idle(second.url)
      await stopServiceProcess(second, 'SIGTERM')

      // A third life owes nothing and sends nothing.
      const third = await start(processEnv)
      await idle(third.url)
      await stopServiceProcess(third, 'SIGTERM')
      assert.deepEqual(
        runtime.wakesOf(taskId).map((call) => call.answer),
        [...runtime.wakesOf(taskId, 503).map(() => 503), 200],
        'refused until the restart, then answered once',
      )
    } finally {
      runtime.script = undefined
      await jobs.close()
    }
  })

  test('killed mid-wake: the next life sends it again (at least once) and settles it once answered', async () => {
    const { processEnv, jobs } = await place()
    try {
      const agent = session('mid-wake')
      let holding = true
      runtime.script = (call) =>
        call.runtimeSessionId === agent.runtimeSession && holding ? { hold: true } : undefined
      const first = await start(processEnv)
      const taskId = await train(await connect(first.url, agent), 'mid-wake')
      await waitFor(() => runtime.wakesOf(taskId, 'held').length === 1, SLOW, 'the wake to be under way')
      await stopServiceProcess(first, 'SIGKILL')
      // The caller is gone: the gateway drops the runtime's request too.
      await waitFor(
        () => runtime.wakesOf(taskId, 'dropped').length === 1,
        SLOW,
        'the held wake to be dropped',
      )
      assert.equal((await jobs.job(taskId, 'wake'))?.state, 'pending', 'the wake was never settled')
      holding = false

      const second = await start(processEnv)
      assert.equal((await settledJob(jobs, taskId, 'wake', SLOW)).state, 'delivered')
      await idle(second.url)
      await stopServiceProcess(second, 'SIGTERM')
      assert.deepEqual(
        runtime.wakesOf(taskId).map((call) => call.answer),
        ['dropped', 200],
        'sent again after the restart, answered once',
      )
    } finally {
      runtime.script = undefined
      await jobs.close()
    }
  })

  test('with memory writes and invocations throttled (30%) and answers of stored writes lost, every result lands once and every task is woken once', async () => {
    const { processEnv, jobs } = await place()
    const agents = ['throttled-a', 'throttled-b', 'throttled-c'].map(session)
    env.service.faults.resetCounts()
    env.service.faults.set({
      // Two writes are stored with their answers lost: delivered again, stored once.
      CreateEvent: { throttleRate: 0.3, loseResponseNext: 2 },
      InvokeAgentRuntime: { throttleRate: 0.3 },
    })
    const tasks: Array<{ taskId: string; agent: (typeof agents)[number] }> = []
    try {
      const server = await start(processEnv)
      for (const agent of agents) {
        const client = await connect(server.url, agent)
        for (const run of [1, 2, 3])
          tasks.push({ taskId: await train(client, `${agent.memory.actorId}-${run}`), agent })
      }
      for (const { taskId } of tasks)
        assert.equal((await settledJob(jobs, taskId, 'wake', SLOW)).state, 'delivered', taskId)
      await idle(server.url)
      await stopServiceProcess(server, 'SIGTERM')
    } finally {
      env.service.faults.set({})
      await jobs.close()
    }
    const counts = env.service.faults.counts()
    assert.ok((counts.CreateEvent?.throttled ?? 0) > 0, 'memory writes were throttled')
    assert.equal(counts.CreateEvent?.responsesLost, 2, 'answers of stored writes were lost')
    assert.ok((counts.InvokeAgentRuntime?.throttled ?? 0) > 0, 'wakes were throttled')
    for (const agent of agents) {
      const events = await listSessionEvents(env.data, memoryId, agent.memory.actorId, agent.memory.sessionId)
      const mine = tasks.filter((task) => task.agent === agent).map((task) => task.taskId)
      assert.deepEqual(
        events.map((event) => event.metadata?.longrunTaskId?.stringValue).sort(),
        [...mine].sort(),
        'each result exactly once',
      )
    }
    for (const { taskId } of tasks) {
      const answered = runtime.wakesOf(taskId, 200)
      assert.equal(answered.length, 1, `${taskId} woken once`)
      assert.equal(answered[0]?.resultInMemory, true)
      assert.equal(
        runtime.wakesOf(taskId).filter((call) => call.answer !== 200).length,
        0,
        'the runtime was reached only by the wake it answered',
      )
    }
  })
})
