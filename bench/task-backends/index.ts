/**
 * The task backends side by side, every process its own: SQLite (one server process, then two on
 * one data directory, the clients alternating between them) and Redis (one replica that runs
 * nothing, with one worker process, then two).
 *  1. Tasks per second (a burst from 16 clients: first call sent -> the last tool's end), and
 *     enqueue-to-start latency on an idle system (one client, one task at a time: call sent -> the
 *     tool starts), for a tool that hashes 64 KiB 20 times.
 *  2. 10,000 tasks queued behind one that holds its slot: Redis memory and the replica's RSS, beside
 *     the SQLite server's RSS and file size.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Redis } from 'ioredis'
import { startTestRedis } from '../../test/helpers/redis.ts'

const quick = process.env.BENCH_QUICK === '1'
const TASKS = quick ? 300 : 1500
const SEQUENTIAL = quick ? 50 : 200
const QUEUED = quick ? 2000 : 10_000
const CLIENTS = 16
const CONCURRENCY = 2

/** Start and end reports from the bench tool, by task id, on this process's clock. */
const starts = new Map<string, number>()
const ends = new Map<string, number>()
let onEnd = () => {}
const reports = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk: Buffer) => {
    body += chunk.toString()
  })
  req.on('end', () => {
    const { event, taskId } = JSON.parse(body) as { event: string; taskId: string }
    ;(event === 'start' ? starts : ends).set(taskId, performance.now())
    if (event === 'end') onEnd()
    res.end('ok')
  })
})
await new Promise<void>((resolve) => reports.listen(0, '127.0.0.1', resolve))
const reportUrl = `http://127.0.0.1:${(reports.address() as { port: number }).port}/`

interface Started {
  readonly child: ChildProcess
  readonly url?: string
}

async function startProcess(env: Record<string, string>): Promise<Started> {
  const child = fork(new URL('./bench-process.ts', import.meta.url).pathname, [], {
    execArgv: ['--disable-warning=ExperimentalWarning', '--expose-gc'],
    env: { ...process.env, BENCH_REPORT_URL: reportUrl, BENCH_CONCURRENCY: String(CONCURRENCY), ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const ready = await new Promise<{ url?: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { url?: string }))
    child.once('exit', (code) => reject(new Error(`a bench process exited early (${code})`)))
  })
  return { child, ...(ready.url !== undefined && { url: ready.url }) }
}

/** The process's RSS and live heap, after a full collection. */
async function memoryOf(started: Started): Promise<{ rssMiB: number; heapMiB: number }> {
  const answer = new Promise<{ rssMiB: number; heapMiB: number }>((resolve) => {
    const listener = (message: { type: string; rssMiB: number; heapMiB: number }) => {
      if (message.type !== 'report') return
      started.child.off('message', listener)
      resolve(message)
    }
    started.child.on('message', listener)
  })
  started.child.send('report')
  return answer
}

async function stopAll(processes: Started[]): Promise<void> {
  await Promise.all(
    processes.map(
      (started) =>
        new Promise((resolve) => {
          started.child.once('exit', resolve)
          started.child.send('stop')
        }),
    ),
  )
}

async function clientsOf(urls: string[]): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const client = new Client({ name: 'bench', version: '1' })
      const transport = new StreamableHTTPClientTransport(new URL(urls[i % urls.length] as string), {
        requestInit: { headers: { authorization: 'Bearer bench' } },
        fetch: (input, init) => fetch(input, { ...init, signal: null }),
      })
      await client.connect(transport)
      return client
    }),
  )
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/**
 * A burst of TASKS tasks from 16 clients, until every tool reported its end (tasks per second);
 * then, idle, one task at a time, each sent once the one before ended (enqueue-to-start latency).
 */
async function throughput(urls: string[]) {
  starts.clear()
  ends.clear()
  const clients = await clientsOf(urls)
  const allEnded = new Promise<void>((resolve) => {
    onEnd = () => {
      if (ends.size >= TASKS) resolve()
    }
  })
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    clients.map(async (client) => {
      while (next < TASKS) {
        next += 1
        await client.callTool({ name: 'checksum', arguments: { rounds: 20 } })
      }
    }),
  )
  await allEnded
  const seconds = (performance.now() - t0) / 1000
  const latencies: number[] = []
  const first = clients[0] as Client
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  for (let i = 0; i < SEQUENTIAL; i += 1) {
    const at = performance.now()
    const started = await first.callTool({ name: 'checksum', arguments: { rounds: 20 } })
    const taskId = (started.structuredContent as { task_id: string }).task_id
    await until(() => starts.has(taskId))
    latencies.push((starts.get(taskId) as number) - at)
    await until(() => ends.has(taskId))
  }
  for (const client of clients) await client.close()
  return {
    tasksPerSecond: TASKS / seconds,
    startP50: percentile(latencies, 50),
    startP99: percentile(latencies, 99),
  }
}

