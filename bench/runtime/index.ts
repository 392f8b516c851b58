/**
 * Benchmark of the agent runtime's own cost, measured side by side in one run:
 *  1. The time an invocation adds over a bare handler that answers at once on the same server: one
 *     runtime server whose handler answers the prompt `__bare__` itself and gives the others to
 *     agent handlers (demo model, memory restore and write): one that keeps the MCP tool listing
 *     per process (the default) and one that lists on every invocation (`mcpToolListings: false`),
 *     and, to tell the runtime's own work from the memory service's latency, the first one with a
 *     memory client answered in this process (no round trips). Calls rotate over the handlers over
 *     HTTP; p50 and p99 of each, and the memory calls of one agent invocation. The local AgentCore
 *     service and the MCP server run in their own processes, as remote services would.
 *  2. Cold start: from spawning `node src/entrypoint.ts` to its first Healthy `/ping`, and on to
 *     its first answered invocation (which loads the agent side), beside the start of a Node
 *     process that does nothing (the floor every cold start pays).
 * BENCH_BASELINE=<another checkout> measures that checkout's handler and entrypoint in the same
 * rotations, for a side-by-side comparison with the code as it was; and, to compare the HTTP layers
 * of the servers too, that checkout's whole stack beside this one's: its runtime server (a bare
 * handler and its agent handler) on its own local service and MCP server processes. BENCH_QUICK=1
 * shrinks the run.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { DemoModel } from '../../src/demo-model/index.ts'
import type { MemoryDataClient } from '../../src/memory/index.ts'
import {
  type AgentInvocationHandlerConfig,
  AgentRuntimeServer,
  createAgentInvocationHandler,
  type InvocationHandler,
  PendingWrites,
  SESSION_ID_HEADER,
} from '../../src/runtime/index.ts'
import { NODE, startServiceProcess, stopServiceProcess } from '../../test/helpers/child-process.ts'
import { startLocalServiceProcess } from '../local-service-process.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const CALLS = QUICK ? 30 : 300
const WARMUP = QUICK ? 5 : 20
const COLD_STARTS = QUICK ? 2 : 7
const MEMORY_CALL_SAMPLES = QUICK ? 3 : 10
const MCP_TOKEN = 'bench-mcp-token'
const ADMIN_TOKEN = 'bench-admin-token-0123456789'
const BASELINE = process.env.BENCH_BASELINE
const quiet = { warn: () => {} }

process.env.AGENTCORE_LOCAL_ADMIN_TOKEN = ADMIN_TOKEN
const local = await startLocalServiceProcess()
const memoryId = await local.createMemory('bench_runtime')
const mcp = await startServiceProcess(
  new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname,
  {
    MCP_PORT: '0',
    MCP_HOST: '127.0.0.1',
    MCP_BEARER_TOKEN: MCP_TOKEN,
    AGENTCORE_ENDPOINT: local.url,
    AWS_ACCESS_KEY_ID: local.clientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: local.clientConfig.credentials.secretAccessKey,
    LONGRUN_DATA_DIR: `/tmp/longrun-bench-runtime-${process.pid}`,
  },
)
const memoryClient = new BedrockAgentCoreClient({ ...local.clientConfig, maxAttempts: 1 })
const handlerConfig: AgentInvocationHandlerConfig = {
  model: new DemoModel(),
  memoryClient,
  mcp: { url: mcp.url, bearerToken: MCP_TOKEN },
  pendingWrites: new PendingWrites({ onOwedChange: () => {}, logger: quiet }),
  logger: quiet,
}

/** A memory that answers at once, in this process: an empty session, and every write accepted. */
const instantMemory: MemoryDataClient = {
  send: async (command) => {
    if (command.constructor.name === 'ListEventsCommand') return { events: [] }
    return { event: { eventId: `instant-${performance.now()}`, eventTimestamp: new Date() } }
  },
}

/** The handlers measured, by the prompt that routes to them. */
const handlers = new Map<string, { label: string; handler: InvocationHandler }>([
  [
    'kept',
    { label: 'agent, MCP listing kept per process', handler: createAgentInvocationHandler(handlerConfig) },
  ],
  [
    'listed',
    {
      label: 'agent, MCP listing on every invocation',
      handler: createAgentInvocationHandler({ ...handlerConfig, mcpToolListings: false }),
    },
  ],
  [
    'instant',
    {
      label: 'agent, listing kept, memory in-process',
      handler: createAgentInvocationHandler({ ...handlerConfig, memoryClient: instantMemory }),
    },
  ],
])
if (BASELINE !== undefined) {
  const baseline = (await import(join(BASELINE, 'src/runtime/index.ts'))) as {
    createAgentInvocationHandler: typeof createAgentInvocationHandler
  }
  handlers.set('baseline', {
    label: 'agent, BENCH_BASELINE checkout',
    handler: baseline.createAgentInvocationHandler(handlerConfig),
  })
}
/** The BENCH_BASELINE checkout's own stack: its runtime server, local service and MCP server. */
interface BaselineStack {
  readonly url: string
  readonly localUrl: string
  stop(): Promise<void>
}

