/**
 * Benchmark of the AgentCore Memory session manager against the local AgentCore service, all
 * figures measured side by side in one run:
 *  1. Restoring a 10,000-message session whole vs a bare ListEvents paging loop, same client, same
 *     service, in three layouts: Python's (one event per message), this manager's for turns with a
 *     tool call (two messages per event), and full batches (100 messages per event). The service
 *     runs in its own process (as a remote AgentCore Memory would); runs alternate bare, manager,
 *     bare, ... Parts 1 and 2 run first, on a fresh heap: the later parts fill this process.
 *  2. An invocation's restore on sessions of 10, 1,000 and 10,000 messages: ListEvents calls, pages
 *     and time for the whole session in the Python manager's layout, this manager's cold window and
 *     its warm window (the cache filled by the invocation before), and the memory calls of a warm
 *     invocation with one tool call.
 *  3. Memory API calls for one turn with one tool call: this manager vs the Python default
 *     behaviour (one CreateEvent per message plus an agent-state event each time), run as a
 *     mode of this manager; with an instant model and with one that takes 1.1 s per call (real
 *     latency). The defaults read again before a model call 10 s after the last read; a last pair
 *     of rows sets that interval to 1 s, so the 1.1 s model shows the cost of the read during a
 *     long invocation.
 *  4. Time the manager adds to a turn vs an agent with no session manager, with default settings
 *     and with a read before every model call (`externalSyncMinIntervalMs: 0`).
 * BENCH_QUICK=1 shrinks the sizes for a smoke run.
 */
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'
import {
  BedrockAgentCoreClient,
  CreateEventCommand,
  ListEventsCommand,
} from '@aws-sdk/client-bedrock-agentcore'
import { Agent, Message, TextBlock, ToolResultBlock, ToolUseBlock, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import { startLocalServiceProcess } from '../local-service-process.ts'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  encodeMessagePayload,
  type EventPayloadItem,
  type RestoreReport,
  SessionCache,
} from '../../src/memory/index.ts'
import { startLocalAgentCore } from '../../test/helpers/local-agentcore.ts'
import { countingClient } from '../../test/helpers/memory-session.ts'
import { type ScriptStep, ScriptedModel, type ScriptedTurn } from '../../test/helpers/scripted-model.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const RESTORE_MESSAGES = QUICK ? 1_000 : 10_000
const RESTORE_RUNS = QUICK ? 3 : 15
/** Part 2: session lengths, and runs per cell. */
const SESSION_SIZES = QUICK ? [10, 1_000] : [10, 1_000, 10_000]
const RUNS_PER_SIZE = QUICK ? 3 : 7
const TURNS = QUICK ? 10 : 60
/** Per-call latency of the "realistic" scripted model in part 1. */
const SLOW_MODEL_MS = 1_100
const ACTOR = 'bench-user'
const quiet = { warn: () => {} }

/**
 * Part 1 measures each layout in a process of its own (this file, with BENCH_RESTORE_LAYOUT set to
 * the messages per event): one layout's garbage does not slow the next one's collections.
 */
let sessions = 0
const newSessionId = () => `bench-${++sessions}`
const RESTORE_LAYOUT = process.env.BENCH_RESTORE_LAYOUT
if (RESTORE_LAYOUT !== undefined) {
  const remote = await startServiceProcess()
  try {
    const result = await compareRestore(remote.target, 'layout', Number(RESTORE_LAYOUT))
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    await remote.close()
  }
  process.exit(0)
}

const local = await startLocalAgentCore()
const { service } = local
// Retries are the manager's (as with a client it builds itself): the SDK client makes one attempt.
const client = new BedrockAgentCoreClient({ ...local.clientConfig, maxAttempts: 1 })
const memoryId = await local.createMemory('bench_memory')

const echo = tool({
  name: 'echo',
  description: 'Echoes',
  inputSchema: z.object({ say: z.string() }),
  callback: (input) => input.say,
})
const toolTurn = (n: number, modelMs = 0): ScriptStep[] => {
  const turns: ScriptedTurn[] = [
    { toolUses: [{ name: 'echo', toolUseId: `tu-${n}`, input: { say: `echo ${n}` } }] },
    { text: `answer ${n}` },
  ]
  if (modelMs === 0) return turns
  return turns.map((turn) => async () => {
    await delay(modelMs)
    return turn
  })
}

