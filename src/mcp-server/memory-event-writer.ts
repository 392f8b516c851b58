/**
 * Writes one task result into its caller's session (CreateEvent with a client token derived from
 * the task id, so a retry after a lost response, a throttle or a crash never writes twice) and says
 * what to do next: done, retry later, write a short summary instead, or give up. Both backends'
 * delivery loops use it. Problems that would otherwise repeat quietly on every retry (no AWS
 * credentials, a memory that does not exist) are said loudly, once.
 */
import { type BedrockAgentCoreClient, CreateEventCommand } from '@aws-sdk/client-bedrock-agentcore'
import {
  backoffDelayMs,
  isPermanentError,
  TASK_ID_METADATA_KEY,
  userTextEventPayload,
} from '../contract/index.ts'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { type Logger, silentLogger } from '../shared/logger.ts'
import { contextOf, countDeliveryFailure, inSpan, recordDeliveryLatency } from '../telemetry/index.ts'
import { clientTokenFor } from './memory-event.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { PendingDelivery } from './task-record.ts'

/** What became of one attempt. */
export type WriteOutcome =
  | { readonly kind: 'delivered' }
  /** The service refused the body: write `text` (a short summary) next, at once. */
  | { readonly kind: 'fallback'; readonly text: string; readonly error: string }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly error: string }
  /** Retrying cannot help (the memory does not exist, access is denied). */
  | { readonly kind: 'failed'; readonly error: string }

/** Configuration of {@link MemoryEventWriter}. */
export interface MemoryEventWriterConfig {
  /** The AgentCore data-plane client (its `endpoint` points at the local service in development). */
  readonly client: BedrockAgentCoreClient
  /** First retry delay, doubled per attempt up to maxDelayMs. */
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  /** For jitter; injectable so tests can pin it. */
  readonly random?: () => number
  readonly logger?: Logger
}

/**
 * Errors the service will answer the same way forever: retrying cannot help. The memory, actor and
 * session come from the caller's header, so a memory that does not exist or that this server may
 * not write is as permanent as an invalid body.
 */
const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'ValidationException',
  'ConflictException',
  'ResourceNotFoundException',
  'AccessDeniedException',
])

/** Errors of this server's own AWS credentials: retried (they may be fixed), but said loudly. */
const CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
])

const FALLBACK_MARK = '[full result not in memory]'

/** Writes task results into memory. */
export class MemoryEventWriter {
  readonly #client: BedrockAgentCoreClient
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #random: () => number
  readonly #logger: Logger
  /** What was already said loudly (one line per problem, not one per retry). */
  readonly #said = new Set<string>()

  constructor(config: MemoryEventWriterConfig) {
    this.#client = config.client
    this.#baseDelayMs = config.baseDelayMs ?? MCP_SERVER_DEFAULTS.deliveryBaseDelayMs
    this.#maxDelayMs = config.maxDelayMs ?? MCP_SERVER_DEFAULTS.deliveryMaxDelayMs
    this.#random = config.random ?? Math.random
    this.#logger = config.logger ?? silentLogger
  }

  /** The longest a retry waits: what a failed delivery loop waits before it looks again. */
  get maxDelayMs(): number {
    return this.#maxDelayMs
  }