async function startBaselineStack(checkout: string): Promise<BaselineStack> {
  const { startLocalServiceProcess: startBaselineLocal } = (await import(
    join(checkout, 'bench/local-service-process.ts')
  )) as { startLocalServiceProcess: typeof startLocalServiceProcess }
  const baseLocal = await startBaselineLocal()
  const baseMemoryId = await baseLocal.createMemory('bench_runtime_baseline')
  const baseMcp = await startServiceProcess(join(checkout, 'src/mcp-server/main.ts'), {
    MCP_PORT: '0',
    MCP_HOST: '127.0.0.1',
    MCP_BEARER_TOKEN: MCP_TOKEN,
    AGENTCORE_ENDPOINT: baseLocal.url,
    AWS_ACCESS_KEY_ID: baseLocal.clientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: baseLocal.clientConfig.credentials.secretAccessKey,
    LONGRUN_DATA_DIR: `/tmp/longrun-bench-runtime-baseline-${process.pid}`,
  })
  const runtime = (await import(join(checkout, 'src/runtime/index.ts'))) as {
    AgentRuntimeServer: typeof AgentRuntimeServer
    createAgentInvocationHandler: typeof createAgentInvocationHandler
    PendingWrites: typeof PendingWrites
  }
  const { DemoModel: BaselineDemoModel } = (await import(join(checkout, 'src/demo-model/index.ts'))) as {
    DemoModel: typeof DemoModel
  }
  const baseMemoryClient = new BedrockAgentCoreClient({ ...baseLocal.clientConfig, maxAttempts: 1 })
  const agent = runtime.createAgentInvocationHandler({
    model: new BaselineDemoModel(),
    memoryClient: baseMemoryClient,
    mcp: { url: baseMcp.url, bearerToken: MCP_TOKEN },
    pendingWrites: new runtime.PendingWrites({ onOwedChange: () => {}, logger: quiet }),
    logger: quiet,
  })
  const baseServer = await runtime.AgentRuntimeServer.start({
    handler: (invocation, emit) =>
      invocation.prompt === 'baseline-stack'
        ? agent(invocation, emit)
        : Promise.resolve({ response: 'bare', session_id: invocation.runtimeSessionId, tasks: [] }),
    port: 0,
    host: '127.0.0.1',
    defaultMemoryId: baseMemoryId,
  })
  return {
    url: baseServer.url,
    localUrl: baseLocal.url,
    stop: async () => {
      await baseServer.close()
      baseMemoryClient.destroy()
      await stopServiceProcess(baseMcp, 'SIGTERM')
      await baseLocal.stop()
    },
  }
}
const baselineStack = BASELINE === undefined ? undefined : await startBaselineStack(BASELINE)

const server = await AgentRuntimeServer.start({
  handler: (invocation, emit) => {
    const chosen = handlers.get(invocation.prompt ?? '')
    if (chosen === undefined)
      return Promise.resolve({ response: 'bare', session_id: invocation.runtimeSessionId, tasks: [] })
    return chosen.handler(invocation, emit)
  },
  port: 0,
  host: '127.0.0.1',
  defaultMemoryId: memoryId,
})

let session = 0
/** Milliseconds of one invocation over HTTP, from the request to the whole answer read. */
async function invoke(url: string, prompt: string): Promise<number> {
  session += 1
  const started = performance.now()
  const response = await fetch(`${url}/invocations`, {
    method: 'POST',
    headers: { [SESSION_ID_HEADER]: `bench-session-${session}-${'0'.repeat(32)}` },
    body: JSON.stringify({ prompt }),
  })
  const body = (await response.json()) as { response?: string }
  if (response.status !== 200 || !body.response) throw new Error(`invocation failed: ${JSON.stringify(body)}`)
  return performance.now() - started
}