function buildAgent(
  sessionId: string | undefined,
  turns: ScriptStep[],
  config: Partial<AgentCoreMemorySessionManagerConfig> = {},
) {
  const sessionManager =
    sessionId === undefined
      ? undefined
      : new AgentCoreMemorySessionManager({
          memoryId,
          sessionId,
          actorId: ACTOR,
          client,
          logger: quiet,
          ...config,
        })
  return new Agent({
    model: new ScriptedModel(turns),
    tools: [echo],
    printer: false,
    ...(sessionManager ? { sessionManager } : {}),
  })
}

const PYTHON_DEFAULT: Partial<AgentCoreMemorySessionManagerConfig> = {
  batchSize: 1,
  syncAgentStateEveryMessage: true,
  syncExternalEvents: 'onInit',
}

function totalCalls(): { total: number; byOperation: string } {
  const counts = service.faults.counts()
  const entries = Object.entries(counts).filter(([operation]) => operation !== 'CreateMemory')
  return {
    total: entries.reduce((sum, [, stats]) => sum + stats.calls, 0),
    byOperation: entries.map(([operation, stats]) => `${operation}=${stats.calls}`).join(' '),
  }
}

/** Calls made by building an agent on a session and running one turn with one tool call. */
async function callsForOneTurn(
  config: Partial<AgentCoreMemorySessionManagerConfig>,
  existingSession: boolean,
  modelMs: number,
) {
  const sessionId = newSessionId()
  if (existingSession) await buildAgent(sessionId, toolTurn(0), config).invoke('earlier turn')
  service.faults.resetCounts()
  await buildAgent(sessionId, toolTurn(1, modelMs), config).invoke('one turn')
  return totalCalls()
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** A realistic conversation of `count` messages: questions, answers, and a tool call every few turns. */
function conversation(count: number): Message[] {
  const messages: Message[] = []
  for (let i = 0; messages.length < count; i += 1) {
    messages.push(
      new Message({
        role: 'user',
        content: [new TextBlock(`Question ${i}: ${'what about the data set '.repeat(6)}`)],
      }),
    )
    if (i % 4 === 3 && messages.length + 3 <= count) {
      messages.push(
        new Message({
          role: 'assistant',
          content: [new ToolUseBlock({ name: 'lookup', toolUseId: `t${i}`, input: { q: i } })],
        }),
      )
      messages.push(
        new Message({
          role: 'user',
          content: [
            new ToolResultBlock({
              toolUseId: `t${i}`,
              status: 'success',
              content: [new TextBlock(`rows=${i}`)],
            }),
          ],
        }),
      )
    }
    if (messages.length < count) {
      messages.push(
        new Message({
          role: 'assistant',
          content: [new TextBlock(`Answer ${i}: ${'the numbers look fine '.repeat(10)}`)],
        }),
      )
    }
  }
  return messages
}

/** Writes `messages` into a session, `perEvent` payloads per event, several writes in flight. */
async function seedSession(
  target: RestoreTarget,
  sessionId: string,
  messages: Message[],
  perEvent: number,
): Promise<number> {
  const base = Date.now() - messages.length - 10_000
  const batches: EventPayloadItem[][] = []
  for (let i = 0; i < messages.length; i += perEvent) {
    batches.push(
      messages
        .slice(i, i + perEvent)
        .map((message, j) => encodeMessagePayload(message, { messageId: i + j }) as EventPayloadItem),
    )
  }
  let next = 0
  const worker = async () => {
    while (next < batches.length) {
      const index = next++
      await target.client.send(
        new CreateEventCommand({
          memoryId: target.memoryId,
          actorId: ACTOR,
          sessionId,
          eventTimestamp: new Date(base + index),
          payload: batches[index] as never,
        }),
      )
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return batches.length
}

async function bareListLoop(target: RestoreTarget, sessionId: string): Promise<number> {
  let events = 0
  let nextToken: string | undefined
  do {
    const page = await target.client.send(
      new ListEventsCommand({
        memoryId: target.memoryId,
        actorId: ACTOR,
        sessionId,
        includePayloads: true,
        maxResults: 100,
        ...(nextToken ? { nextToken } : {}),
      }),
    )
    events += page.events?.length ?? 0
    nextToken = page.nextToken
  } while (nextToken)
  return events
}

/** Builds an agent on the session and restores it; resolves with the messages and how the restore went. */
async function restoreOnce(
  target: RestoreTarget,
  sessionId: string,
  config: Partial<AgentCoreMemorySessionManagerConfig>,
): Promise<{ messages: number; report: RestoreReport }> {
  const sessionManager = new AgentCoreMemorySessionManager({
    memoryId: target.memoryId,
    sessionId,
    actorId: ACTOR,
    client: target.client,
    logger: quiet,
    ...config,
  })
  const agent = new Agent({ model: new ScriptedModel([]), printer: false, sessionManager })
  await agent.initialize()
  return { messages: agent.messages.length, report: sessionManager.restoreReport as RestoreReport }
}

/** The whole-session restore (what the Python manager reads), timed against the bare paging loop. */
async function managerRestore(
  target: RestoreTarget,
  sessionId: string,
): Promise<{ messages: number; readMs: number }> {
  const { messages, report } = await restoreOnce(target, sessionId, { restoreWindow: 'full' })
  return { messages, readMs: report.durationMs }
}

/** A memory on a service in its own process, and the one client both restore paths use. */
interface RestoreTarget {
  client: BedrockAgentCoreClient
  memoryId: string
}

/** The local service in its own process, with a client and a memory for the restore comparison. */
async function startServiceProcess() {
  const remote = await startLocalServiceProcess()
  let memoryId: string
  try {
    memoryId = await remote.createMemory('bench_restore')
  } catch (error) {
    await remote.stop()
    throw error
  }
  const remoteClient = new BedrockAgentCoreClient({ ...remote.clientConfig, maxAttempts: 1 })
  return {
    target: { client: remoteClient, memoryId },
    async close() {
      remoteClient.destroy()
      await remote.stop()
    },
  }
}

async function compareRestore(target: RestoreTarget, label: string, perEvent: number) {
  const sessionId = newSessionId()
  const events = await seedSession(target, sessionId, conversation(RESTORE_MESSAGES), perEvent)
  await bareListLoop(target, sessionId) // warm-up of both paths
  await managerRestore(target, sessionId)
  const bare: number[] = []
  const managed: number[] = []
  const reads: number[] = []
  let restored = 0
  // Interleaved: bare, manager, bare, manager, ... so that load drift hits both alike.
  for (let run = 0; run < RESTORE_RUNS; run += 1) {
    let start = performance.now()
    await bareListLoop(target, sessionId)
    bare.push(performance.now() - start)
    start = performance.now()
    const result = await managerRestore(target, sessionId)
    managed.push(performance.now() - start)
    reads.push(result.readMs)
    restored = result.messages
  }
  return {
    label,
    events,
    restored,
    bare,
    managed,
    bareMs: median(bare),
    managerMs: median(managed),
    readMs: median(reads),
  }
}

/** One row of part 2: ListEvents calls, session pages and time of a restore, median of `RUNS_PER_SIZE`. */
async function restoreCosts(
  target: RestoreTarget,
  sessionId: string,
  config: Partial<AgentCoreMemorySessionManagerConfig>,
  before?: () => Promise<unknown>,
): Promise<{ calls: number; pages: number; ms: number; kind: string }> {
  const times: number[] = []
  let last: RestoreReport | undefined
  for (let run = 0; run < RUNS_PER_SIZE; run += 1) {
    await before?.()
    const start = performance.now()
    last = (await restoreOnce(target, sessionId, config)).report
    times.push(performance.now() - start)
  }
  const report = last as RestoreReport
  return {
    calls: report.listCalls,
    pages: report.listCalls - (report.stateLookup ? 1 : 0),
    ms: median(times),
    kind: report.kind,
  }
}

async function turnTimes(
  sessionId: string | undefined,
  config: Partial<AgentCoreMemorySessionManagerConfig> = {},
): Promise<{ times: number[]; listEvents: number }> {
  const turns = Array.from({ length: TURNS }, (_, n) => toolTurn(n)).flat()
  const agent = buildAgent(sessionId, turns, config)
  await agent.invoke('warm-up') // builds the agent (and restores) outside the measured turns
  const times: number[] = []
  service.faults.resetCounts()
  for (let n = 1; n < TURNS; n += 1) {
    const start = performance.now()
    await agent.invoke(`turn ${n}`)
    times.push(performance.now() - start)
  }
  return { times, listEvents: service.faults.counts().ListEvents?.calls ?? 0 }
}

try {
  console.log(
    `# Memory session manager benchmark${QUICK ? ' (BENCH_QUICK)' : ''} — local AgentCore service (parts 1 and 2 in its own process, run first on a fresh heap; parts 3 and 4 in-process)`,
  )

  console.log(
    `\n## 1. Restoring a ${RESTORE_MESSAGES}-message session, service in its own process (median of ${RESTORE_RUNS} interleaved runs each)`,
  )
  const ranges: string[] = []
  {
    console.log(
      "| layout | events | messages restored | bare ListEvents loop | agent built and restored | ratio | the manager's restore (reads + decoding) | ratio |",
    )
    console.log('|---|---|---|---|---|---|---|---|')
    for (const [label, perEvent] of [
      ['one event per message (Python default)', 1],
      ['2 messages per event (this manager: one event per flush of a turn)', 2],
      ['100 messages per event (this manager, one full batch per event)', 100],
    ] as const) {
      const child = spawnSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname], {
        env: { ...process.env, BENCH_RESTORE_LAYOUT: String(perEvent) },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      })
      if (child.status !== 0) throw new Error(`the restore comparison of ${label} failed: ${child.stderr}`)
      const result = {
        ...(JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Awaited<
          ReturnType<typeof compareRestore>
        >),
        label,
      }
      console.log(
        `| ${result.label} | ${result.events} | ${result.restored} | ${result.bareMs.toFixed(1)} ms | ${result.managerMs.toFixed(1)} ms | ${(result.managerMs / result.bareMs).toFixed(2)} | ${result.readMs.toFixed(1)} ms | ${(result.readMs / result.bareMs).toFixed(2)} |`,
      )
      const span = (values: number[]) =>
        `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)} ms`
      ranges.push(`${label}: bare ${span(result.bare)}, manager ${span(result.managed)}`)
    }
  }
  console.log('(range over the runs, min-max)')
  for (const range of ranges) console.log(`  ${range}`)
  console.log(
    '(the manager decodes each page while the next one is fetched; with 100 messages per event one page holds',
  )
  console.log(
    ' the whole session, so its decoding - a JSON.parse of every stored SessionMessage text - adds to the fetch;',
  )
  console.log(
    " 'agent built and restored' also holds Strands' own agent initialisation, a few ms whatever the session)",
  )

  console.log(
    `\n## 2. An invocation's restore by session length: whole session, cold window, warm window (service in its own process, median of ${RUNS_PER_SIZE})`,
  )
  const costs = await startServiceProcess()
  try {
    console.log(
      '| messages | whole session, one event per message (Python) | cold window (40) | warm window (40) | warm turn with one tool call: memory calls |',
    )
    console.log('|---|---|---|---|---|')
    for (const size of SESSION_SIZES) {
      const pythonSession = newSessionId()
      await seedSession(costs.target, pythonSession, conversation(size), 1)
      const ourSession = newSessionId()
      await seedSession(costs.target, ourSession, conversation(size), 2)
      const whole = await restoreCosts(costs.target, pythonSession, { restoreWindow: 'full' })
      const cold = await restoreCosts(costs.target, ourSession, {})
      const cache = new SessionCache()
      // Each warm restore follows one that filled the cache, as a warm runtime's invocations do.
      const warm = await restoreCosts(costs.target, ourSession, { sessionCache: cache }, () =>
        restoreOnce(costs.target, ourSession, { sessionCache: cache }),
      )
      const counting = countingClient(costs.target.client)
      const agent = new Agent({
        model: new ScriptedModel(toolTurn(0)),
        tools: [echo],
        printer: false,
        sessionManager: new AgentCoreMemorySessionManager({
          memoryId: costs.target.memoryId,
          sessionId: ourSession,
          actorId: ACTOR,
          client: counting,
          logger: quiet,
          sessionCache: cache,
        }),
      })
      await agent.invoke('one more turn')
      const cell = (row: { calls: number; pages: number; ms: number }) =>
        `${row.calls} calls, ${row.pages} pages, ${row.ms.toFixed(1)} ms`
      console.log(
        `| ${size} | ${cell(whole)} | ${cell(cold)} | ${cell(warm)} (${warm.kind}) | ${[...counting.counts].map(([name, calls]) => `${name.replace('Command', '')}=${calls}`).join(' ')} |`,
      )
    }
  } finally {
    await costs.close()
  }
  console.log(
    '(pages are ListEvents pages of the session; a cold window that holds no state of the agent adds one',
  )
  console.log(
    ' filtered ListEvents for it; the Python manager itself adds two such reads to every whole-session restore)',
  )

  console.log(
    '\n## 3. Memory API calls for one turn with one tool call (agent built on the session, then one invoke)',
  )
  // The Python manager reads outside events only when an agent is built; the first two manager
  // rows read as it does (so only the write behaviour differs). The defaults also read before a
  // model call during an invocation once 10 s passed since the last read (a feature Python does not
  // have); the last two rows make the 1.1 s turn "long" by lowering that interval to 1 s.
  const ON_INIT: Partial<AgentCoreMemorySessionManagerConfig> = { syncExternalEvents: 'onInit' }
  const LONG_INVOCATION: Partial<AgentCoreMemorySessionManagerConfig> = { externalSyncMinIntervalMs: 1_000 }
  const rows: [string, boolean, number, Partial<AgentCoreMemorySessionManagerConfig>, string][] = [
    ['new session', false, SLOW_MODEL_MS, ON_INIT, "syncExternalEvents: 'onInit' (Python's reads)"],
    ['existing session', true, SLOW_MODEL_MS, ON_INIT, "syncExternalEvents: 'onInit' (Python's reads)"],
    ['new session', false, 0, {}, 'defaults'],
    ['existing session', true, 0, {}, 'defaults'],
    ['new session', false, SLOW_MODEL_MS, {}, 'defaults'],
    ['existing session', true, SLOW_MODEL_MS, {}, 'defaults'],
    [
      'new session',
      false,
      SLOW_MODEL_MS,
      LONG_INVOCATION,
      'externalSyncMinIntervalMs: 1000 (a long invocation)',
    ],
    [
      'existing session',
      true,
      SLOW_MODEL_MS,
      LONG_INVOCATION,
      'externalSyncMinIntervalMs: 1000 (a long invocation)',
    ],
  ]
  console.log('| session | model call | this manager | calls | Python-default mode | ratio |')
  console.log('|---|---|---|---|---|---|')
  for (const [label, existing, modelMs, config, configLabel] of rows) {
    const ours = await callsForOneTurn(config, existing, modelMs)
    const baseline = await callsForOneTurn(PYTHON_DEFAULT, existing, modelMs)
    console.log(
      `| ${label} | ${modelMs === 0 ? 'instant' : `${modelMs} ms`} | ${configLabel} | ${ours.total} (${ours.byOperation}) | ${baseline.total} (${baseline.byOperation}) | ${(ours.total / baseline.total).toFixed(2)} |`,
    )
  }
  console.log(
    '(defaults: both model calls start within 10 s of the restore, so the 10 s rule skips both reads; with the',
  )
  console.log(
    ' interval at 1 s the 1.1 s model passes it, and the read before the second model call happens, as it does',
  )
  console.log(' with the defaults once 10 s have passed since the last read)')
  console.log(
    '(the Python manager itself also reads twice more per agent build: filtered reads of SESSION and AGENT state)',
  )

  console.log(`\n## 4. Time per turn with one tool call (${TURNS - 1} turns on one agent, median)`)
  const without = await turnTimes(undefined)
  const defaults = await turnTimes(newSessionId())
  const everyCall = await turnTimes(newSessionId(), { externalSyncMinIntervalMs: 0 })
  const a = median(without.times)
  console.log('| agent | ListEvents per turn | median ms/turn | p90 ms/turn | added vs no manager (median) |')
  console.log('|---|---|---|---|---|')
  const p90 = (values: number[]) =>
    [...values].sort((x, y) => x - y)[Math.floor(values.length * 0.9)] as number
  const turns = TURNS - 1
  console.log(`| no session manager | 0 | ${a.toFixed(2)} | ${p90(without.times).toFixed(2)} | - |`)
  for (const [label, result] of [
    ['manager, defaults (10 s rule: these turns read only at build)', defaults],
    ['manager, externalSyncMinIntervalMs: 0 (read before every model call)', everyCall],
  ] as const) {
    const b = median(result.times)
    console.log(
      `| ${label} | ${(result.listEvents / turns).toFixed(2)} | ${b.toFixed(2)} | ${p90(result.times).toFixed(2)} | ${(b - a).toFixed(2)} ms |`,
    )
  }
  console.log(
    '(2 CreateEvent calls per turn; with the defaults an agent reads before a model call once 10 s passed since',
  )
  console.log(
    " its last read, so a long invocation pays the last row's cost at most once per 10 s; turns this fast keep",
  )
  console.log(' every event of the run inside the 10 s skew window, so a read often takes 2 pages)')
} finally {
  client.destroy()
  await local.close()
}
