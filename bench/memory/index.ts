/**
 * Benchmark of the AgentCore Memory session manager against the local AgentCore service, all
 * figures measured side by side in one run:
 *  1. Memory API calls for one turn with one tool call: this manager vs the Python default
 *     behaviour (one CreateEvent per message plus an agent-state event each time), run as a
 *     mode of this manager.
 *  2. Restoring a 10,000-message session vs a bare ListEvents paging loop, same client, same service.
 *  3. Time the manager adds to a turn vs an agent with no session manager.
 * BENCH_QUICK=1 shrinks the sizes for a smoke run.
 */
import { performance } from 'node:perf_hooks'
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
import { ScriptedModel, type ScriptedTurn } from '../../test/helpers/scripted-model.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const RESTORE_MESSAGES = QUICK ? 1_000 : 10_000
const RESTORE_RUNS = QUICK ? 2 : 9
const TURNS = QUICK ? 10 : 60
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
const toolTurn = (n: number): ScriptedTurn[] => [
  { toolUses: [{ name: 'echo', toolUseId: `tu-${n}`, input: { say: `echo ${n}` } }] },
  { text: `answer ${n}` },
]

function buildAgent(
  sessionId: string | undefined,
  turns: ScriptedTurn[],
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
) {
  const sessionId = newSessionId()
  if (existingSession) await buildAgent(sessionId, toolTurn(0), config).invoke('earlier turn')
  service.faults.resetCounts()
  await buildAgent(sessionId, toolTurn(1), config).invoke('one turn')
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

async function turnTimes(sessionId: string | undefined): Promise<number[]> {
  const turns = Array.from({ length: TURNS }, (_, n) => toolTurn(n)).flat()
  const agent = buildAgent(sessionId, turns)
  await agent.invoke('warm-up') // builds the agent (and restores) outside the measured turns
  const times: number[] = []
  for (let n = 1; n < TURNS; n += 1) {
    const start = performance.now()
    await agent.invoke(`turn ${n}`)
    times.push(performance.now() - start)
  }
  return times
}

try {
  console.log(
    `# Memory session manager benchmark${QUICK ? ' (BENCH_QUICK)' : ''} — local AgentCore service, in-process`,
  )

  console.log(
    '\n## 1. Memory API calls for one turn with one tool call (agent built on the session, then one invoke)',
  )
  const rows: [string, boolean][] = [
    ['new session', false],
    ['existing session', true],
  ]
  console.log('| session | this manager | Python-default mode | ratio |')
  console.log('|---|---|---|---|')
  for (const [label, existing] of rows) {
    const ours = await callsForOneTurn({}, existing)
    const baseline = await callsForOneTurn(PYTHON_DEFAULT, existing)
    console.log(
      `| ${label} | ${ours.total} (${ours.byOperation}) | ${baseline.total} (${baseline.byOperation}) | ${(ours.total / baseline.total).toFixed(2)} |`,
    )
  }
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
  const withManager = await turnTimes(newSessionId())
  const a = median(without)
  const b = median(withManager)
  console.log('| agent | median ms/turn | p90 ms/turn |')
  console.log('|---|---|---|')
  const p90 = (values: number[]) =>
    [...values].sort((x, y) => x - y)[Math.floor(values.length * 0.9)] as number
  console.log(`| no session manager | ${a.toFixed(2)} | ${p90(without).toFixed(2)} |`)
  console.log(`| AgentCoreMemorySessionManager | ${b.toFixed(2)} | ${p90(withManager).toFixed(2)} |`)
  console.log(
    `added by the manager: ${(b - a).toFixed(2)} ms per turn (2 CreateEvent calls to a local service in this process)`,
  )
} finally {
  client.destroy()
  control.destroy()
  await service.close()
}
