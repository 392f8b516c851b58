/**
 * Benchmark of the agent runtime, measured side by side in one run:
 *  1. The time an invocation adds over a bare handler that answers at once on the same server:
 *     one runtime server whose handler answers the prompt `__bare__` itself and gives every other
 *     prompt to the agent handler (demo model, one MCP tool listing, memory restore and write).
 *     Calls alternate bare, agent, bare, ... over HTTP; p50 and p99 of each, and the memory calls
 *     one agent invocation makes. The local AgentCore service and the MCP server run in their own
 *     processes, as remote services would.
 *  2. Cold start: from spawning `node src/entrypoint.ts` to its first Healthy `/ping`, beside the
 *     start of a Node process that does nothing (the floor every cold start pays).
 * BENCH_QUICK=1 shrinks the run.
 */
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { DemoModel } from '../../src/demo-model/index.ts'
import {
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
const MCP_TOKEN = 'bench-mcp-token'
const ADMIN_TOKEN = 'bench-admin-token-0123456789'
const quiet = { warn: () => {} }

process.env.AGENTCORE_LOCAL_ADMIN_TOKEN = ADMIN_TOKEN
const local = await startLocalServiceProcess()
const memoryId = await local.createMemory('bench_runtime')
const mcp = await startServiceProcess(new URL('../../src/mcp-server/main.ts', import.meta.url).pathname, {
  MCP_PORT: '0',
  MCP_HOST: '127.0.0.1',
  MCP_BEARER_TOKEN: MCP_TOKEN,
  AGENTCORE_ENDPOINT: local.url,
  AWS_ACCESS_KEY_ID: local.clientConfig.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: local.clientConfig.credentials.secretAccessKey,
  LONGRUN_DATA_DIR: `/tmp/longrun-bench-runtime-${process.pid}`,
})
const memoryClient = new BedrockAgentCoreClient({ ...local.clientConfig, maxAttempts: 1 })
const agentHandler = createAgentInvocationHandler({
  model: new DemoModel(),
  memoryClient,
  mcp: { url: mcp.url, bearerToken: MCP_TOKEN },
  pendingWrites: new PendingWrites({ onOwedChange: () => {}, logger: quiet }),
  logger: quiet,
})
const handler: InvocationHandler = (invocation, emit) =>
  invocation.prompt === '__bare__'
    ? Promise.resolve({ response: 'bare', session_id: invocation.runtimeSessionId, tasks: [] })
    : agentHandler(invocation, emit)
const server = await AgentRuntimeServer.start({
  handler,
  port: 0,
  host: '127.0.0.1',
  defaultMemoryId: memoryId,
})

let session = 0
async function invoke(prompt: string): Promise<number> {
  session += 1
  const started = performance.now()
  const response = await fetch(`${server.url}/invocations`, {
    method: 'POST',
    headers: { [SESSION_ID_HEADER]: `bench-session-${session}-${'0'.repeat(32)}` },
    body: JSON.stringify({ prompt }),
  })
  const body = (await response.json()) as { response?: string }
  if (response.status !== 200 || !body.response) throw new Error(`invocation failed: ${JSON.stringify(body)}`)
  return performance.now() - started
}

async function memoryCalls(): Promise<Record<string, number>> {
  const response = await fetch(`${local.url}/_local/stats`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  const stats = (await response.json()) as Record<string, { calls: number }>
  return Object.fromEntries(Object.entries(stats).map(([operation, value]) => [operation, value.calls]))
}

for (let index = 0; index < WARMUP; index += 1) {
  await invoke('__bare__')
  await invoke('hello')
}
const bare: number[] = []
const agent: number[] = []
const before = await memoryCalls()
for (let index = 0; index < CALLS; index += 1) {
  bare.push(await invoke('__bare__'))
  agent.push(await invoke('hello'))
}
const after = await memoryCalls()
const perInvocation = Object.fromEntries(
  Object.entries(after)
    .map(([operation, calls]) => [operation, (calls - (before[operation] ?? 0)) / CALLS] as const)
    .filter(([, calls]) => calls > 0),
)

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}
const row = (name: string, values: number[]) =>
  `${name.padEnd(44)} ${quantile(values, 0.5).toFixed(2).padStart(8)} ${quantile(values, 0.99).toFixed(2).padStart(8)}`
console.log(`\n1. Invocation latency over HTTP, ${CALLS} calls each, alternating (ms)`)
console.log(`${''.padEnd(44)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}`)
console.log(row('bare handler (answers at once)', bare))
console.log(row('agent invocation (demo model, 1 MCP listing)', agent))
const added50 = quantile(agent, 0.5) - quantile(bare, 0.5)
const added99 = quantile(agent, 0.99) - quantile(bare, 0.99)
console.log(
  `${'added by the agent invocation'.padEnd(44)} ${added50.toFixed(2).padStart(8)} ${added99.toFixed(2).padStart(8)}`,
)
console.log(`memory calls per agent invocation: ${JSON.stringify(perInvocation)}`)

await server.close()
memoryClient.destroy()
await stopServiceProcess(mcp, 'SIGTERM')

/** Milliseconds from spawning `args` until `ready` resolves (or the process exits, for the floor). */
async function timeStart(args: string[], env: Record<string, string>, waitHealthy: boolean): Promise<number> {
  const started = performance.now()
  const child = spawn(NODE, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] })
  if (!waitHealthy) {
    await new Promise((resolve) => child.once('exit', resolve))
    return performance.now() - started
  }
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
  const elapsed = performance.now() - started
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  return elapsed
}

const entrypoint = new URL('../../src/entrypoint.ts', import.meta.url).pathname
const runtimeEnv = {
  PORT: '0',
  RUNTIME_HOST: '127.0.0.1',
  MODEL_PROVIDER: 'demo',
  MEMORY_ID: memoryId,
  AGENTCORE_ENDPOINT: local.url,
}
const floor: number[] = []
const cold: number[] = []
for (let index = 0; index < COLD_STARTS; index += 1) {
  floor.push(await timeStart(['-e', ''], {}, false))
  cold.push(await timeStart(['--disable-warning=ExperimentalWarning', entrypoint], runtimeEnv, true))
}
console.log(`\n2. Cold start, ${COLD_STARTS} runs each, alternating (ms)`)
console.log(`${''.padEnd(44)} ${'median'.padStart(8)} ${'max'.padStart(8)}`)
console.log(
  `${'node -e "" (process start and exit)'.padEnd(44)} ${quantile(floor, 0.5).toFixed(0).padStart(8)} ${Math.max(
    ...floor,
  )
    .toFixed(0)
    .padStart(8)}`,
)
console.log(
  `${'src/entrypoint.ts to its first Healthy /ping'.padEnd(44)} ${quantile(cold, 0.5).toFixed(0).padStart(8)} ${Math.max(
    ...cold,
  )
    .toFixed(0)
    .padStart(8)}`,
)
console.log(
  `ratio (runtime / empty process), median: ${(quantile(cold, 0.5) / quantile(floor, 0.5)).toFixed(1)}x`,
)

await local.stop()
