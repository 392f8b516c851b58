/**
 * Benchmark of the AgentCore Memory session manager against the local AgentCore service, all
 * figures measured side by side in one run:
 *  1. Memory API calls for one turn with one tool call: this manager vs the Python default
 *     behaviour (one CreateEvent per message plus an agent-state event each time), run as a
 *     mode of this manager; with an instant model and with one that takes 1.1 s per call (real
 *     latency, so the 1 s rule never skips the read before the second model call).
 *  2. Restoring a 10,000-message session vs a bare ListEvents paging loop, same client, same service.
 *  3. Time the manager adds to a turn vs an agent with no session manager, with default settings
 *     and with a read before every model call (`externalSyncMinIntervalMs: 0`).
 * BENCH_QUICK=1 shrinks the sizes for a smoke run.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'
import {
  BedrockAgentCoreClient,
  CreateEventCommand,
  ListEventsCommand,
} from '@aws-sdk/client-bedrock-agentcore'
import { BedrockAgentCoreControlClient, CreateMemoryCommand } from '@aws-sdk/client-bedrock-agentcore-control'
import { Agent, Message, TextBlock, ToolResultBlock, ToolUseBlock, tool } from '@strands-agents/sdk'
import { z } from 'zod'
import { LocalAgentCoreService } from '../../src/local/index.ts'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  encodeMessagePayload,
  type EventPayloadItem,
} from '../../src/memory/index.ts'
import { type ScriptStep, ScriptedModel, type ScriptedTurn } from '../../test/helpers/scripted-model.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const RESTORE_MESSAGES = QUICK ? 1_000 : 10_000
const RESTORE_RUNS = QUICK ? 2 : 9
const TURNS = QUICK ? 10 : 60
/** Per-call latency of the "realistic" scripted model in part 1. */
const SLOW_MODEL_MS = 1_100
const ACTOR = 'bench-user'
const quiet = { warn: () => {} }

const service = await LocalAgentCoreService.start({ port: 0 })
const clientConfig = {
  endpoint: service.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDLOCALBENCH', secretAccessKey: 'local-bench-secret' },
}
const client = new BedrockAgentCoreClient({ ...clientConfig, maxAttempts: 1 })
const control = new BedrockAgentCoreControlClient(clientConfig)
const memoryId = (
  await control.send(new CreateMemoryCommand({ name: 'bench_memory', eventExpiryDuration: 30 }))
).memory?.id as string
let sessions = 0
const newSessionId = () => `bench-${++sessions}`

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
async function seedSession(sessionId: string, messages: Message[], perEvent: number): Promise<number> {
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
      await client.send(
        new CreateEventCommand({
          memoryId,
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

async function bareListLoop(sessionId: string): Promise<number> {
  let events = 0
  let nextToken: string | undefined
  do {
    const page = await client.send(
      new ListEventsCommand({
        memoryId,
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

async function managerRestore(sessionId: string): Promise<number> {
  const agent = buildAgent(sessionId, [])
  await agent.initialize()
  return agent.messages.length
}

async function compareRestore(label: string, perEvent: number) {
  const sessionId = newSessionId()
  const events = await seedSession(sessionId, conversation(RESTORE_MESSAGES), perEvent)
  await bareListLoop(sessionId) // warm-up of both paths
  await managerRestore(sessionId)
  const bare: number[] = []
  const managed: number[] = []
  let restored = 0
  // Alternate which goes first so that neither always pays for the other's garbage.
  for (let run = 0; run < RESTORE_RUNS; run += 1) {
    for (const which of run % 2 === 0 ? ['bare', 'manager'] : ['manager', 'bare']) {
      const start = performance.now()
      if (which === 'bare') {
        await bareListLoop(sessionId)
        bare.push(performance.now() - start)
      } else {
        restored = await managerRestore(sessionId)
        managed.push(performance.now() - start)
      }
    }
  }
  return { label, events, restored, bareMs: median(bare), managerMs: median(managed) }
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
    `# Memory session manager benchmark${QUICK ? ' (BENCH_QUICK)' : ''} — local AgentCore service, in-process`,
  )

  console.log(
    '\n## 1. Memory API calls for one turn with one tool call (agent built on the session, then one invoke)',
  )
  const rows: [string, boolean, number][] = [
    ['new session', false, 0],
    ['existing session', true, 0],
    ['new session', false, SLOW_MODEL_MS],
    ['existing session', true, SLOW_MODEL_MS],
  ]
  console.log('| session | model call | this manager (defaults) | Python-default mode | ratio |')
  console.log('|---|---|---|---|---|')
  for (const [label, existing, modelMs] of rows) {
    const ours = await callsForOneTurn({}, existing, modelMs)
    const baseline = await callsForOneTurn(PYTHON_DEFAULT, existing, modelMs)
    console.log(
      `| ${label} | ${modelMs === 0 ? 'instant' : `${modelMs} ms`} | ${ours.total} (${ours.byOperation}) | ${baseline.total} (${baseline.byOperation}) | ${(ours.total / baseline.total).toFixed(2)} |`,
    )
  }
  console.log(
    '(instant model: both model calls fall within 1 s of the restore, so the default 1 s rule skips both reads;',
  )
  console.log(' 1.1 s model: the read before the second model call happens, as it would with a real model)')
  console.log(
    '(the Python manager itself also reads twice more per agent build: filtered reads of SESSION and AGENT state)',
  )

  console.log(`\n## 2. Restoring a ${RESTORE_MESSAGES}-message session (median of ${RESTORE_RUNS} runs)`)
  console.log('| layout | events | messages restored | bare ListEvents loop | manager restore | ratio |')
  console.log('|---|---|---|---|---|---|')
  for (const [label, perEvent] of [
    ['one event per message (Python default)', 1],
    ['100 messages per event (this manager)', 100],
  ] as const) {
    const result = await compareRestore(label, perEvent)
    console.log(
      `| ${result.label} | ${result.events} | ${result.restored} | ${result.bareMs.toFixed(1)} ms | ${result.managerMs.toFixed(1)} ms | ${(result.managerMs / result.bareMs).toFixed(2)} |`,
    )
  }

  console.log(`\n## 3. Time per turn with one tool call (${TURNS - 1} turns on one agent, median)`)
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
    ['manager, defaults (1 s rule: an instant model skips most reads)', defaults],
    ['manager, externalSyncMinIntervalMs: 0 (read before every model call)', everyCall],
  ] as const) {
    const b = median(result.times)
    console.log(
      `| ${label} | ${(result.listEvents / turns).toFixed(2)} | ${b.toFixed(2)} | ${p90(result.times).toFixed(2)} | ${(b - a).toFixed(2)} ms |`,
    )
  }
  console.log(
    '(2 CreateEvent calls per turn; with a model that takes >= 1 s per call the default setting reads before',
  )
  console.log(
    ' every model call but the first after a restore, so the last row is the realistic cost; turns this fast keep',
  )
  console.log(' every event of the run inside the 10 s skew window, so a read often takes 2 pages)')
} finally {
  client.destroy()
  control.destroy()
  await service.close()
}