/** Queues QUEUED tasks behind one that holds the only slot, and measures what they cost. */
async function queued(urls: string[], redisUrl: string | undefined) {
  const clients = await clientsOf(urls)
  const redis = redisUrl === undefined ? undefined : new Redis(redisUrl)
  const usedMemory = async () =>
    Number(/used_memory:(\d+)/.exec((await redis?.info('memory')) ?? '')?.[1] ?? 0)
  const memoryBefore = await usedMemory()
  await clients[0]?.callTool({ name: 'checksum', arguments: { rounds: 1, hold: true } })
  let next = 0
  await Promise.all(
    clients.map(async (client) => {
      while (next < QUEUED) {
        next += 1
        await client.callTool({ name: 'checksum', arguments: { rounds: 1, hold: true } })
      }
    }),
  )
  const memoryAfter = await usedMemory()
  for (const client of clients) await client.close()
  redis?.disconnect()
  return { redisBytesPerTask: (memoryAfter - memoryBefore) / QUEUED }
}

const rows: Record<string, Record<string, string>> = {}
const memoryRows: Record<string, Record<string, string>> = {}
const throughputRow = (run: Awaited<ReturnType<typeof throughput>>) => ({
  'tasks / s': run.tasksPerSecond.toFixed(0),
  'enqueue -> start p50 ms (idle)': run.startP50.toFixed(1),
  'enqueue -> start p99 ms (idle)': run.startP99.toFixed(1),
})

type Memory = Awaited<ReturnType<typeof memoryOf>>
const memoryRow = (before: Memory, after: Memory, store: string) => ({
  'server RSS MiB before -> after': `${before.rssMiB.toFixed(0)} -> ${after.rssMiB.toFixed(0)}`,
  'live heap MiB before -> after': `${before.heapMiB.toFixed(1)} -> ${after.heapMiB.toFixed(1)}`,
  store,
})

// SQLite: one process, then two on one data directory (the clients alternate, as a balancer would).
for (const processes of [1, 2]) {
  const dir = await mkdtemp(join(tmpdir(), 'longrun-bench-backends-'))
  const servers = await Promise.all(
    Array.from({ length: processes }, () => startProcess({ BENCH_ROLE: 'server', BENCH_DATA_DIR: dir })),
  )
  rows[`sqlite, ${processes} process${processes === 1 ? '' : 'es'}`] = throughputRow(
    await throughput(servers.map((server) => server.url as string)),
  )
  await stopAll(servers)
  await rm(dir, { recursive: true, force: true })
}

// Redis: one replica that runs nothing, and one worker process, then two.
const redis = await startTestRedis()
for (const workers of [1, 2]) {
  const dir = await mkdtemp(join(tmpdir(), 'longrun-bench-backends-'))
  const replica = await startProcess({
    BENCH_ROLE: 'server',
    BENCH_DATA_DIR: dir,
    BENCH_REDIS_URL: redis.url,
    BENCH_RUN_WORKER: 'false',
  })
  const running = await Promise.all(
    Array.from({ length: workers }, () => startProcess({ BENCH_ROLE: 'worker', BENCH_REDIS_URL: redis.url })),
  )
  rows[`redis, 1 replica + ${workers} worker${workers === 1 ? '' : 's'}`] = throughputRow(
    await throughput([replica.url as string]),
  )
  await stopAll([replica, ...running])
  await rm(dir, { recursive: true, force: true })
}

// 10,000 tasks waiting: what they cost where they wait.
{
  const dir = await mkdtemp(join(tmpdir(), 'longrun-bench-backends-'))
  const server = await startProcess({ BENCH_ROLE: 'server', BENCH_DATA_DIR: dir, BENCH_CONCURRENCY: '1' })
  const before = await memoryOf(server)
  await queued([server.url as string], undefined)
  const after = await memoryOf(server)
  memoryRows[`sqlite (${QUEUED} queued in the server)`] = memoryRow(
    before,
    after,
    `${(statSync(join(dir, 'mcp-tasks.sqlite')).size / 2 ** 20).toFixed(1)} MiB file`,
  )
  await stopAll([server])
  await rm(dir, { recursive: true, force: true })
}
{
  const dir = await mkdtemp(join(tmpdir(), 'longrun-bench-backends-'))
  const replica = await startProcess({
    BENCH_ROLE: 'server',
    BENCH_DATA_DIR: dir,
    BENCH_REDIS_URL: redis.url,
    BENCH_RUN_WORKER: 'false',
  })
  const before = await memoryOf(replica)
  const { redisBytesPerTask } = await queued([replica.url as string], redis.url)
  const after = await memoryOf(replica)
  memoryRows[`redis (${QUEUED} queued, no worker)`] = memoryRow(
    before,
    after,
    `${((redisBytesPerTask * QUEUED) / 2 ** 20).toFixed(1)} MiB in Redis (${redisBytesPerTask.toFixed(0)} B a task)`,
  )
  await stopAll([replica])
  await rm(dir, { recursive: true, force: true })
}
await redis.remove()
reports.close()

console.log(
  `# Task backends: ${TASKS} checksum tasks (64 KiB hashed 20 times) from ${CLIENTS} clients, ${CONCURRENCY} slots per process`,
)
console.table(rows)
console.log(`# ${QUEUED} tasks waiting behind one that holds the only slot`)
console.table(memoryRows)