  /**
   * Resolves the client's AWS credentials at start, so a server that cannot deliver says so before
   * the first task ends. Returns the problem, or undefined when there is none.
   */
  async checkCredentials(): Promise<string | undefined> {
    try {
      await this.#client.config.credentials()
      return undefined
    } catch (error) {
      const problem = `${(error as Error).name}: ${(error as Error).message}`
      this.#sayOnce(
        'credentials',
        'result delivery has no usable AWS credentials: results will not reach memory until it does (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an IAM role)',
        { error: problem },
      )
      return problem
    }
  }

  /**
   * One attempt at `row` (its attempts so far counted in `row.attempts`), in a span of the trace
   * of the call that started the task.
   */
  async write(row: PendingDelivery): Promise<WriteOutcome> {
    const attributes = {
      'longrun.task.id': row.taskId,
      'longrun.delivery.attempt': row.attempts + 1,
      'aws.agentcore.memory.id': row.memoryId,
    }
    return inSpan(
      'deliver task result',
      // A task with no stored context starts a trace of its own, never one of whatever woke the loop.
      { kind: SpanKind.CLIENT, attributes, parent: contextOf(row.traceContext) },
      async (span) => {
        const outcome = await this.#attempt(row)
        span.setAttribute('longrun.delivery.outcome', outcome.kind)
        if (outcome.kind === 'delivered')
          recordDeliveryLatency(Math.max(0, Date.now() - row.eventTimestampMs))
        else {
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.kind })
          countDeliveryFailure({ outcome: outcome.kind })
        }
        return outcome
      },
    )
  }

  async #attempt(row: PendingDelivery): Promise<WriteOutcome> {
    try {
      await this.#client.send(
        new CreateEventCommand({
          memoryId: row.memoryId,
          actorId: row.actorId,
          sessionId: row.sessionId,
          eventTimestamp: new Date(row.eventTimestampMs),
          payload: [userTextEventPayload(row.text)],
          // The runtime finds a task's result by this key before it acts on a wake.
          metadata: { [TASK_ID_METADATA_KEY]: { stringValue: row.taskId } },
          clientToken: clientTokenFor(row.taskId),
        }),
      )
      this.#logger.log('info', 'task result written to memory', {
        taskId: row.taskId,
        memoryId: row.memoryId,
        deliveryAttempts: row.attempts + 1,
      })
      return { kind: 'delivered' }
    } catch (error) {
      return this.#failed(row, error)
    }
  }

  #failed(row: PendingDelivery, error: unknown): WriteOutcome {
    const name = error instanceof Error ? error.name : 'Error'
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    const fields = { taskId: row.taskId, memoryId: row.memoryId, error: message }
    if (name === 'ValidationException' && !row.text.endsWith(FALLBACK_MARK)) {
      // The service refused the body (too large, say): the event must still land, so write a
      // short summary pointing at get_task_results instead, once, with the same client token
      // (a refused request wrote nothing under it).
      this.#logger.log('warn', 'memory refused a task result; writing a short summary instead', fields)
      return { kind: 'fallback', text: fallbackText(row, message), error: message }
    }
    if (isPermanentError(error, PERMANENT_ERRORS)) {
      if (name === 'ResourceNotFoundException') {
        this.#sayOnce(
          `missing:${row.memoryId}`,
          'results for this memory cannot be delivered: it does not exist',
          fields,
        )
      } else this.#logger.log('error', 'memory refused a task result; not retrying', fields)
      return { kind: 'failed', error: message }
    }
    const credentials = CREDENTIAL_ERRORS.has(name)
    const reason = credentials ? `no usable AWS credentials for AgentCore Memory (${message})` : message
    if (credentials) {
      this.#sayOnce(
        'credentials',
        'result delivery has no usable AWS credentials: retrying until it has',
        fields,
      )
    }
    // At least half of the doubling step: a throttled service gets room to recover.
    const policy = { baseDelayMs: this.#baseDelayMs, maxDelayMs: this.#maxDelayMs }
    const delayMs = backoffDelayMs(policy, row.attempts + 1, this.#random, 'equal')
    this.#logger.log('warn', 'memory write failed; will retry', {
      ...fields,
      deliveryAttempts: row.attempts + 1,
      retryInMs: delayMs,
    })
    return { kind: 'retry', delayMs, error: reason }
  }

  #sayOnce(key: string, message: string, fields: Record<string, unknown>): void {
    if (this.#said.has(key)) return
    this.#said.add(key)
    this.#logger.log('error', message, fields)
  }
}

/** The summary written when the service refuses the full event: the first line (task, tool, outcome) and where to get the rest. */
function fallbackText(row: Pick<PendingDelivery, 'taskId' | 'text'>, error: string): string {
  const firstLine = row.text.split('\n', 1)[0]?.slice(0, 500) ?? ''
  const reason = error.slice(0, 300)
  return `${firstLine}\nThe result could not be written to memory (${reason}); fetch it with get_task_results with task_id ${row.taskId}. ${FALLBACK_MARK}`
}
