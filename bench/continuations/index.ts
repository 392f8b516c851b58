/**
 * Benchmark of continuations: a background task of a tool with `onEnd: 'wake'` ends, the MCP
 * server writes its result into the caller's memory session and wakes that session's agent
 * runtime, which runs a continuation turn. The local AgentCore service (`longrun local`), the MCP
 * server (`mcp-process.ts`: the server the entrypoint builds from the environment, MCP_WAKE_RUNTIME
 * set, plus a `wait_until` tool) and the runtime (`src/entrypoint.ts`, demo model, `model-timer.ts`
 * preloaded) each run as their own process; users speak to the runtime through the real
 * InvokeAgentRuntime client and the local gateway, and wakes take the same way. Times are read from
 * the processes' own log lines as they arrive here.
 *  1. One wake at a time, each in a new session ("Train a model called … for 5 epochs", whose
 *     continuation reports the result): from the task's `task ended` to the MCP server's `session
 *     woken` (the runtime answers a wake once the continuation's answer is stored in memory), p50
 *     and p99, split into the result's delivery, the wait until the wake reaches the runtime, the
 *     runtime's turn and the model's part; beside it, as the baseline, a user turn of the same shape
 *     (one model call, no tool: "What happened to my training?") in the same session. Memory calls
 *     per wake and per such user turn, from the local service's per-operation counts (`GET
 *     /_local/stats`).
 *  2. 200 `wait_until` tasks, 4 in each of 50 sessions (one user turn each before), started over MCP
 *     with the headers the runtime's connection sends, ending at the same moment: whether every
 *     continuation runs exactly once (continuation answers per task, counted in memory); whether two
 *     turns of one session ever overlap, seen by a recording proxy between a fresh runtime and the
 *     local service (a turn spans its task's first Memory request to its last Memory answer, so the
 *     next turn's first request must come after it); the wakes the runtime refused as SESSION_BUSY
 *     (the MCP server retries them); the latency under that load; and the runtime's RSS (start,
 *     peak, end).
 * BENCH_QUICK=1 shrinks the run.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { Agent, createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  CONTINUATION_HEADERS,
  CONTINUATION_METADATA_KEY,
  TASK_ID_METADATA_KEY,
} from '../../src/contract/index.ts'
import { formatCompositeSessionHeader } from '../../src/mcp/index.ts'
import { decodeMemoryEvent, listSessionEvents } from '../../src/memory/index.ts'
import { startLocalServiceProcess } from '../local-service-process.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const WARMUP = QUICK ? 2 : 3
const WAKES = QUICK ? 10 : 50
const SESSIONS = QUICK ? 10 : 50
const TASKS_PER_SESSION = 4
const TOTAL = SESSIONS * TASKS_PER_SESSION
/** Part 2's tasks end this long after the first is started (every start is over well before). */
const LEAD_MS = QUICK ? 3_000 : 6_000
const EPOCH_DELAY_MS = 100
const ACTOR_ID = 'default'
const MCP_TOKEN = 'bench-continuations-mcp-token'
const ADMIN_TOKEN = 'bench-continuations-admin-token'
const RUNTIME_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/bench_continuations-0123456789'
/** The message of `model-timer.ts`'s line. */
const MODEL_CALL_LINE = 'bench model call'
const MB = 1024 * 1024

/** One log line of a child process, parsed, with the time it arrived here. */
interface LogLine {
  readonly at: number
  readonly message: string
  readonly fields: Readonly<Record<string, string>>
}

/** Told of every log line of every child, so a wait can look again. */
const arrivals = new EventEmitter()
arrivals.setMaxListeners(0)

/** `key=value … | message` as `formatLogLine` writes it; undefined for any other line. */
function parseLogLine(text: string, at: number): LogLine | undefined {
  const cut = text.indexOf(' | ')
  if (cut < 0) return undefined
  const fields: Record<string, string> = {}
  for (const match of text.slice(0, cut).matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = match[2] as string
    fields[match[1] as string] = value.startsWith('"') ? (JSON.parse(value) as string) : value
  }
  return { at, message: text.slice(cut + 3), fields }
}

