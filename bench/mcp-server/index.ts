/**
 * Long-running MCP server benchmark, all measured in one run:
 *  1. spec-native tasks started per second and tasks/get latency (p50, p99) on the same server,
 *     four ways (see WAYS): spec 2025-11-25 through the SDK client on the durable SQLite store and
 *     on the SDK's InMemoryTaskStore, the durable path through plain fetch, and spec 2026-07-28's
 *     tasks extension (`io.modelcontextprotocol/tasks`) on the durable store; the order rotates
 *     each round so no way always gets the warmer process;
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
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
} from '@modelcontextprotocol/server'
import { z } from 'zod'
import { formatCompositeSessionHeader } from '../../src/mcp/index.ts'
import {
  defineLongRunningTool,
  LongRunningMcpServer,
  SqliteTaskBackend,
  TaskRunner,
  textStatisticsTool,
} from '../../src/mcp-server/index.ts'
import { TASKS_EXTENSION } from '../../src/mcp-server/tasks-extension.ts'
import { startLocalAgentCore } from '../../test/helpers/local-agentcore.ts'
import { InMemoryBaselineBackend } from './in-memory-baseline.ts'

const quick = process.env.BENCH_QUICK === '1'
const STARTS = quick ? 300 : 2000
const STATUS_CHECKS = quick ? 300 : 2000
const CONCURRENCY = 16
// Four ways measured (see WAYS), each in each place of the order once.
const ROUNDS = 4
const MODERN_ERA = '2026-07-28'
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

/**
 * The ways `benchStores` compares: spec 2025-11-25 through the SDK client on the durable store and
 * on the SDK's in-memory one, the same durable path through plain fetch (`durable-raw`: what the SDK
 * client itself costs), and the 2026-07-28 tasks extension through plain fetch on the durable store.
 */
const WAYS = ['durable', 'in-memory', 'durable-raw', 'extension'] as const
type Way = (typeof WAYS)[number]

/** Starts a held task and reads a task's status, one way. */
interface TaskClient {
  start(n: number): Promise<string>
  status(taskId: string): Promise<string>
  close(): Promise<void>
}

/** Spec 2025-11-25: the SDK client, a task-augmented tools/call, tasks/get. */
async function sdkClient(url: string): Promise<TaskClient> {
  const client = new Client({ name: 'bench', version: '1' })
  await client.connect(transportTo(url, { authorization: 'Bearer bench' }))
  return {
    start: async (n) =>
      (
        await client.request(
          { method: 'tools/call', params: { name: 'hold', arguments: { n }, task: { ttl: 60_000 } } },
          CreateTaskResultSchema,
        )
      ).task.taskId,
    status: async (taskId) =>
      (await client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema)).status,
    close: () => client.close(),
  }
}

/**
 * Plain fetch, one POST per request, the answer read as JSON or as the last message of an event
 * stream. `modern`: spec 2026-07-28 as its clients frame a request, the era's headers (protocol
 * version, method, name) and `_meta` envelope declaring the tasks extension (the SDK 2.4 client
 * refuses a task answer to tools/call, so the extension has no SDK client to measure); otherwise
 * spec 2025-11-25's task-augmented tools/call on the stateless endpoint, without `initialize`.
 */
function rawClient(url: string, modern: boolean): TaskClient {
  let id = 0
  const envelope = {
    [PROTOCOL_VERSION_META_KEY]: MODERN_ERA,
    [CLIENT_CAPABILITIES_META_KEY]: { extensions: { [TASKS_EXTENSION]: {} } },
    [CLIENT_INFO_META_KEY]: { name: 'bench', version: '1' },
  }
  const post = async (method: string, name: string, params: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: 'Bearer bench',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': modern ? MODERN_ERA : '2025-11-25',
        ...(modern && { 'mcp-method': method, 'mcp-name': name }),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: (id += 1),
        method,
        params: modern ? { ...params, _meta: envelope } : params,
      }),
    })
    const text = await response.text()
    const body = response.headers.get('content-type')?.includes('text/event-stream')
      ? (text
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .at(-1)
          ?.slice(6) ?? '{}')
      : text
    const answer = JSON.parse(body) as { result?: Record<string, unknown>; error?: unknown }
    if (answer.result === undefined) throw new Error(`${method}: ${response.status} ${text}`)
    return answer.result
  }
  return {
    start: async (n) => {
      const created = modern
        ? await post('tools/call', 'hold', { name: 'hold', arguments: { n } })
        : ((await post('tools/call', 'hold', { name: 'hold', arguments: { n }, task: { ttl: 60_000 } }))
            .task as Record<string, unknown>)
      if (modern && created.resultType !== 'task')
        throw new Error(`tools/call answered ${JSON.stringify(created)}`)
      return String(created.taskId)
    },
    status: async (taskId) => String((await post('tasks/get', taskId, { taskId })).status),
    close: async () => {},
  }
}

