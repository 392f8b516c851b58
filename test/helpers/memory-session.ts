import assert from 'node:assert/strict'
import { BedrockAgentCoreClient, CreateEventCommand, type Event } from '@aws-sdk/client-bedrock-agentcore'
import type { Agent, MessageData } from '@strands-agents/sdk'
import {
  AgentCoreMemorySessionManager,
  type AgentCoreMemorySessionManagerConfig,
  encodeMessagePayload,
  type EventPayloadItem,
  type MemoryDataClient,
  type MemoryLogger,
  type RestoreReport,
  type SessionCache,
  userTextEventPayload,
} from '../../src/memory/index.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'
import { after, before } from 'node:test'
import type { LocalAgentCoreConfig } from '../../src/local/index.ts'
import { type LocalAgentCoreFixture, listSessionEvents, startLocalAgentCore } from './local-agentcore.ts'

export { waitFor } from './local-agentcore.ts'

/** Retries fast enough for tests, many enough that injected fault rates cannot outlast them. */
export const FAST_RETRY = { maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 8 }

/** A client for the manager: no SDK-level retries, so every retry seen is the manager's own. */
export function managerClient(env: LocalAgentCoreFixture): BedrockAgentCoreClient {
  return new BedrockAgentCoreClient({ ...env.clientConfig, maxAttempts: 1 })
}

/** Every event of a session, oldest first, read with the plain client. */
export function listAllEvents(
  env: LocalAgentCoreFixture,
  memoryId: string,
  actorId: string,
  sessionId: string,
): Promise<Event[]> {
  return listSessionEvents(env.data, memoryId, actorId, sessionId)
}

/** Writes one event the way another program (an MCP server, a Python agent) would. */
export async function writeEvent(
  env: LocalAgentCoreFixture,
  target: { memoryId: string; actorId: string; sessionId: string },
  payload: EventPayloadItem[],
  options: { timestamp?: Date; metadata?: Record<string, { stringValue: string }> } = {},
): Promise<string> {
  const result = await env.data.send(
    new CreateEventCommand({
      ...target,
      eventTimestamp: options.timestamp ?? new Date(),
      payload: payload as never,
      ...(options.metadata ? { metadata: options.metadata } : {}),
    }),
  )
  return result.event?.eventId as string
}

/** Message payload items of events, in order: the state blob leading a state event left out. */
export function messagePayloads(events: readonly Event[]): unknown[] {
  return events.flatMap((event) =>
    event.metadata?.stateType ? (event.payload ?? []).slice(1) : (event.payload ?? []),
  )
}

/** A logger that keeps its lines for assertions. */
export function captureLogger(): MemoryLogger & { lines: string[] } {
  const lines: string[] = []
  return { lines, warn: (line) => lines.push(line), debug: (line) => lines.push(line) }
}

/** Messages as role and content only (no tracking ids, no metadata), for deep-equal assertions. */
export const plain = (messages: readonly { toJSON(): MessageData }[]) =>
  messages.map((message) => {
    const { role, content } = message.toJSON()
    return { role, content }
  })

/** An agent built on a session, with the manager that restored it. */
export interface RestoredAgent {
  readonly agent: Agent
  readonly manager: AgentCoreMemorySessionManager
}

/**
 * Builds the session twice, warm from `cache` and cold, and asserts both agents hold the same
 * messages (as `view` shows them) and state. Returns the warm restore's report.
 */
export async function assertWarmMatchesCold(
  build: (cache: SessionCache | undefined) => Promise<RestoredAgent>,
  cache: SessionCache,
  where: string,
  view: (messages: Agent['messages']) => unknown = plain,
): Promise<RestoreReport | undefined> {
  const warm = await build(cache)
  const cold = await build(undefined)
  assert.deepEqual(view(warm.agent.messages), view(cold.agent.messages), where)
  assert.deepEqual(warm.agent.appState.getAll(), cold.agent.appState.getAll(), where)
  return warm.manager.restoreReport
}

