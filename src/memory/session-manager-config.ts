/**
 * The configuration of {@link AgentCoreMemorySessionManager}: its fields, their defaults (defined
 * once, here) and the check that refuses a bad one before anything is read or written.
 */
import { AGENT_ID_KEY, STATE_TYPE_KEY } from './metadata-keys.ts'
import type { MemoryDataClient } from './event-writer.ts'
import { MemoryConfigError } from './errors.ts'
import {
  ACTOR_ID_RULE,
  explainIdViolation,
  explainMetadataKeyViolation,
  explainMetadataValueViolation,
  MEMORY_ID_RULE,
  METADATA_MAX_KEYS,
  MEMORY_LIMITS,
  type RetryPolicy,
  SESSION_ID_RULE,
} from '../contract/index.ts'
import type { RetrievalConfig } from './long-term-context.ts'
import type { SessionCache } from './session-cache.ts'

/** Where log lines go (`key=value | message`). */
export interface MemoryLogger {
  warn(line: string): void
  debug?(line: string): void
}

/** When events written by others into the session are read. */
export type ExternalEventSync = 'beforeModelCall' | 'onInit'

/** Configuration of {@link AgentCoreMemorySessionManager}; every field but the three ids is optional. */
export interface AgentCoreMemorySessionManagerConfig {
  readonly memoryId: string
  readonly sessionId: string
  readonly actorId: string
  /** A `BedrockAgentCoreClient` (or anything with its `send`); built from `region` when absent. */
  readonly client?: MemoryDataClient
  readonly region?: string
  /**
   * Names this agent's state events (`agentId` metadata). Default `default`, Python's default, so a
   * Python agent built on the same session finds this agent's state (and with it the conversation).
   */
  readonly agentId?: string
  /** Long-term memory to search per user message, by namespace template. */
  readonly retrieval?: Readonly<Record<string, RetrievalConfig>>
  /** Payload items per CreateEvent and buffer size that triggers a flush (1..100, default 100). */
  readonly batchSize?: number
  /** Also flush on this interval when something is buffered. */
  readonly flushIntervalMs?: number
  /** Tag wrapping long-term context in the user's message (default `user_context`). */
  readonly contextTag?: string
  /** Leave toolUse/toolResult blocks out of the restored history (stored events keep them). */
  readonly filterRestoredToolContext?: boolean
  /** Metadata put on every message event. */
  readonly defaultMetadata?: Readonly<Record<string, string>>
  /** `false` reads the session but never writes to it. Default true. */
  readonly persist?: boolean
  /** Read events written by others only when the agent is built, or also before each model call (default). */
  readonly syncExternalEvents?: ExternalEventSync
  /**
   * The session is read before a model call only when the previous read started at least this long
   * ago (default 10,000 ms; 0 reads before every model call). The default reads during a long
   * invocation (once 10 s have passed since the last read) and spares a short turn the extra call;
   * work that reports back through memory takes minutes to hours, so 10 s of delay costs it little. A
   * skipped read only delays an event: the next read starts from where the last completed read
   * started, so it still finds it.
   */
  readonly externalSyncMinIntervalMs?: number
  /**
   * Clock-skew allowance of the before-model-call read (default 10 s): it reads every event stamped
   * later than the start of the previous completed read less this much. An outside writer whose
   * clock (plus its write's latency) lags ours by more than this can be missed until the agent is
   * rebuilt; the event itself is stored either way.
   */
  readonly externalSyncLookbackMs?: number
  /** Python's default behaviour, for comparison: an agent-state event after every message. Use with batchSize 1. */
  readonly syncAgentStateEveryMessage?: boolean
  /**
   * How much of the session the agent is built with: the conversation window it keeps (default 40
   * messages, Strands' sliding window), read newest first and cut at a turn start, or `'full'`, every
   * event of the session (what the Python manager reads).
   */
  readonly restoreWindow?: number | 'full'
  /**
   * Windows restored earlier in this process: an agent built again for the same session (a warm
   * runtime) reads only what was written since. Shared by the managers of a process.
   */
  readonly sessionCache?: SessionCache
  /** Metadata for each event written, asked for at each write (Python's `metadata_provider`). */
  readonly metadataProvider?: () => Readonly<Record<string, string>>
  readonly retry?: Partial<RetryPolicy>
  /** Milliseconds since the epoch. */
  readonly clock?: () => number
  readonly logger?: MemoryLogger
}

/** Metadata keys the manager writes itself on state events. */
export const RESERVED_METADATA_KEYS: ReadonlySet<string> = new Set([STATE_TYPE_KEY, AGENT_ID_KEY])
const CONTEXT_TAG_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/

/**
 * What is wrong with `metadata` for an event (a provider's answer, say): the offending field under
 * `source`, and why; undefined when it can go on every event.
 */