async function memoryCalls(localUrl: string = local.url): Promise<Record<string, number>> {
  const response = await fetch(`${localUrl}/_local/stats`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  const stats = (await response.json()) as Record<string, { calls: number }>
  return Object.fromEntries(Object.entries(stats).map(([operation, value]) => [operation, value.calls]))
}

/** What each rotation calls: this checkout's server, and the baseline stack's when there is one. */
const targets = new Map<string, { url: string; prompt: string }>([
  ['__bare__', { url: server.url, prompt: '__bare__' }],
  ...[...handlers.keys()].map((prompt) => [prompt, { url: server.url, prompt }] as const),
  ...(baselineStack === undefined
    ? []
    : ([
        ['baseline-bare', { url: baselineStack.url, prompt: '__bare__' }],
        ['baseline-stack', { url: baselineStack.url, prompt: 'baseline-stack' }],
      ] as const)),
])
for (let index = 0; index < WARMUP; index += 1) {
  for (const { url, prompt } of targets.values()) await invoke(url, prompt)
}
const times = new Map<string, number[]>([...targets.keys()].map((key) => [key, []]))
for (let index = 0; index < CALLS; index += 1) {
  for (const [key, { url, prompt }] of targets) times.get(key)?.push(await invoke(url, prompt))
}
const callsPerInvocation = new Map<string, string>()
/** The handlers whose memory is the local service. */
const remoteMemory = [...handlers.keys()].filter((prompt) => prompt !== 'instant')
for (const prompt of remoteMemory) {
  const before = await memoryCalls()
  for (let index = 0; index < MEMORY_CALL_SAMPLES; index += 1) await invoke(server.url, prompt)
  const after = await memoryCalls()
  const perInvocation = Object.entries(after)
    .map(
      ([operation, calls]) => [operation, (calls - (before[operation] ?? 0)) / MEMORY_CALL_SAMPLES] as const,
    )
    .filter(([, calls]) => calls > 0)
  callsPerInvocation.set(prompt, JSON.stringify(Object.fromEntries(perInvocation)))
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}
const cell = (value: number, digits = 2) => value.toFixed(digits).padStart(9)
const bare = times.get('__bare__') ?? []
console.log(`\n1. Invocation latency over HTTP, ${CALLS} calls each, rotating (ms)`)
console.log(
  `${''.padEnd(44)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'+p50'.padStart(9)} ${'+p99'.padStart(9)}`,
)
console.log(
  `${'bare handler (answers at once)'.padEnd(44)} ${cell(quantile(bare, 0.5))} ${cell(quantile(bare, 0.99))}`,
)
for (const [prompt, { label }] of handlers) {
  const values = times.get(prompt) ?? []
  console.log(
    `${label.padEnd(44)} ${cell(quantile(values, 0.5))} ${cell(quantile(values, 0.99))} ${cell(
      quantile(values, 0.5) - quantile(bare, 0.5),
    )} ${cell(quantile(values, 0.99) - quantile(bare, 0.99))}`,
  )
}
if (baselineStack !== undefined) {
  const baseBare = times.get('baseline-bare') ?? []
  const baseAgent = times.get('baseline-stack') ?? []
  const kept = times.get('kept') ?? []
  console.log(
    `${'bare handler, BENCH_BASELINE runtime server'.padEnd(44)} ${cell(quantile(baseBare, 0.5))} ${cell(quantile(baseBare, 0.99))}`,
  )
  console.log(
    `${'agent, BENCH_BASELINE stack (own services)'.padEnd(44)} ${cell(quantile(baseAgent, 0.5))} ${cell(
      quantile(baseAgent, 0.99),
    )} ${cell(quantile(baseAgent, 0.5) - quantile(baseBare, 0.5))} ${cell(
      quantile(baseAgent, 0.99) - quantile(baseBare, 0.99),
    )}`,
  )
  const added = (values: readonly number[], base: readonly number[], q: number) =>
    quantile(values, q) - quantile(base, q)
  /** One comparison line: the added time of `ours` over `base`, at p50 and p99, and their ratio at p50. */
  const compare = (label: string, ours: readonly number[], oursBare: readonly number[]) =>
    console.log(
      `${label}: +p50 ${added(ours, oursBare, 0.5).toFixed(2)} vs ${added(baseAgent, baseBare, 0.5).toFixed(2)} ms` +
        ` (${(added(ours, oursBare, 0.5) / added(baseAgent, baseBare, 0.5)).toFixed(2)}x),` +
        ` +p99 ${added(ours, oursBare, 0.99).toFixed(2)} vs ${added(baseAgent, baseBare, 0.99).toFixed(2)} ms`,
    )
  console.log('side by side with the BENCH_BASELINE stack, each over its own bare handler:')
  console.log(
    `  bare handler: p50 ${quantile(bare, 0.5).toFixed(2)} vs ${quantile(baseBare, 0.5).toFixed(2)} ms` +
      ` (${(quantile(bare, 0.5) / quantile(baseBare, 0.5)).toFixed(2)}x), p99 ${quantile(bare, 0.99).toFixed(2)} vs ${quantile(baseBare, 0.99).toFixed(2)} ms`,
  )
  compare('  this checkout (listing kept) vs BENCH_BASELINE stack', kept, bare)
  const sameHandler = times.get('baseline') ?? []
  compare("  BENCH_BASELINE's handler on this stack vs on its own", sameHandler, bare)
}
console.log('(+p50, +p99: added over the bare handler; goal: at most 10 ms added at p50)')
for (const prompt of remoteMemory)
  console.log(
    `memory calls per invocation, ${handlers.get(prompt)?.label}: ${callsPerInvocation.get(prompt)}`,
  )

if (baselineStack !== undefined) {
  const before = await memoryCalls(baselineStack.localUrl)
  for (let index = 0; index < MEMORY_CALL_SAMPLES; index += 1)
    await invoke(baselineStack.url, 'baseline-stack')
  const after = await memoryCalls(baselineStack.localUrl)
  const perInvocation = Object.entries(after)
    .map(
      ([operation, calls]) => [operation, (calls - (before[operation] ?? 0)) / MEMORY_CALL_SAMPLES] as const,
    )
    .filter(([, calls]) => calls > 0)
  console.log(
    `memory calls per invocation, agent, BENCH_BASELINE stack: ${JSON.stringify(Object.fromEntries(perInvocation))}`,
  )
  await baselineStack.stop()
}
await server.close()

/** One cold start: spawn, first Healthy /ping, first answered invocation (ms from the spawn). */
async function coldStart(entrypoint: string): Promise<{ ping: number; answer: number }> {
  const started = performance.now()
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', entrypoint], {
    env: { ...process.env, ...runtimeEnv },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim().split('\n')[0] as string))
      child.once('exit', (code) => reject(new Error(`the runtime exited with ${code}`)))
    })
    for (;;) {
      try {
        const ping = (await (await fetch(`${url}/ping`)).json()) as { status: string }
        if (ping.status === 'Healthy') break
      } catch {
        // Not answering yet.
      }
    }
    const ping = performance.now() - started
    await invoke(url, 'hello')
    return { ping, answer: performance.now() - started }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

