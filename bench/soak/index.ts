/**
 * Soak of the agent runtime under steady load: does a runtime that serves many sessions keep its
 * heap flat? The local AgentCore service, the long-running MCP server and the runtime run as their
 * own processes; the runtime is started with `--expose-gc` and the heap probe. USERS users tell the
 * story (train a model in the background, ask its status, ask for its result) in new sessions,
 * concurrently, until TOTAL tool calls have ended. Every INTERVAL tool calls the users pause, the
 * runtime runs a full GC, and one row shows its heap after GC and its RSS. At the end: the heap's
 * slope per tool call (least squares over the rows) and its r².
 * BENCH_QUICK=1 shrinks the run.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { startServiceProcess, stopServiceProcess } from '../../test/helpers/child-process.ts'
import { startLocalServiceProcess } from '../local-service-process.ts'
import type { HeapSample } from './heap-probe.ts'
import { Gate, runStoryUser, type SoakTally } from './story-user.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const USERS = 6
/** Tool calls before the first row: modules loaded, code compiled, caches filled. */
const WARMUP = QUICK ? 60 : 300
const INTERVAL = QUICK ? 200 : 1000
const TOTAL = QUICK ? 600 : 6000
const MCP_TOKEN = 'bench-soak-mcp-token'
const MB = 1024 * 1024

const dataDir = `/tmp/longrun-bench-soak-${process.pid}`
const local = await startLocalServiceProcess()
const memoryId = await local.createMemory('bench_soak')
const credentials = local.clientConfig.credentials
const mcp = await startServiceProcess(
  new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname,
  {
    MCP_PORT: '0',
    MCP_HOST: '127.0.0.1',
    MCP_BEARER_TOKEN: MCP_TOKEN,
    AGENTCORE_ENDPOINT: local.url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    LONGRUN_DATA_DIR: dataDir,
  },
)
const runtime = await startProbedRuntime({
  PORT: '0',
  RUNTIME_HOST: '127.0.0.1',
  MODEL_PROVIDER: 'demo',
  MEMORY_ID: memoryId,
  AGENTCORE_ENDPOINT: local.url,
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  MCP_SERVER_URL: mcp.url,
  MCP_BEARER_TOKEN: MCP_TOKEN,
})

interface Row extends HeapSample {
  readonly toolCalls: number
  readonly seconds: number
}

const tally: SoakTally = { toolCalls: 0, invocations: 0, errors: 0 }
const gate = new Gate()
const rows: Row[] = []
const started = performance.now()
let nextRowAt = WARMUP
let sampling: Promise<void> = Promise.resolve()

/** Pauses the users, takes one row, lets them go on. */
async function takeRow(): Promise<void> {
  await gate.close()
  const sample = await runtime.heap()
  const row = { ...sample, toolCalls: tally.toolCalls, seconds: (performance.now() - started) / 1000 }
  rows.push(row)
  console.log(formatRow(row))
  gate.open()
}

console.log(
  `Runtime soak: ${USERS} users, ${TOTAL} tool calls after ${WARMUP} of warm-up, a row every ${INTERVAL}`,
)
console.log(
  `${'tool calls'.padStart(10)} ${'heap after GC (MB)'.padStart(19)} ${'RSS (MB)'.padStart(9)} ${'max GC pause (ms)'.padStart(18)} ${'elapsed (s)'.padStart(12)}`,
)
await Promise.all(
  Array.from({ length: USERS }, (_, index) =>
    runStoryUser({
      runtimeUrl: runtime.url,
      actorId: `soak-user-${index + 1}`,
      gate,
      tally,
      onToolCall: () => {
        if (tally.toolCalls < nextRowAt) return
        nextRowAt += INTERVAL
        sampling = sampling.then(takeRow)
      },
      keepGoing: () => tally.toolCalls < WARMUP + TOTAL,
    }),
  ),
)
await sampling
if (rows.at(-1)?.toolCalls !== tally.toolCalls) await takeRow()

const fit = leastSquares(
  rows.map((row) => row.toolCalls),
  rows.map((row) => row.heapUsed),
)
const rssFit = leastSquares(
  rows.map((row) => row.toolCalls),
  rows.map((row) => row.rss),
)
const elapsed = (performance.now() - started) / 1000
console.log(
  `\n${tally.toolCalls} tool calls in ${tally.invocations} invocations, ${tally.errors} errors, ${elapsed.toFixed(0)} s`,
)
console.log(
  `heap after GC: ${(fit.slope / 1024).toFixed(2)} KB per tool call (${((fit.slope * 1000) / MB).toFixed(2)} MB per 1,000), r² ${fit.r2.toFixed(3)}`,
)
console.log(
  `RSS:           ${(rssFit.slope / 1024).toFixed(2)} KB per tool call (${((rssFit.slope * 1000) / MB).toFixed(2)} MB per 1,000), r² ${rssFit.r2.toFixed(3)}`,
)
const first = rows[0] as Row
const last = rows.at(-1) as Row
console.log(
  `heap after GC from ${(first.heapUsed / MB).toFixed(1)} to ${(last.heapUsed / MB).toFixed(1)} MB: ${(last.heapUsed / first.heapUsed).toFixed(2)}x over ${last.toolCalls - first.toolCalls} tool calls`,
)

await runtime.stop()
await stopServiceProcess(mcp, 'SIGTERM')
await local.stop()
await rm(dataDir, { recursive: true, force: true })
if (tally.errors > 0) process.exitCode = 1

function formatRow(row: Row): string {
  return `${String(row.toolCalls).padStart(10)} ${(row.heapUsed / MB).toFixed(1).padStart(19)} ${(row.rss / MB).toFixed(1).padStart(9)} ${row.maxGcPauseMs.toFixed(1).padStart(18)} ${row.seconds.toFixed(0).padStart(12)}`
}

/** The slope of y over x by least squares, and how well a line fits (r²). */
function leastSquares(xs: readonly number[], ys: readonly number[]): { slope: number; r2: number } {
  const n = xs.length
  const meanX = xs.reduce((sum, x) => sum + x, 0) / n
  const meanY = ys.reduce((sum, y) => sum + y, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let index = 0; index < n; index += 1) {
    const dx = (xs[index] as number) - meanX
    const dy = (ys[index] as number) - meanY
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  const slope = sxx === 0 ? 0 : sxy / sxx
  return { slope, r2: sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy) }
}

/** The runtime as its own process with `--expose-gc` and the heap probe; `heap()` asks it for a sample. */
async function startProbedRuntime(env: Record<string, string>) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      '--expose-gc',
      '--import',
      new URL('./heap-probe.ts', import.meta.url).pathname,
      new URL('../../src/entrypoint.ts', import.meta.url).pathname,
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  )
  // Its log lines are not read, only kept short for a failure report.
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const exited = once(child, 'exit').then(() => {
    throw new Error(`the runtime exited early: ${stderr}`)
  })
  const [url] = (await Promise.race([once(lines, 'line'), exited])) as [string]
  return {
    url,
    async heap(): Promise<HeapSample> {
      const answer = once(child, 'message') as Promise<[HeapSample]>
      child.send('heap')
      const [sample] = await Promise.race([answer, exited])
      return sample
    },
    async stop(): Promise<void> {
      exited.catch(() => {})
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = once(child, 'exit')
      child.kill('SIGTERM')
      await gone
    },
  }
}