export function explainMetadataViolation(
  source: string,
  metadata: Readonly<Record<string, string>>,
): { field: string; problem: string } | undefined {
  const entries = Object.entries(metadata)
  // State events carry stateType and agentId besides the caller's metadata.
  const maxKeys = METADATA_MAX_KEYS - RESERVED_METADATA_KEYS.size
  if (entries.length > maxKeys) return { field: source, problem: `must have at most ${maxKeys} keys` }
  for (const [key, value] of entries) {
    if (RESERVED_METADATA_KEYS.has(key))
      return { field: `${source}.${key}`, problem: 'is reserved for state events' }
    const problem = explainMetadataKeyViolation(key) ?? explainMetadataValueViolation(value)
    if (problem) return { field: `${source}.${key}`, problem }
  }
  return undefined
}

/** Rejects a bad configuration before anything is read or written, naming the field. */
export function validateConfig(config: AgentCoreMemorySessionManagerConfig): void {
  if (typeof config !== 'object' || config === null)
    throw new MemoryConfigError('config', 'must be an object')
  const ids = [
    ['memoryId', config.memoryId, MEMORY_ID_RULE],
    ['sessionId', config.sessionId, SESSION_ID_RULE],
    ['actorId', config.actorId, ACTOR_ID_RULE],
  ] as const
  for (const [field, value, rule] of ids) {
    const problem = explainIdViolation(value, rule)
    if (problem) throw new MemoryConfigError(field, problem)
  }
  if (config.agentId !== undefined) {
    const problem = explainMetadataValueViolation(config.agentId)
    if (problem) throw new MemoryConfigError('agentId', problem)
  }
  checkInteger('batchSize', config.batchSize, 1, MEMORY_LIMITS.payloadItems)
  checkDuration('flushIntervalMs', config.flushIntervalMs, { positive: true })
  if (config.contextTag !== undefined && !CONTEXT_TAG_PATTERN.test(config.contextTag)) {
    throw new MemoryConfigError('contextTag', `must match ${CONTEXT_TAG_PATTERN.source}`)
  }
  if (config.defaultMetadata !== undefined) {
    const violation = explainMetadataViolation('defaultMetadata', config.defaultMetadata)
    if (violation) throw new MemoryConfigError(violation.field, violation.problem)
  }
  if (config.metadataProvider !== undefined && typeof config.metadataProvider !== 'function') {
    throw new MemoryConfigError('metadataProvider', 'must be a function returning metadata')
  }
  if (config.restoreWindow !== undefined && config.restoreWindow !== 'full') {
    checkInteger('restoreWindow', config.restoreWindow, 1, 100_000)
  }
  for (const [template, retrieval] of Object.entries(config.retrieval ?? {})) {
    const field = `retrieval[${JSON.stringify(template)}]`
    if (template.trim() === '' || template.includes('*'))
      throw new MemoryConfigError(field, 'must be a namespace without wildcards')
    checkInteger(`${field}.topK`, retrieval.topK, 1, MEMORY_LIMITS.topK)
    const score = retrieval.relevanceScore
    if (score !== undefined && !(typeof score === 'number' && score >= 0 && score <= 1)) {
      throw new MemoryConfigError(`${field}.relevanceScore`, 'must be a number from 0 to 1')
    }
    if (
      retrieval.strategyId !== undefined &&
      (typeof retrieval.strategyId !== 'string' || retrieval.strategyId === '')
    ) {
      throw new MemoryConfigError(`${field}.strategyId`, 'must be a non-empty string')
    }
  }
  if (
    config.syncExternalEvents !== undefined &&
    !['beforeModelCall', 'onInit'].includes(config.syncExternalEvents)
  ) {
    throw new MemoryConfigError('syncExternalEvents', "must be 'beforeModelCall' or 'onInit'")
  }
  checkDuration('externalSyncMinIntervalMs', config.externalSyncMinIntervalMs)
  checkDuration('externalSyncLookbackMs', config.externalSyncLookbackMs)
  checkInteger('retry.maxAttempts', config.retry?.maxAttempts, 1, 100)
  checkDuration('retry.baseDelayMs', config.retry?.baseDelayMs)
  checkDuration('retry.maxDelayMs', config.retry?.maxDelayMs)
  if (
    config.client === undefined &&
    config.region !== undefined &&
    (typeof config.region !== 'string' || config.region === '')
  ) {
    throw new MemoryConfigError('region', 'must be a non-empty string')
  }
}

function checkInteger(field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MemoryConfigError(field, `must be an integer from ${min} to ${max}`)
  }
}

/** A number of milliseconds: finite and 0 or more (more than 0 when `positive`). */
function checkDuration(field: string, value: number | undefined, options: { positive?: boolean } = {}): void {
  if (value === undefined) return
  if (!Number.isFinite(value) || value < 0 || (options.positive && value === 0)) {
    throw new MemoryConfigError(
      field,
      options.positive ? 'must be a positive number of milliseconds' : 'must be 0 or more',
    )
  }
}
