/**
 * The user hears of a continuation: after a wake answered, one notice is owed to the deployment's
 * webhook, signed as the Standard Webhooks specification says (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). The id is derived from the
 * task, so every retry of the same notice carries the same id and a receiver keeps the first; the
 * timestamp and signature are made at each attempt, so a late retry is not refused as stale.
 */
import { createHmac } from 'node:crypto'
import { backoffDelayMs } from '../contract/index.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { AfterEndKind, Attempted } from './after-end-jobs.ts'
import { McpServerError } from './errors.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import type { AfterEndJob } from './task-record.ts'
import type { WakeAnswer, WakeEntry } from './wake-delivery.ts'

/** The kind of a continuation's notice. */
export const NOTICE_JOB = 'notice'

/** What a notice says happened. */
export type NoticeType = 'continuation.completed' | 'continuation.approval_needed' | 'continuation.stopped'

/** The body of a notice (`data` in the Standard Webhooks envelope). */
export interface NoticeData {
  readonly task_id: string
  readonly tool: string
  readonly task_status: string
  readonly memory_id: string
  readonly actor_id: string
  readonly session_id: string
  readonly runtime_session_id: string
  /** What the agent said in the continuation (or why it stopped waking). */
  readonly response: string
  /** The questions a paused continuation waits on, answered with `longrun invoke --answer`. */
  readonly interrupts: readonly unknown[]
}

/** What a notice job holds: the exact body, so every retry sends the same. */
export interface NoticeEntry {
  readonly webhookId: string
  readonly type: NoticeType
  readonly data: NoticeData
}

/** Where notices go. */
export interface WebhookConfig {
  readonly url: string
  /** `whsec_` and the base64 of the key, as Standard Webhooks secrets are written. */
  readonly secret: string
}

/** Configuration of {@link webhookNotice}. */
export interface WebhookNoticeConfig extends WebhookConfig {
  /** How long one delivery may take before it counts as failed and is retried. */
  readonly timeoutMs?: number | undefined
  readonly baseDelayMs?: number | undefined
  readonly maxDelayMs?: number | undefined
  readonly random?: (() => number) | undefined
  readonly clock?: (() => number) | undefined
  readonly logger?: Logger | undefined
}

/** The key of a `whsec_...` secret; INVALID_CONFIG for anything else. */
export function webhookKeyOf(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined
  const key = encoded === undefined ? undefined : Buffer.from(encoded, 'base64')
  if (
    key === undefined ||
    key.length < 24 ||
    key.toString('base64').replace(/=+$/, '') !== encoded?.replace(/=+$/, '')
  )
    throw new McpServerError(
      'INVALID_CONFIG',
      'MCP_WEBHOOK_SECRET must be whsec_ followed by the base64 of at least 24 random bytes',
      { field: 'MCP_WEBHOOK_SECRET' },
    )
  return key
}

/** The `webhook-signature` of one delivery. */
export function webhookSignature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`
}

/** The notice owed after a wake answered. */
export function noticeAfterWake(entry: WakeEntry, answer: WakeAnswer): AfterEndJob {
  const type: NoticeType =
    answer.outcome === 'stopped'
      ? 'continuation.stopped'
      : answer.interrupts.length > 0
        ? 'continuation.approval_needed'
        : 'continuation.completed'
  const notice: NoticeEntry = {
    webhookId: `msg_longrun_${entry.taskId}`,
    type,
    data: {
      task_id: entry.taskId,
      tool: entry.tool,
      task_status: entry.status,
      memory_id: entry.memoryId,
      actor_id: entry.actorId,
      session_id: entry.sessionId,
      runtime_session_id: entry.runtimeSessionId,
      response: answer.response,
      interrupts: answer.interrupts,
    },
  }
  return { taskId: entry.taskId, kind: NOTICE_JOB, payload: notice }
}

/** The notice kind: one signed POST per attempt until the receiver answers 2xx. */
export function webhookNotice(config: WebhookNoticeConfig): AfterEndKind {
  const key = webhookKeyOf(config.secret)
  const policy = {
    baseDelayMs: config.baseDelayMs ?? MCP_SERVER_DEFAULTS.deliveryBaseDelayMs,
    maxDelayMs: config.maxDelayMs ?? MCP_SERVER_DEFAULTS.deliveryMaxDelayMs,
  }
  const clock = config.clock ?? Date.now
  const logger = config.logger ?? silentLogger
  const timeoutMs = config.timeoutMs ?? MCP_SERVER_DEFAULTS.webhookTimeoutMs
  return {
    kind: NOTICE_JOB,
    // Owed after a wake, never by an end itself.
    owed: () => undefined,
    attempt: async (job): Promise<Attempted> => {
      const notice = job.payload as NoticeEntry
      const timestamp = Math.floor(clock() / 1000)
      const body = JSON.stringify({
        type: notice.type,
        timestamp: new Date(timestamp * 1000).toISOString(),
        data: notice.data,
      })
      const retry = (error: string): Attempted => ({
        retryInMs: backoffDelayMs(policy, job.attempts + 1, config.random),
        error,
      })
      let status: number
      try {
        const response = await fetch(config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': notice.webhookId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': webhookSignature(key, notice.webhookId, timestamp, body),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        })
        status = response.status
        await response.body?.cancel().catch(() => {})
      } catch (error) {
        return retry(`the webhook could not be reached (${(error as Error).name})`)
      }
      if (status >= 200 && status < 300) {
        logger.log('info', 'continuation notice sent', { taskId: job.taskId, type: notice.type })
        return { settled: 'delivered' }
      }
      // The receiver refused this notice for good; 408, 409 and 429 and server errors pass.
      if (status >= 400 && status < 500 && ![408, 409, 429].includes(status)) {
        logger.log('warn', 'the webhook refused a notice', { taskId: job.taskId, status })
        return { settled: 'failed', error: `HTTP ${status}` }
      }
      return retry(`HTTP ${status}`)
    },
  }
}
