/**
 * A burst of starts against one server, as 32 clients calling start_model_training as fast as they
 * can: the server's RSS and event-loop delay, by burst size, with the work bounded (the default: one
 * slot per core, the rest queued) and unbounded (every task runs at once, as before the queue).
 * Each run is a fresh server process; figures are the server's own.
 */
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { MCP_SERVER_DEFAULTS } from '../../src/mcp-server/index.ts'

const quick = process.env.BENCH_QUICK === '1'
const BURSTS = quick ? [100, 400] : [250, 1000, 4000]
/** Unbounded runs keep every task's training data in memory at once: only the smaller bursts. */
const UNBOUNDED_MAX = quick ? 400 : 1000
const CLIENTS = 32

interface Report {
  rssMiB: number
  heapMiB: number
  delayP99Ms: number
  delayMaxMs: number
  running: number
  waiting: number
}

async function burst(size: number, concurrency: number) {
  const dir = await mkdtemp(join(tmpdir(), 'longrun-burst-'))
  const child = fork(new URL('./burst-server.ts', import.meta.url).pathname, [], {
    execArgv: ['--disable-warning=ExperimentalWarning', '--expose-gc'],
    env: { ...process.env, BURST_DATA_DIR: dir, BURST_CONCURRENCY: String(concurrency) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const next = <T>(type: string) =>
    new Promise<T>((resolve) => {
      const listener = (message: { type: string }) => {
        if (message.type !== type) return
        child.off('message', listener)
        resolve(message as T)
      }
      child.on('message', listener)
    })
  const { url } = await next<{ url: string }>('ready')
  const report = async () => {
    const answer = next<Report>('report')
    child.send('report')
    return answer
  }
  const idle = await report()
  child.send('reset')
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = new Client({ name: 'burst', version: '1' })
      const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: 'Bearer bench' } },
        fetch: (input, init) => fetch(input, { ...init, signal: null }),
      })
      await client.connect(transport)
      return client
    }),
  )
  const latencies: number[] = []
  let issued = 0
  const t0 = performance.now()
  await Promise.all(
    clients.map(async (client) => {
      while (issued < size) {
        const n = issued++
        const started = performance.now()
        await client.callTool({
          name: 'start_model_training',
          arguments: { model_name: `burst-${n}`, epochs: 30 },
        })
        latencies.push(performance.now() - started)
      }
    }),
  )
  const burstSeconds = (performance.now() - t0) / 1000
  // Two more seconds of the tasks running (or waiting), then the server's own figures.
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const loaded = await report()
  for (const client of clients) await client.close()
  child.send('stop')
  await new Promise((resolve) => child.once('exit', resolve))
  await rm(dir, { recursive: true, force: true })
  latencies.sort((a, b) => a - b)
  return {
    idle,
    loaded,
    startsPerSecond: size / burstSeconds,
    startP99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
  }
}

const row = (run: Awaited<ReturnType<typeof burst>>) => ({
  'tasks running': run.loaded.running,
  'tasks waiting': run.loaded.waiting,
  'RSS MiB (idle)': run.idle.rssMiB.toFixed(0),
  'RSS MiB (loaded)': run.loaded.rssMiB.toFixed(0),
  'live heap MiB (idle -> loaded)': `${run.idle.heapMiB.toFixed(1)} -> ${run.loaded.heapMiB.toFixed(1)}`,
  'event-loop delay p99 ms': run.loaded.delayP99Ms.toFixed(1),
  'event-loop delay max ms': run.loaded.delayMaxMs.toFixed(1),
  'starts / s': run.startsPerSecond.toFixed(0),
  'start p99 ms': run.startP99Ms.toFixed(1),
})
const rows: Record<string, Record<string, string | number>> = {}
const bounded: Record<number, Awaited<ReturnType<typeof burst>>> = {}
for (const size of BURSTS) {
  const run = await burst(size, MCP_SERVER_DEFAULTS.taskConcurrency)
  bounded[size] = run
  rows[`${size} starts, bounded (${MCP_SERVER_DEFAULTS.taskConcurrency} slots)`] = row(run)
}
for (const size of BURSTS.filter((each) => each <= UNBOUNDED_MAX)) {
  const run = await burst(size, 1_000_000)
  rows[`${size} starts, unbounded`] = row(run)
}
console.log(
  `# Burst of start_model_training (30 epochs, 1 s each) from ${CLIENTS} clients: the server's own figures`,
)
console.table(rows)
const smallest = bounded[BURSTS[0] as number]
const largest = bounded[BURSTS.at(-1) as number]
if (smallest !== undefined && largest !== undefined) {
  const growth = largest.loaded.rssMiB / smallest.loaded.rssMiB
  const heapGrowth = largest.loaded.heapMiB / smallest.loaded.heapMiB
  console.log(
    `bounded, largest burst / smallest (${BURSTS.at(-1)} / ${BURSTS[0]} starts): RSS ${growth.toFixed(2)}x, ` +
      `live heap ${heapGrowth.toFixed(2)}x; ` +
      `event-loop delay p99 ${smallest.loaded.delayP99Ms.toFixed(1)} -> ${largest.loaded.delayP99Ms.toFixed(1)} ms`,
  )
}