/** What a memory test file shares: the local service, a manager client and one memory. */
export interface MemoryTestBed {
  readonly env: LocalAgentCoreFixture
  readonly client: BedrockAgentCoreClient
  readonly memoryId: string
  /**
   * A session manager on the bed's memory and client with test defaults ({@link FAST_RETRY}, a read
   * before every model call, a {@link captureLogger}); `config` names the session and overrides any.
   */
  manager(
    config: Pick<AgentCoreMemorySessionManagerConfig, 'sessionId' | 'actorId'> &
      Partial<AgentCoreMemorySessionManagerConfig>,
  ): AgentCoreMemorySessionManager
}

/**
 * Registers `before`/`after` hooks that start the local AgentCore service (with `config`, e.g. a
 * seeded `random` so injected faults replay) with a memory named `memoryName` and stop it again;
 * the returned object is filled in once `before` has run.
 */
export function useMemoryTestBed(memoryName: string, config: LocalAgentCoreConfig = {}): MemoryTestBed {
  const bed = {
    manager: (config) =>
      new AgentCoreMemorySessionManager({
        memoryId: bed.memoryId,
        client: bed.client,
        retry: FAST_RETRY,
        externalSyncMinIntervalMs: 0,
        logger: captureLogger(),
        ...config,
      }),
  } as { env: LocalAgentCoreFixture; client: BedrockAgentCoreClient; memoryId: string } & Pick<
    MemoryTestBed,
    'manager'
  >
  before(async () => {
    bed.env = await startLocalAgentCore(config)
    bed.client = managerClient(bed.env)
    bed.memoryId = await bed.env.createMemory(memoryName)
  })
  after(async () => {
    bed.client.destroy()
    await bed.env.close()
  })
  return bed
}

/**
 * The payload items of a conversation of `turns` turns, oldest first, decided by `seed`: plain
 * answers, turns with a tool call (toolUse, toolResult, answer), and now and then a task result
 * written by a tool outside the agent just before the next prompt.
 */
export function conversationPayloads(turns: number, seed: number): EventPayloadItem[] {
  const random = seededRandom(seed)
  const items: EventPayloadItem[] = []
  let id = 0
  const message = (role: 'user' | 'assistant', content: MessageData['content']) =>
    encodeMessagePayload({ role, content }, { messageId: id++ }) as EventPayloadItem
  for (let turn = 0; turn < turns; turn += 1) {
    if (turn > 0 && random() < 0.15)
      items.push(
        userTextEventPayload(`Long-running task t${turn} (tool work) completed.\nResult:\n{"n": ${turn}}`),
      )
    items.push(message('user', [{ text: `question ${turn}` }]))
    if (random() < 0.4) {
      const toolUseId = `tu-${turn}`
      items.push(message('assistant', [{ toolUse: { toolUseId, name: 'work', input: { turn } } }]))
      items.push(
        message('user', [
          { toolResult: { toolUseId, status: 'success', content: [{ text: `worked ${turn}` }] } },
        ]),
      )
    }
    items.push(message('assistant', [{ text: `answer ${turn}` }]))
  }
  return items
}

/** Stores `items` in the session, `perEvent` to an event, 1 ms apart from `startMs`, 8 writes in flight. */
export async function seedSession(
  env: LocalAgentCoreFixture,
  target: { memoryId: string; actorId: string; sessionId: string },
  items: readonly EventPayloadItem[],
  perEvent: number,
  startMs = Date.now() - items.length - 60_000,
): Promise<void> {
  const batches: EventPayloadItem[][] = []
  for (let index = 0; index < items.length; index += perEvent)
    batches.push(items.slice(index, index + perEvent))
  let next = 0
  const worker = async () => {
    while (next < batches.length) {
      const index = next++
      await writeEvent(env, target, batches[index] as EventPayloadItem[], {
        timestamp: new Date(startMs + index),
      })
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

/** Wraps a client to count its calls by command name (ListEventsCommand, CreateEventCommand, ...). */
export function countingClient(
  inner: MemoryDataClient,
): MemoryDataClient & { counts: Map<string, number>; reset(): void } {
  const counts = new Map<string, number>()
  return {
    counts,
    reset: () => counts.clear(),
    send(command, options) {
      const name = command.constructor.name
      counts.set(name, (counts.get(name) ?? 0) + 1)
      return inner.send(command, options)
    },
  }
}