/** Milliseconds from spawning a Node process that does nothing to its exit. */
async function emptyProcess(): Promise<number> {
  const started = performance.now()
  const child = spawn(NODE, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  return performance.now() - started
}

const runtimeEnv = {
  PORT: '0',
  RUNTIME_HOST: '127.0.0.1',
  MODEL_PROVIDER: 'demo',
  MEMORY_ID: memoryId,
  AGENTCORE_ENDPOINT: local.url,
  AWS_ACCESS_KEY_ID: local.clientConfig.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: local.clientConfig.credentials.secretAccessKey,
  MCP_SERVER_URL: mcp.url,
  MCP_BEARER_TOKEN: MCP_TOKEN,
}
const entrypoints = new Map<string, string>([
  ['src/entrypoint.ts', new URL('../../src/entrypoint.ts', import.meta.url).pathname],
])
if (BASELINE !== undefined) entrypoints.set('BENCH_BASELINE entrypoint', join(BASELINE, 'src/entrypoint.ts'))
const floor: number[] = []
const starts = new Map<string, { ping: number[]; answer: number[] }>(
  [...entrypoints.keys()].map((name) => [name, { ping: [], answer: [] }]),
)
for (let index = 0; index < COLD_STARTS; index += 1) {
  floor.push(await emptyProcess())
  for (const [name, path] of entrypoints) {
    const { ping, answer } = await coldStart(path)
    starts.get(name)?.ping.push(ping)
    starts.get(name)?.answer.push(answer)
  }
}
const emptyMedian = quantile(floor, 0.5)
console.log(
  `\n2. Cold start, ${COLD_STARTS} runs each, rotating (ms, median and max; ratio of medians to the empty process)`,
)
console.log(`${''.padEnd(60)} ${'median'.padStart(9)} ${'max'.padStart(9)} ${'ratio'.padStart(9)}`)
const startRow = (label: string, values: readonly number[]) =>
  console.log(
    `${label.padEnd(60)} ${cell(quantile(values, 0.5), 0)} ${cell(Math.max(...values), 0)} ${cell(
      quantile(values, 0.5) / emptyMedian,
      1,
    )}x`,
  )
startRow('node -e "" (process start and exit)', floor)
for (const [name, { ping, answer }] of starts) {
  startRow(`${name} to its first Healthy /ping`, ping)
  startRow(`${name} to its first answered invocation`, answer)
}
console.log('(goal: the first Healthy /ping within 10 times the empty process)')

memoryClient.destroy()
await stopServiceProcess(mcp, 'SIGTERM')
await local.stop()