async function measureStore(way: Way, round: number) {
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const baseline = way === 'in-memory' ? new InMemoryBaselineBackend() : undefined
  const server = await LongRunningMcpServer.start({
    port: 0,
    host: '127.0.0.1',
    dataDir: join(dir, `${way}-${round}`),
    auth: { kind: 'bearer', token: 'bench' },
    tools: [holdingTool(released)],
    ...(baseline !== undefined && { backend: baseline }),
  })
  const client =
    way === 'extension' || way === 'durable-raw'
      ? rawClient(server.url, way === 'extension')
      : await sdkClient(server.url)
  const ids: string[] = []
  let next = 0
  const startedAt = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < STARTS) ids.push(await client.start(next++))
    }),
  )
  const startSeconds = (performance.now() - startedAt) / 1000
  const latencies: number[] = []
  for (let i = 0; i < STATUS_CHECKS; i += 1) {
    const taskId = ids[(i * 7919) % ids.length] as string
    const t0 = performance.now()
    const status = await client.status(taskId)
    latencies.push(performance.now() - t0)
    if (status !== 'working') throw new Error(`unexpected status ${status}`)
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
  const results: Record<Way, Awaited<ReturnType<typeof measureStore>>[]> = {
    durable: [],
    'in-memory': [],
    'durable-raw': [],
    extension: [],
  }
  // Warm-ups, not counted: the 2025-11-25 side (both stores share it) and the 2026-07-28 side.
  await measureStore('durable', -1)
  await measureStore('extension', -1)
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let i = 0; i < WAYS.length; i += 1) {
      const way = WAYS[(round + i) % WAYS.length] as Way
      results[way].push(await measureStore(way, round))
    }
  }
  const best = (way: Way) => ({
    startsPerSecond: Math.max(...results[way].map((r) => r.startsPerSecond)),
    p50: Math.min(...results[way].map((r) => r.p50)),
    p99: Math.min(...results[way].map((r) => r.p99)),
  })
  return {
    durable: best('durable'),
    memory: best('in-memory'),
    durableRaw: best('durable-raw'),
    extension: best('extension'),
  }
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
  `\nMCP server (${quick ? 'quick' : 'full'} run; ${STARTS} spec-task starts at concurrency ${CONCURRENCY}, ${STATUS_CHECKS} tasks/get, best of ${ROUNDS} rotating rounds)`,
)
console.log(
  '2025 = spec 2025-11-25 (SDK client; "raw": plain fetch), ext = spec 2026-07-28 tasks extension (plain fetch), all but mem on the durable store; a/b above 1: faster for tasks/s, slower for ms',
)
const row = (pick: (r: typeof stores.durable) => number, digits: number) => ({
  '2025': fmt(pick(stores.durable), digits),
  '2025 mem (SDK)': fmt(pick(stores.memory), digits),
  '2025 raw': fmt(pick(stores.durableRaw), digits),
  ext: fmt(pick(stores.extension), digits),
  '2025/mem': fmt(pick(stores.durable) / pick(stores.memory)),
  'ext/2025': fmt(pick(stores.extension) / pick(stores.durable)),
  'ext/mem': fmt(pick(stores.extension) / pick(stores.memory)),
  'ext/2025 raw': fmt(pick(stores.extension) / pick(stores.durableRaw)),
})
console.table({
  'tasks started / s': row((r) => r.startsPerSecond, 0),
  'tasks/get p50 ms': row((r) => r.p50, 2),
  'tasks/get p99 ms': row((r) => r.p99, 2),
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
/** One goal line: `speed` is how many times as fast (above 1 faster), against `at least`. */
const goal = (what: string, speed: number, atLeast: number) =>
  console.log(`goal: ${what} >= ${atLeast}x -> ${fmt(speed)}x ${speed >= atLeast ? 'met' : 'NOT met'}`)
const { durable, memory, durableRaw, extension } = stores
console.log('')
goal('durable start rate vs in-memory', durable.startsPerSecond / memory.startsPerSecond, 0.9)
goal('extension start rate vs 2025 durable', extension.startsPerSecond / durable.startsPerSecond, 1)
goal('extension tasks/get p50 speed vs 2025 durable', durable.p50 / extension.p50, 1)
// The same comparison with the same client on both (plain fetch): the server paths alone.
goal('extension start rate vs 2025 raw', extension.startsPerSecond / durableRaw.startsPerSecond, 1)
goal('extension tasks/get p50 speed vs 2025 raw', durableRaw.p50 / extension.p50, 1)
goal('extension start rate vs in-memory', extension.startsPerSecond / memory.startsPerSecond, 0.9)
goal('extension tasks/get p50 speed vs in-memory', memory.p50 / extension.p50, 0.9)