/** A child process whose first stdout line is its URL and whose stderr lines are log lines. */
interface LoggedProcess {
  readonly child: ChildProcess
  readonly url: string
  stop(): Promise<void>
}

async function startLogged(
  script: string,
  env: Record<string, string>,
  onLine: (line: LogLine) => void,
  execArgv: readonly string[] = [],
): Promise<LoggedProcess> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...execArgv, script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let tail = ''
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (text) => {
    const at = performance.now()
    tail = `${tail}${text}\n`.slice(-4000)
    const line = parseLogLine(text, at)
    if (line === undefined) return
    onLine(line)
    arrivals.emit('line')
  })
  const exited = once(child, 'exit').then(() => {
    throw new Error(`${script} exited early: ${tail}`)
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const [url] = (await Promise.race([once(lines, 'line'), exited])) as [string]
  return {
    child,
    url,
    async stop() {
      exited.catch(() => {})
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = once(child, 'exit')
      child.kill('SIGTERM')
      await gone
    },
  }
}

/** Waits until `check` gives a value, looking again at every log line (and every 50 ms). */
async function until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    const left = deadline - performance.now()
    if (left <= 0) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`)
    try {
      await once(arrivals, 'line', { signal: AbortSignal.timeout(Math.min(left, 50)) })
    } catch {
      // Looked again after 50 ms without a line.
    }
  }
}

// What the processes said, by task and by session.
const ended = new Map<string, number>()
const delivered = new Map<string, number>()
const woken = new Map<string, { at: number; outcome: string }[]>()
/** The runtimes' answered invocations, by memory session, in order: when logged, and how long. */
const invocations = new Map<string, { at: number; ms: number }[]>()
const modelCalls: { at: number; own: number; wall: number }[] = []
let refusedBusy = 0

const onMcpLine = (line: LogLine) => {
  const taskId = line.fields.taskId
  if (taskId === undefined) return
  if (line.message === 'task ended') ended.set(taskId, line.at)
  else if (line.message === 'task result written to memory') delivered.set(taskId, line.at)
  else if (line.message === 'session woken')
    woken.set(taskId, [...(woken.get(taskId) ?? []), { at: line.at, outcome: line.fields.outcome ?? '' }])
}
const onRuntimeLine = (line: LogLine) => {
  if (line.message === MODEL_CALL_LINE)
    modelCalls.push({ at: line.at, own: Number(line.fields.own_ms), wall: Number(line.fields.wall_ms) })
  else if (line.message === 'turn refused: the session has a turn in progress') refusedBusy += 1
  else if (line.message === 'invocation' && line.fields.session_id !== undefined) {
    const session = line.fields.session_id
    invocations.set(session, [
      ...(invocations.get(session) ?? []),
      { at: line.at, ms: Number(line.fields.ms) },
    ])
  }
}

process.env.AGENTCORE_LOCAL_ADMIN_TOKEN = ADMIN_TOKEN
const dataDir = `/tmp/longrun-bench-continuations-${process.pid}`
const local = await startLocalServiceProcess()
const memoryId = await local.createMemory('bench_continuations')
const credentials = local.clientConfig.credentials
const mcp = await startLogged(
  new URL('./mcp-process.ts', import.meta.url).pathname,
  {
    MCP_PORT: '0',
    MCP_HOST: '127.0.0.1',
    MCP_BEARER_TOKEN: MCP_TOKEN,
    AGENTCORE_ENDPOINT: local.url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    LONGRUN_DATA_DIR: dataDir,
    MCP_TRAINING_EPOCH_DELAY_MS: String(EPOCH_DELAY_MS),
    MCP_WAKE_RUNTIME: RUNTIME_ARN,
  },
  onMcpLine,
)

/** Starts a runtime process whose memory is at `agentCoreEndpoint`, and routes the ARN to it. */
async function startRuntime(agentCoreEndpoint: string): Promise<LoggedProcess> {
  const started = await startLogged(
    new URL('../../src/entrypoint.ts', import.meta.url).pathname,
    {
      PORT: '0',
      RUNTIME_HOST: '127.0.0.1',
      MODEL_PROVIDER: 'demo',
      MEMORY_ID: memoryId,
      AGENTCORE_ENDPOINT: agentCoreEndpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      MCP_SERVER_URL: mcp.url,
      MCP_BEARER_TOKEN: MCP_TOKEN,
    },
    onRuntimeLine,
    ['--import', new URL('./model-timer.ts', import.meta.url).pathname],
  )
  await admin('PUT', '/_local/runtimes', { [RUNTIME_ARN]: started.url })
  return started
}

/** A call of the local service's admin endpoints. */
async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${local.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return response.json()
}

/** Calls the local service received so far, per operation. */
async function calls(): Promise<Record<string, number>> {
  const stats = (await admin('GET', '/_local/stats')) as Record<string, { calls: number }>
  return Object.fromEntries(Object.entries(stats).map(([operation, value]) => [operation, value.calls]))
}

/** The calls between two counts, per operation, divided by `divisor`. */
function callsBetween(
  before: Record<string, number>,
  after: Record<string, number>,
  divisor = 1,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([operation, count]) => [operation, (count - (before[operation] ?? 0)) / divisor] as const)
      .filter(([, count]) => count > 0),
  )
}

/** Adds per-operation counts into `into`. */
function addCalls(into: Record<string, number>, more: Record<string, number>): void {
  for (const [operation, count] of Object.entries(more)) into[operation] = (into[operation] ?? 0) + count
}

const client = new BedrockAgentCoreClient(local.clientConfig)

/** One user turn through InvokeAgentRuntime (a JSON answer); its time as the caller sees it. */
async function invoke(
  sessionId: string,
  prompt: string,
): Promise<{ response: string; tasks: { task_id: string; tool: string }[]; ms: number }> {
  const started = performance.now()
  const output = await client.send(
    new InvokeAgentRuntimeCommand({
      agentRuntimeArn: RUNTIME_ARN,
      qualifier: 'DEFAULT',
      runtimeSessionId: sessionId,
      payload: new TextEncoder().encode(JSON.stringify({ prompt })),
      contentType: 'application/json',
    }),
  )
  const answer = JSON.parse((await output.response?.transformToString()) ?? '') as {
    response: string
    tasks: { task_id: string; tool: string }[]
  }
  return { ...answer, ms: performance.now() - started }
}

/** A runtime session id of 40 characters (the Runtime wants 33 or more). */
const sessionIdFor = (name: string) => `${name}-${'0'.repeat(40)}`.slice(0, 40)

/** A process's resident set, from /proc (this benchmark's RSS figures need Linux). */
function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb) * 1024
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}
const cell = (value: number, digits = 1) => value.toFixed(digits).padStart(9)
const row = (label: string, values: readonly number[], digits = 1) =>
  console.log(
    `${label.padEnd(72)} ${cell(quantile(values, 0.5), digits)} ${cell(quantile(values, 0.99), digits)}`,
  )
const header = () => console.log(`${''.padEnd(72)} ${'p50'.padStart(9)} ${'p99'.padStart(9)}`)
const formatCalls = (perOperation: Record<string, number>) =>
  Object.entries(perOperation)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([operation, count]) => `${operation} ${Number(count.toFixed(2))}`)
    .join(', ')
const sum = (perOperation: Record<string, number>) => Object.values(perOperation).reduce((a, b) => a + b, 0)
let failures = 0
const check = (ok: boolean, what: string) => {
  if (ok) return
  failures += 1
  console.log(`CHECK FAILED: ${what}`)
}

// ---- 1. One wake at a time ----
const firstRuntime = await startRuntime(local.url)
const wake = { total: [] as number[], delivery: [] as number[], reach: [] as number[], turn: [] as number[] }
const wakeModel = { own: [] as number[], wall: [] as number[], calls: 0 }
const user = { total: [] as number[], turn: [] as number[] }
const userModel = { own: [] as number[], wall: [] as number[] }
const wakeMemory: Record<string, number> = {}
const userMemory: Record<string, number> = {}
/** The model calls logged since `mark`, summed. */
const modelSince = (mark: number) => {
  const made = modelCalls.slice(mark)
  return {
    count: made.length,
    own: made.reduce((total, call) => total + call.own, 0),
    wall: made.reduce((total, call) => total + call.wall, 0),
  }
}
/** Waits until the runtime has logged `count` answered invocations of `sessionId`. */
const answered = (sessionId: string, count: number) =>
  until(
    () => ((invocations.get(sessionId)?.length ?? 0) >= count ? true : undefined),
    30_000,
    `invocation ${count} of ${sessionId}`,
  )
for (let index = 0; index < WARMUP + WAKES; index += 1) {
  const sessionId = sessionIdFor(`bench-wake-${index}`)
  const started = await invoke(sessionId, `Train a model called wake-${index} for 5 epochs`)
  const taskId = started.tasks[0]?.task_id
  if (taskId === undefined) throw new Error(`the user turn started no task: ${started.response}`)
  await answered(sessionId, 1)
  const beforeWake = await calls()
  const modelMark = modelCalls.length
  // The wake's turn is the session's second invocation; the MCP server logs the wake's answer.
  await until(() => (woken.has(taskId) ? true : undefined), 30_000, `the continuation of ${taskId}`)
  await answered(sessionId, 2)
  const afterWake = await calls()
  const wakeModelUse = modelSince(modelMark)
  const userMark = modelCalls.length
  const back = await invoke(sessionId, 'What happened to my training?')
  await answered(sessionId, 3)
  const afterUser = await calls()
  const userModelUse = modelSince(userMark)
  check(back.tasks.length === 0, 'the user turn after a continuation started nothing')
  if (index < WARMUP) continue
  const end = ended.get(taskId) as number
  const turn = invocations.get(sessionId)?.[1] as { at: number; ms: number }
  wake.total.push((woken.get(taskId)?.[0]?.at as number) - end)
  wake.delivery.push((delivered.get(taskId) as number) - end)
  wake.reach.push(turn.at - turn.ms - (delivered.get(taskId) as number))
  wake.turn.push(turn.ms)
  wakeModel.own.push(wakeModelUse.own)
  wakeModel.wall.push(wakeModelUse.wall)
  wakeModel.calls += wakeModelUse.count
  user.total.push(back.ms)
  user.turn.push(invocations.get(sessionId)?.[2]?.ms as number)
  userModel.own.push(userModelUse.own)
  userModel.wall.push(userModelUse.wall)
  addCalls(wakeMemory, callsBetween(beforeWake, afterWake))
  addCalls(userMemory, callsBetween(afterWake, afterUser))
}
await firstRuntime.stop()

console.log(
  `Continuations: the local service, the MCP server and the runtime each in its own process, demo model`,
)
console.log(`\n1. ${WAKES} wakes one at a time, each in a new session (after ${WARMUP} of warm-up), ms`)
header()
row("task ended -> the continuation's answer (MCP server: `session woken`)", wake.total)
row('  task ended -> its result written to memory', wake.delivery)
row('  result written -> the wake reaches the runtime', wake.reach)
row("  the runtime's continuation turn (its `invocation` line)", wake.turn)
row('    of which the model, from the call to its last event consumed', wakeModel.wall, 2)
row("    of which the model's own code", wakeModel.own, 2)
row('baseline: a user turn of the same shape through InvokeAgentRuntime', user.total)
row("  the runtime's turn (its `invocation` line)", user.turn)
row('    of which the model, from the call to its last event consumed', userModel.wall, 2)
console.log(
  `(goal: p50 under 1000 ms. ${(wakeModel.calls / WAKES).toFixed(1)} model call per continuation: the demo ` +
    `model is ${((100 * quantile(wakeModel.wall, 0.5)) / quantile(wake.total, 0.5)).toFixed(1)}% of the p50; ` +
    'the rest is the delivery, the wake and the turn)',
)
const { InvokeAgentRuntime: wakeInvokes, ...wakeMemoryPer } = callsBetween({}, wakeMemory, WAKES)
const { InvokeAgentRuntime: _userInvokes, ...userMemoryPer } = callsBetween({}, userMemory, WAKES)
console.log(`\nMemory requests the local service received (mean of ${WAKES})`)
console.log(
  `per wake:      ${sum(wakeMemoryPer).toFixed(2)} (${formatCalls(wakeMemoryPer)}), of which 1 CreateEvent is ` +
    `the MCP server's result write; ${wakeInvokes ?? 0} InvokeAgentRuntime (the wake itself)`,
)
console.log(`per user turn: ${sum(userMemoryPer).toFixed(2)} (${formatCalls(userMemoryPer)}) (baseline)`)

// ---- 2. Many tasks ending together ----
/** A Memory request of the second runtime, as the recording proxy saw it. */
interface Recorded {
  readonly session: string | undefined
  readonly taskIds: readonly string[]
  readonly sent: number
  answered: number
}
const recorded: Recorded[] = []
const upstream = new URL(local.url)
const keepAlive = new Agent({ keepAlive: true })
const proxy = createServer((incoming, outgoing) => {
  const sent = performance.now()
  const chunks: Buffer[] = []
  incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
  incoming.on('end', () => {
    const body = Buffer.concat(chunks)
    const text = `${decodeURIComponent(incoming.url ?? '')} ${body.toString()}`
    const entry: Recorded = {
      session: /bench-burst-\w+-\d+-0+/.exec(text)?.[0],
      taskIds: [...text.matchAll(/"stringValue":"([A-Za-z0-9_-]+)"/g)].map((match) => match[1] as string),
      sent,
      answered: Number.NaN,
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
        agent: keepAlive,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    forward.on('error', () => outgoing.destroy())
    outgoing.on('finish', () => {
      entry.answered = performance.now()
      recorded.push(entry)
    })
    forward.end(body)
  })
})
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
const runtime = await startRuntime(proxyUrl)
const runtimePid = runtime.child.pid as number

/** What one burst came to. */
interface Burst {
  readonly startSeconds: number
  readonly leadSeconds: number
  readonly endSpreadMs: number
  readonly exactlyOnce: number
  readonly none: number
  readonly more: number
  readonly outcomes: string
  readonly turnsSeen: number
  readonly pairs: number
  readonly overlaps: number
  readonly closestMs: number
  readonly requestsPerTurn: string
  readonly wakesSent: number
  readonly refused: number
  readonly latencies: readonly number[]
  readonly drainSeconds: number
  readonly perSecond: number
  readonly memoryPerContinuation: Record<string, number>
  readonly rss: readonly number[]
}

/**
 * TOTAL `wait_until` tasks, TASKS_PER_SESSION in each of SESSIONS new sessions, ending together.
 * `grouped`: one millisecond apart by session, so the tasks of a session end one after another and
 * their wakes are sent at the same time (each finds another's turn under way); otherwise all at the
 * same millisecond, in the order they were started (a session's tasks far apart in that order).
 */
async function burst(name: string, grouped: boolean): Promise<Burst> {
  const sessions = Array.from({ length: SESSIONS }, (_, index) =>
    sessionIdFor(`bench-burst-${name}-${index}`),
  )
  // Each session begins with the user, as any does.
  await Promise.all(sessions.map((sessionId) => invoke(sessionId, 'Hello, I will be away for a while.')))
  const rss: number[] = [rssOf(runtimePid)]
  const sampler = setInterval(() => rss.push(rssOf(runtimePid)), 100)
  const refusedBefore = refusedBusy
  const recordedBefore = recorded.length
  const before = await calls()
  const startedAt = performance.now()
  const endAtMs = Date.now() + LEAD_MS
  /** The session of each task. */
  const taskSession = new Map<string, string>()
  const mcpClients = await Promise.all(
    sessions.map(async (sessionId, sessionIndex) => {
      const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
        requestInit: {
          headers: {
            authorization: `Bearer ${MCP_TOKEN}`,
            'mcp-session-id': formatCompositeSessionHeader({ sessionId, memoryId, actorId: ACTOR_ID }),
            [CONTINUATION_HEADERS.runtimeSession]: sessionId,
          },
        },
      })
      const mcpClient = new Client({ name: 'bench-continuations', version: '1.0.0' }, { capabilities: {} })
      await mcpClient.connect(transport)
      const atMs = endAtMs + (grouped ? sessionIndex : 0)
      for (let index = 0; index < TASKS_PER_SESSION; index += 1) {
        const result = (await mcpClient.callTool({ name: 'wait_until', arguments: { at_ms: atMs } })) as {
          structuredContent?: { task_id?: string }
        }
        const taskId = result.structuredContent?.task_id
        if (taskId === undefined) throw new Error(`wait_until started no task: ${JSON.stringify(result)}`)
        taskSession.set(taskId, sessionId)
      }
      return mcpClient
    }),
  )
  const allStarted = performance.now()
  const tasks = [...taskSession.keys()]
  await until(
    () => (tasks.every((taskId) => woken.has(taskId)) ? true : undefined),
    300_000,
    `the continuations of ${TOTAL} tasks`,
  )
  const allAnswered = performance.now()
  const after = await calls()
  clearInterval(sampler)
  rss.push(rssOf(runtimePid))
  for (const mcpClient of mcpClients) await mcpClient.close()

  // Exactly once, as memory tells it: the continuation answers stored per task.
  const answersPerTask = new Map<string, number>(tasks.map((taskId) => [taskId, 0]))
  for (const sessionId of sessions) {
    for (const event of await listSessionEvents(client, { memoryId, actorId: ACTOR_ID, sessionId })) {
      const taskId = event.metadata?.[TASK_ID_METADATA_KEY]?.stringValue
      if (taskId === undefined || event.metadata?.[CONTINUATION_METADATA_KEY] === undefined) continue
      for (const message of decodeMemoryEvent(event).messages) {
        const isAnswer =
          message.role === 'assistant' &&
          !message.content.some((block) => block.type === 'toolUseBlock') &&
          message.content.some((block) => block.type === 'textBlock' && block.text !== '')
        if (isAnswer) answersPerTask.set(taskId, (answersPerTask.get(taskId) ?? 0) + 1)
      }
    }
  }
  // No overlap, as the proxy saw it: per session, each continuation turn from its task's first
  // Memory request to its task's last Memory answer; the next turn's first request must follow it.
  const turns = new Map<string, { session: string; first: number; last: number; requests: number }>()
  for (const entry of recorded.slice(recordedBefore)) {
    if (entry.session === undefined) continue
    for (const taskId of entry.taskIds) {
      if (taskSession.get(taskId) !== entry.session) continue
      const turn = turns.get(taskId) ?? {
        session: entry.session,
        first: Infinity,
        last: -Infinity,
        requests: 0,
      }
      turns.set(taskId, {
        session: entry.session,
        first: Math.min(turn.first, entry.sent),
        last: Math.max(turn.last, entry.answered),
        requests: turn.requests + 1,
      })
    }
  }
  let overlaps = 0
  let pairs = 0
  let closestMs = Infinity
  for (const sessionId of sessions) {
    const spans = [...turns.values()]
      .filter((turn) => turn.session === sessionId)
      .sort((a, b) => a.first - b.first)
    for (let index = 1; index < spans.length; index += 1) {
      const gap = (spans[index]?.first as number) - (spans[index - 1]?.last as number)
      pairs += 1
      closestMs = Math.min(closestMs, gap)
      if (gap <= 0) overlaps += 1
    }
  }
  const perTask = [...answersPerTask.values()]
  const endTimes = tasks.map((taskId) => ended.get(taskId) as number)
  const firstEnd = Math.min(...endTimes)
  const lastEnd = Math.max(...endTimes)
  const outcomes = new Map<string, number>()
  for (const taskId of tasks)
    for (const { outcome } of woken.get(taskId) ?? []) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  const { InvokeAgentRuntime: wakesSent = 0, ...memory } = callsBetween(before, after)
  const requests = [...turns.values()].map((turn) => turn.requests)
  return {
    startSeconds: (allStarted - startedAt) / 1000,
    leadSeconds: (firstEnd - allStarted) / 1000,
    endSpreadMs: lastEnd - firstEnd,
    exactlyOnce: perTask.filter((count) => count === 1).length,
    none: perTask.filter((count) => count === 0).length,
    more: perTask.filter((count) => count > 1).length,
    outcomes: [...outcomes].map(([outcome, count]) => `${outcome} ${count}`).join(', '),
    turnsSeen: turns.size,
    pairs,
    overlaps,
    closestMs,
    requestsPerTurn: `${Math.min(...requests)}-${Math.max(...requests)}`,
    wakesSent,
    refused: refusedBusy - refusedBefore,
    latencies: tasks.map((taskId) => (woken.get(taskId)?.[0]?.at as number) - (ended.get(taskId) as number)),
    drainSeconds: (allAnswered - lastEnd) / 1000,
    perSecond: TOTAL / ((allAnswered - firstEnd) / 1000),
    // Besides the MCP server's result write (one CreateEvent per task).
    memoryPerContinuation: callsBetween(
      {},
      { ...memory, CreateEvent: (memory.CreateEvent ?? 0) - TOTAL },
      TOTAL,
    ),
    rss,
  }
}

