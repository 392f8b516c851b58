/**
 * Long-running MCP server benchmark, all measured in one run:
 *  1. spec-native tasks started per second and tasks/get latency (p50, p99) through the real MCP
 *     client and server, on the durable SQLite store vs the SDK's InMemoryTaskStore (same server,
 *     same client; rounds alternate so neither store gets the warmer process);
 *  2. 10,000 tasks running at once in one process, each doing small chunks of real work, with
 *     heartbeats to a watcher: RSS and event-loop delay;
 *  3. delay from a task's end to its result event being readable in memory (local AgentCore service),
 *     clean and with 30% of CreateEvent calls throttled;
 *  4. text_statistics over a generated corpus with huge chunks vs small ones: run time and the
 *     longest event-loop stall (the tool yields inside a chunk, so both stay short).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { ListEventsCommand } from '@aws-sdk/client-bedrock-agentcore'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { CreateTaskResultSchema, GetTaskResultSchema } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { formatCompositeSessionHeader } from '../../src/mcp/index.ts'
import {
  defineLongRunningTool,
  LongRunningMcpServer,
  SqliteTaskBackend,
  TaskRunner,
  textStatisticsTool,
} from '../../src/mcp-server/index.ts'
import { startLocalAgentCore } from '../../test/helpers/local-agentcore.ts'
import { InMemoryBaselineBackend } from './in-memory-baseline.ts'

const quick = process.env.BENCH_QUICK === '1'
const STARTS = quick ? 300 : 2000
const STATUS_CHECKS = quick ? 300 : 2000
const CONCURRENCY = 16
const ROUNDS = 2
const RUNNING_TASKS = quick ? 1000 : 10_000
const STEADY_MS = quick ? 2000 : 6000
const DELIVERIES = quick ? 20 : 100
const TEXT_DOCUMENTS = quick ? 100_000 : 400_000

const dir = await mkdtemp(join(tmpdir(), 'longrun-bench-mcp-'))
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}
const fmt = (value: number, digits = 2) => value.toFixed(digits)
// A full collection before each memory reading, so the figures measure live data, not GC timing.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * The SDK client passes its transport's one AbortSignal to every fetch, and undici keeps a listener
 * on it per request until GC: thousands of requests print MaxListenersExceededWarning. The benchmark
 * never aborts a request, so its fetch leaves that signal out.
 */
const fetchWithoutSharedSignal: typeof fetch = (input, init) => fetch(input, { ...init, signal: null })
const transportTo = (url: string, headers: Record<string, string>) =>
  new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    fetch: fetchWithoutSharedSignal,
  })

/** A task that holds until the benchmark releases it (tasks stay "working" while we measure). */
function holdingTool(release: Promise<void>) {
  return defineLongRunningTool({
    name: 'hold',
    description: 'Waits until released.',
    input: z.object({ n: z.number().int() }),
    mode: 'async',
    // Held tasks wait on the benchmark, not on a core: all of them run (none queue), on both stores.
    concurrency: STARTS,
    run: async (input, ctx) => {
      await Promise.race([release, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))])
      return { n: input.n }
    },
  })
}

async function measureStore(kind: 'durable' | 'in-memory', round: number) {
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const baseline = kind === 'in-memory' ? new InMemoryBaselineBackend() : undefined
  const server = await LongRunningMcpServer.start({
    port: 0,
    host: '127.0.0.1',
    dataDir: join(dir, `${kind}-${round}`),
    auth: { kind: 'bearer', token: 'bench' },
    tools: [holdingTool(released)],
    ...(baseline !== undefined && { backend: baseline }),
  })
  const client = new Client({ name: 'bench', version: '1' })
  await client.connect(transportTo(server.url, { authorization: 'Bearer bench' }))
  const ids: string[] = []
  let next = 0
  const startedAt = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < STARTS) {
        const n = next++
        const created = await client.request(
          { method: 'tools/call', params: { name: 'hold', arguments: { n }, task: { ttl: 60_000 } } },
          CreateTaskResultSchema,
        )
        ids.push(created.task.taskId)
      }
    }),
  )
  const startSeconds = (performance.now() - startedAt) / 1000
  const latencies: number[] = []
  for (let i = 0; i < STATUS_CHECKS; i += 1) {
    const taskId = ids[(i * 7919) % ids.length] as string
    const t0 = performance.now()
    const task = await client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema)
    latencies.push(performance.now() - t0)
    if (task.status !== 'working') throw new Error(`unexpected status ${task.status}`)
  }
  release()
  await client.close()
  await server.close()
  return {
    startsPerSecond: STARTS / startSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  }
}

async function benchStores() {
  const results = {
    durable: [] as Awaited<ReturnType<typeof measureStore>>[],
    'in-memory': [] as Awaited<ReturnType<typeof measureStore>>[],
  }
  await measureStore('durable', -1) // warm-up, not counted
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const kind of round % 2 === 0
      ? (['durable', 'in-memory'] as const)
      : (['in-memory', 'durable'] as const)) {
      results[kind].push(await measureStore(kind, round))
    }
  }
  const best = (kind: 'durable' | 'in-memory') => ({
    startsPerSecond: Math.max(...results[kind].map((r) => r.startsPerSecond)),
    p50: Math.min(...results[kind].map((r) => r.p50)),
    p99: Math.min(...results[kind].map((r) => r.p99)),
  })
  return { durable: best('durable'), memory: best('in-memory') }
}

