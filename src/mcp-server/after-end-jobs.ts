/**
 * The rules of after-end jobs, for every backend: which jobs a task's end owes (recorded with the
 * end, in one write), and what one attempt leaves recorded: attempts counted, settled (delivered or
 * failed, never tried again) or pending with the time of the next try. A kind of job (the memory
 * event, `result-delivery.ts`) says only what an end owes and how to make one attempt; a second
 * kind is one more {@link AfterEndKind}, on both backends at once.
 */
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { Attempt } from './outbox-queue.ts'
import type { TaskStore } from './task-store.ts'
import type { AfterEndJob, JobKey, OwedJob, Settlement, TaskEnd, TaskRecord } from './task-record.ts'

/** What one attempt came to, in a kind's words. */
export type Attempted =
  /** Done; `then` are the jobs owed next, recorded with the settlement in one write. */
  | { readonly settled: 'delivered'; readonly then?: readonly AfterEndJob[] }
  /** Retrying cannot help. */
  | { readonly settled: 'failed'; readonly error: string }
  /** Try again in `retryInMs`, with `payload` instead of the old one when given. */
  | { readonly retryInMs: number; readonly error: string; readonly payload?: unknown }

/** A kind of after-end job. */
export interface AfterEndKind {
  /** Its name in the store (no `:`); each task owes at most one job of a kind. */
  readonly kind: string
  /** What `task`'s end owes, or undefined when it owes nothing of this kind. */
  owed(task: TaskRecord, end: TaskEnd): unknown
  /**
   * One attempt (`job.attempts` made before it); `sibling` reads the same task's job of another
   * kind (a wake waits for the memory event). `signal` aborts when the process stops: an attempt
   * that cannot end soon (a wake lasts the agent's turn) gives up, and the job stays owed.
   */
  attempt(
    job: OwedJob,
    sibling: (kind: string) => Promise<OwedJob | undefined>,
    signal: AbortSignal,
  ): Promise<Attempted>
}

/** Configuration of {@link AfterEndJobs}. */
export interface AfterEndJobsConfig {
  readonly store: TaskStore
  readonly kinds: readonly AfterEndKind[]
  readonly clock?: () => number
  readonly logger?: Logger
  /** Told of jobs a settlement recorded as owed next, so the outbox attempts them soon. */
  readonly owedNext?: (keys: readonly JobKey[]) => Promise<void>
}

/** A job of a kind this process does not serve waits this long for one that does. */
const UNSERVED_RETRY_MS = 60_000

/** The after-end jobs of one process. */
export class AfterEndJobs {
  readonly #store: TaskStore
  readonly #kinds: ReadonlyMap<string, AfterEndKind>
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #owedNext: ((keys: readonly JobKey[]) => Promise<void>) | undefined
  readonly #stopping = new AbortController()

  constructor(config: AfterEndJobsConfig) {
    this.#store = config.store
    this.#kinds = new Map(config.kinds.map((kind) => [kind.kind, kind]))
    this.#clock = config.clock ?? Date.now
    this.#logger = config.logger ?? silentLogger
    this.#owedNext = config.owedNext
  }

  /** The kinds served here. */
  get kinds(): string[] {
    return [...this.#kinds.keys()]
  }

  /** Attempts under way give up (the process stops): what they owe stays owed, for the next one. */
  stop(): void {
    this.#stopping.abort()
  }

  /** The pending jobs of the kinds served here, of every process. */
  owed(): Promise<JobKey[]> {
    return this.#store.owedJobs(this.kinds)
  }

  /** The jobs `task`'s end owes. */
  owedBy(task: TaskRecord, end: TaskEnd): AfterEndJob[] {
    const jobs: AfterEndJob[] = []
    for (const kind of this.#kinds.values()) {
      const payload = kind.owed(task, end)
      if (payload !== undefined) jobs.push({ taskId: task.taskId, kind: kind.kind, payload })
    }
    return jobs
  }

  /**
   * One attempt at an owed job, recorded: the delay before the next one, or undefined once it is
   * settled (a job found settled already is not tried again: each lands once).
   */
  readonly attempt: Attempt = async (key, known) => {
    const job = known ?? (await this.#store.job(key))
    if (job === undefined || job.state !== 'pending') return undefined
    const kind = this.#kinds.get(job.kind)
    const attempted: Attempted =
      kind === undefined
        ? { retryInMs: UNSERVED_RETRY_MS, error: `no process here serves ${job.kind} jobs` }
        : await kind.attempt(
            job,
            (other) => this.#store.job({ taskId: job.taskId, kind: other }),
            this.#stopping.signal,
          )
    await this.#store.settleJob(key, settlementOf(attempted, this.#clock()))
    if ('settled' in attempted) {
      // Recorded already: a crash before this add leaves them to the outbox's recovery.
      if ('then' in attempted && attempted.then !== undefined && attempted.then.length > 0)
        await this.#owedNext?.(attempted.then.map(({ taskId, kind }) => ({ taskId, kind })))?.catch(() => {})
      return undefined
    }
    if (kind === undefined)
      this.#logger.log('warn', 'an owed job of a kind this process does not serve', { ...key })
    return attempted.retryInMs
  }
}

/** What an attempt leaves recorded. */
function settlementOf(attempted: Attempted, now: number): Settlement {
  if ('settled' in attempted) {
    return {
      state: attempted.settled,
      lastError: attempted.settled === 'failed' ? attempted.error : undefined,
      ...('then' in attempted && attempted.then !== undefined && { then: attempted.then }),
    }
  }
  return {
    state: 'pending',
    lastError: attempted.error,
    retryAt: now + attempted.retryInMs,
    ...(attempted.payload !== undefined && { payload: attempted.payload }),
  }
}