const rounds = [
  { label: 'interleaved', result: await burst('a', false) },
  { label: 'by session', result: await burst('b', true) },
]
console.log(`\n2. ${TOTAL} tasks, ${TASKS_PER_SESSION} in each of ${SESSIONS} sessions, ending together`)
console.log(
  "interleaved: all at one millisecond, each session's tasks far apart in the order of their ends;\n" +
    "by session: one millisecond apart by session, so each session's wakes are sent together",
)
console.log(`${''.padEnd(60)} ${rounds.map(({ label }) => label.padStart(14)).join(' ')}`)
const line = (label: string, value: (result: Burst) => string) =>
  console.log(`${label.padEnd(60)} ${rounds.map(({ result }) => value(result).padStart(14)).join(' ')}`)
line('started over MCP in (s)', (result) => result.startSeconds.toFixed(1))
line('the last start before the first end (s)', (result) => result.leadSeconds.toFixed(1))
line('first task end to last (ms)', (result) => result.endSpreadMs.toFixed(0))
line(`continuation answers in memory: exactly one (of ${TOTAL})`, (result) => String(result.exactlyOnce))
line('  none / more than one', (result) => `${result.none} / ${result.more}`)
line("the wakes' outcomes", (result) => result.outcomes)
line('continuation turns the proxy saw', (result) => String(result.turnsSeen))
line('  Memory requests naming their task, per turn', (result) => result.requestsPerTurn)
line(
  'turns of one session overlapping (consecutive pairs)',
  (result) => `${result.overlaps} of ${result.pairs}`,
)
line('  the closest two turns of a session (ms apart)', (result) => result.closestMs.toFixed(1))
line('InvokeAgentRuntime calls (wakes sent)', (result) => String(result.wakesSent))
line('  refused as SESSION_BUSY, retried by the MCP server', (result) => String(result.refused))
line('task ended -> continuation answered, p50 (ms)', (result) => quantile(result.latencies, 0.5).toFixed(0))
line('task ended -> continuation answered, p99 (ms)', (result) => quantile(result.latencies, 0.99).toFixed(0))
line('the last answer after the last end (s)', (result) => result.drainSeconds.toFixed(1))
line('continuations per second', (result) => result.perSecond.toFixed(1))
line(
  "Memory requests per continuation (besides the result's write)",
  (result) => `${sum(result.memoryPerContinuation).toFixed(2)}`,
)
line('runtime RSS at the start (MB)', (result) => ((result.rss[0] as number) / MB).toFixed(1))
line('runtime RSS, peak (MB)', (result) => (Math.max(...result.rss) / MB).toFixed(1))
line('runtime RSS at the end (MB)', (result) => ((result.rss.at(-1) as number) / MB).toFixed(1))
console.log(
  `(Memory requests per continuation: ${rounds.map(({ label, result }) => `${label} ${formatCalls(result.memoryPerContinuation)}`).join('; ')};` +
    ' RSS sampled every 100 ms)',
)
for (const { label, result } of rounds) {
  check(result.exactlyOnce === TOTAL, `${label}: every continuation ran exactly once`)
  check(result.overlaps === 0, `${label}: no two turns of one session overlapped`)
  check(result.turnsSeen === TOTAL, `${label}: the proxy saw every continuation turn`)
}

client.destroy()
await runtime.stop()
await new Promise<void>((resolve) => proxy.close(() => resolve()))
keepAlive.destroy()
await mcp.stop()
await local.stop()
await rm(dataDir, { recursive: true, force: true })
if (failures > 0) process.exitCode = 1