async function benchManyTasks() {
  // A shared tick stands in for the I/O a real long task waits on; each tick every task does real work.
  let tick = () => {}
  let ticked = new Promise<void>((resolve) => {
    tick = resolve
  })
  let stopping = false
  const ticker = setInterval(() => {
    const done = tick
    ticked = new Promise<void>((resolve) => {
      tick = resolve
    })
    done()
  }, 200)
  const tool = defineLongRunningTool({
    name: 'chunked_sum',
    description: 'Sums numbers in chunks until stopped.',
    input: z.object({ seed: z.number() }),
    mode: 'async',
    // Mostly waiting on the shared tick, as on remote I/O: a tool like this declares a high limit.
    concurrency: RUNNING_TASKS,
    run: async (input, ctx) => {
      let total = 0
      let chunks = 0
      while (!stopping && !ctx.signal.aborted) {
        for (let i = 0; i < 200; i += 1) total += Math.sqrt(input.seed + i + chunks)
        chunks += 1
        if (chunks % 5 === 0) ctx.progress(chunks)
        await ticked
      }
      return { total, chunks }
    },
  })
  const store = new SqliteTaskBackend({ dataDir: join(dir, 'many'), tools: [tool] })
  const runner = new TaskRunner({ backend: store, tools: [tool], heartbeatIntervalMs: 1000 })
  await runner.begin()
  let heartbeats = 0
  gc()
  const rssBefore = process.memoryUsage().rss
  const heapBefore = process.memoryUsage().heapUsed
  const t0 = performance.now()
  const tasks = []
  for (let i = 0; i < RUNNING_TASKS; i += 1) {
    const task = await runner.start({ tool, input: { seed: i }, owner: 'bench', caller: null, mode: 'async' })
    runner.watch(task.taskId, (event) => {
      if (event.type === 'heartbeat') heartbeats += 1
    })
    tasks.push(task)
  }
  const startMs = performance.now() - t0
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  await new Promise((resolve) => setTimeout(resolve, STEADY_MS))
  histogram.disable()
  const running = runner.running
  gc()
  const rssAfter = process.memoryUsage().rss
  const heapAfter = process.memoryUsage().heapUsed
  stopping = true
  const t1 = performance.now()
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (runner.running === 0) {
        clearInterval(check)
        resolve()
      }
    }, 10)
  })
  const drainMs = performance.now() - t1
  clearInterval(ticker)
  const completed = (await store.list('bench', { limit: 1 })).tasks[0]?.status
  await runner.close()
  return {
    running,
    startMs,
    rssMiB: rssAfter / 2 ** 20,
    rssDeltaMiB: (rssAfter - rssBefore) / 2 ** 20,
    heapPerTaskKiB: (heapAfter - heapBefore) / 1024 / RUNNING_TASKS,
    heartbeats,
    // The histogram times the gaps between 10 ms samples: the delay is what exceeds the 10 ms.
    delayP50: Math.max(0, histogram.percentile(50) / 1e6 - 10),
    delayP99: Math.max(0, histogram.percentile(99) / 1e6 - 10),
    delayMax: Math.max(0, histogram.max / 1e6 - 10),
    drainMs,
    completed,
  }
}

async function benchDelivery(throttleRate: number) {
  const env = await startLocalAgentCore()
  const memoryId = await env.createMemory()
  const dataDir = join(dir, `delivery-${throttleRate}`)
  const server = await LongRunningMcpServer.start({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    auth: { kind: 'bearer', token: 'bench' },
    tools: [textStatisticsTool()],
    memoryClient: env.data,
    deliveryBaseDelayMs: 50,
    deliveryMaxDelayMs: 1000,
  })
  env.service.faults.set(throttleRate > 0 ? { CreateEvent: { throttleRate } } : {})
  const memory = { sessionId: 'bench-session', memoryId, actorId: 'bench-actor' }
  const client = new Client({ name: 'bench', version: '1' })
  await client.connect(
    transportTo(server.url, {
      authorization: 'Bearer bench',
      'mcp-session-id': formatCompositeSessionHeader(memory),
    }),
  )
  const delays: number[] = []
  for (let i = 0; i < DELIVERIES; i += 1) {
    const started = await client.callTool({
      name: 'start_text_statistics',
      arguments: { documents: 20, seed: i },
    })
    const taskId = (started.structuredContent as { task_id: string }).task_id
    let endedAt: number | undefined
    while (endedAt === undefined) {
      const task = await server.backend.get(taskId)
      if (task !== undefined && task.status !== 'working') endedAt = task.updatedAt
      else await new Promise((resolve) => setImmediate(resolve))
    }
    for (;;) {
      const page = await env.data.send(
        new ListEventsCommand({ ...memory, includePayloads: true, maxResults: 1 }),
      )
      const text = page.events?.[0]?.payload?.[0]?.conversational?.content?.text ?? ''
      if (text.includes(taskId)) break
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    delays.push(Date.now() - endedAt)
  }
  const counts = env.service.faults.counts().CreateEvent
  await client.close()
  await server.close()
  await env.close()
  return {
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    throttled: counts?.throttled ?? 0,
    calls: counts?.calls ?? 0,
  }
}

/** Runs text_statistics directly and measures its time and the longest event-loop stall meanwhile. */
async function benchTextStatistics(chunkSize: number) {
  const tool = textStatisticsTool()
  const input = tool.input.parse({ documents: TEXT_DOCUMENTS, chunk_size: chunkSize, seed: 11 })
  const ctx = {
    progress: () => {},
    log: () => {},
    signal: new AbortController().signal,
    taskId: 'bench',
    caller: { sessionId: undefined, memoryId: undefined, actorId: undefined },
    runNumber: 1,
    findOwnTask: () => Promise.resolve(undefined),
  }
  const histogram = monitorEventLoopDelay({ resolution: 5 })
  histogram.enable()
  const started = performance.now()
  await tool.run(input, ctx)
  const elapsed = performance.now() - started
  histogram.disable()
  return { ms: elapsed, maxStallMs: histogram.max / 1e6 }
}

// The 10,000-task run goes first, so its memory figures start from a fresh process.
const many = await benchManyTasks()
const stores = await benchStores()
const clean = await benchDelivery(0)
const throttled = await benchDelivery(0.3)
const bigChunks = await benchTextStatistics(100_000)
const smallChunks = await benchTextStatistics(500)
await rm(dir, { recursive: true, force: true })

console.log(
  `\nMCP server (${quick ? 'quick' : 'full'} run; ${STARTS} spec-task starts at concurrency ${CONCURRENCY}, ${STATUS_CHECKS} tasks/get, best of ${ROUNDS} alternating rounds)`,
)
console.table({
  'tasks started / s': {
    durable: fmt(stores.durable.startsPerSecond, 0),
    'in-memory (SDK)': fmt(stores.memory.startsPerSecond, 0),
    'durable / in-memory': fmt(stores.durable.startsPerSecond / stores.memory.startsPerSecond),
  },
  'tasks/get p50 ms': {
    durable: fmt(stores.durable.p50),
    'in-memory (SDK)': fmt(stores.memory.p50),
    'durable / in-memory': fmt(stores.durable.p50 / stores.memory.p50),
  },
  'tasks/get p99 ms': {
    durable: fmt(stores.durable.p99),
    'in-memory (SDK)': fmt(stores.memory.p99),
    'durable / in-memory': fmt(stores.durable.p99 / stores.memory.p99),
  },
})
console.log(
  `\n${RUNNING_TASKS} tasks running at once in one process (durable store, heartbeat every 1 s, ${STEADY_MS} ms steady state)`,
)
console.table({
  'tasks running': { value: many.running },
  'start all (ms)': { value: fmt(many.startMs, 0) },
  'RSS (MiB)': { value: fmt(many.rssMiB, 0) },
  'RSS growth while running (MiB)': { value: fmt(many.rssDeltaMiB, 0) },
  'heap per running task (KiB)': { value: fmt(many.heapPerTaskKiB) },
  'heartbeats delivered': { value: many.heartbeats },
  'event-loop delay p50 (ms)': { value: fmt(many.delayP50) },
  'event-loop delay p99 (ms)': { value: fmt(many.delayP99) },
  'event-loop delay max (ms)': { value: fmt(many.delayMax) },
  'finish all after stop (ms)': { value: fmt(many.drainMs, 0) },
})
console.log(
  `\nTask end -> result event readable in memory (local AgentCore service, ${DELIVERIES} tasks each)`,
)
console.table({
  'no faults': {
    'p50 ms': clean.p50,
    'p99 ms': clean.p99,
    'CreateEvent calls': clean.calls,
    throttled: clean.throttled,
  },
  '30% throttled': {
    'p50 ms': throttled.p50,
    'p99 ms': throttled.p99,
    'CreateEvent calls': throttled.calls,
    throttled: throttled.throttled,
  },
})
console.log(`\ntext_statistics over ${TEXT_DOCUMENTS} generated documents (run directly, one process)`)
console.table({
  'run time (ms)': {
    'chunk_size 100000': fmt(bigChunks.ms, 0),
    'chunk_size 500': fmt(smallChunks.ms, 0),
    'big / small': fmt(bigChunks.ms / smallChunks.ms),
  },
  'longest event-loop stall (ms)': {
    'chunk_size 100000': fmt(bigChunks.maxStallMs, 1),
    'chunk_size 500': fmt(smallChunks.maxStallMs, 1),
    'big / small': fmt(bigChunks.maxStallMs / smallChunks.maxStallMs),
  },
})
const ratio = stores.durable.startsPerSecond / stores.memory.startsPerSecond
console.log(
  `\ngoal: durable start rate >= 0.9x in-memory -> ${fmt(ratio)}x ${ratio >= 0.9 ? 'met' : 'NOT met'}`,
)
