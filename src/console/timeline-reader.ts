/**
 * A session's memory timeline for the console, read incrementally: a page polls with the cursor
 * of its previous read and gets only the events it has not been given yet.
 *
 * ListEvents answers newest first and has no ordering parameter, so a read pages from the newest
 * event down to a floor. The floor is not simply the newest event already given: writers stamp
 * their events themselves, and the MCP server stamps a task's result with the task's end, so a
 * delivery that lags lands below events stamped after it. The floor therefore trails the newest
 * event given by a lookback allowance, and the cursor carries the ids given within it, which are
 * skipped. (A result stamped further back than the allowance is not seen by an incremental read;
 * the page reads the whole session again when a task of the session says it was delivered and its
 * result is not in view.)
 */
import {
  type Event,
  ListEventsCommand,
  type ListEventsCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore'
import {
  type MemoryDataClient,
  timelineOf,
  type TimelineAuthor,
  type TimelineEntry,
} from '../memory/index.ts'
import { decodePageToken, encodePageToken } from '../shared/page-token.ts'
import { ConsoleError } from './console-error.ts'
import { type DeliveredResult, deliveredResultOf } from './result-values.ts'

/** One entry of the timeline, readable, with its event's raw payload. */
export interface TimelineItem {
  /** Unique within the session: the event id and the entry's place in the event. */
  readonly key: string
  readonly eventId: string
  readonly time: string
  readonly author: TimelineAuthor
  readonly text: string
  /** For a task's result written by the MCP server: its task, outcome and values. */
  readonly result?: DeliveredResult
  /** The task its event names (metadata): a delivered result's, or the one that woke a continuation. */
  readonly taskId?: string
  /**
   * On every entry of a continuation turn (the agent acting on a finished task while the user was
   * away): its depth in the chain, or `stopped` (see src/memory/session-timeline.ts).
   */
  readonly continuation?: TimelineEntry['continuation']
  /** The tools an agent's message calls, by name. */
  readonly calls?: TimelineEntry['calls']
  readonly raw: unknown
}

/** One read: the entries not given before (oldest first) and the cursor of the next read. */
export interface TimelinePage {
  readonly items: TimelineItem[]
  readonly cursor: string
  /** True when this read was of the whole session (no cursor given). */
  readonly full: boolean
  /** ListEvents calls this read made. */
  readonly listCalls: number
}

/** Defaults of {@link TimelineReader}. */
export const TIMELINE_DEFAULTS = {
  /**
   * How far below the newest event given a read still looks for events stamped late (the session
   * manager's own catch-up allows as much for clock skew between writers).
   */
  lookbackMs: 10_000,
  /** Most event ids a cursor carries; past it the floor rises to keep the cursor short. */
  maxCursorIds: 200,
  /** First page of an incremental read: the lookback window and what is new, as a rule. */
  firstPageSize: 20,
  /** Later pages, and every page of a whole-session read (the service's maximum). */
  pageSize: 100,
} as const

/** Configuration of {@link TimelineReader}. */
export interface TimelineReaderConfig {
  readonly client: MemoryDataClient
  readonly memoryId: string
  readonly lookbackMs?: number
  readonly maxCursorIds?: number
}

/** Where a read stopped: the floor of the next read and the ids given at or above it. */
interface Position {
  /** Epoch ms; null while the session had no event (the next read takes everything). */
  readonly f: number | null
  readonly ids: readonly string[]
}

/** Reads a session's timeline, all of it or what is new since a cursor. */
export class TimelineReader {
  readonly #client: MemoryDataClient
  readonly #memoryId: string
  readonly #lookbackMs: number
  readonly #maxCursorIds: number

  constructor(config: TimelineReaderConfig) {
    this.#client = config.client
    this.#memoryId = config.memoryId
    this.#lookbackMs = config.lookbackMs ?? TIMELINE_DEFAULTS.lookbackMs
    this.#maxCursorIds = config.maxCursorIds ?? TIMELINE_DEFAULTS.maxCursorIds
  }

  /**
   * The whole session (no cursor), or what was written since the read that gave `cursor`.
   * ConsoleError INVALID_REQUEST when the cursor is not one this session's timeline gave.
   */
  async read(session: { actorId: string; sessionId: string }, cursor?: string): Promise<TimelinePage> {
    const scope = `timeline ${this.#memoryId} ${session.actorId} ${session.sessionId}`
    const position = cursor === undefined ? undefined : positionOf(decodePageToken(cursor, scope))
    if (cursor !== undefined && position === undefined)
      throw new ConsoleError(
        'INVALID_REQUEST',
        "cursor: not one this session's timeline gave (read it again without a cursor)",
      )
    const floor = position?.f ?? Number.NEGATIVE_INFINITY
    const read: Event[] = []
    let listCalls = 0
    let nextToken: string | undefined
    pages: do {
      const page = (await this.#client.send(
        new ListEventsCommand({
          memoryId: this.#memoryId,
          actorId: session.actorId,
          sessionId: session.sessionId,
          includePayloads: true,
          maxResults:
            position !== undefined && listCalls === 0
              ? TIMELINE_DEFAULTS.firstPageSize
              : TIMELINE_DEFAULTS.pageSize,
          ...(nextToken !== undefined && { nextToken }),
        }),
      )) as ListEventsCommandOutput
      listCalls += 1
      for (const event of page.events ?? []) {
        if (timestampOf(event) < floor) break pages
        read.push(event)
      }
      nextToken = page.nextToken
    } while (nextToken !== undefined)

    const given = new Set(position?.ids ?? [])
    const fresh = read.filter((event) => !given.has(event.eventId ?? '')).reverse()
    return {
      items: fresh.flatMap(itemsOf),
      cursor: encodePageToken(scope, this.#next(position, read)),
      full: position === undefined,
      listCalls,
    }
  }

  /** The next read's floor (never lower than this one's) and the ids given at or above it. */
  #next(position: Position | undefined, read: readonly Event[]): Position {
    const newest = read[0]
    if (newest === undefined) return position ?? { f: null, ids: [] }
    let floor = Math.max(position?.f ?? Number.NEGATIVE_INFINITY, timestampOf(newest) - this.#lookbackMs)
    let within = read.filter((event) => timestampOf(event) >= floor)
    const last = within[this.#maxCursorIds - 1]
    if (within.length > this.#maxCursorIds && last !== undefined) {
      floor = timestampOf(last)
      within = read.filter((event) => timestampOf(event) >= floor)
    }
    return { f: floor, ids: within.map((event) => event.eventId ?? '') }
  }
}

function timestampOf(event: Event): number {
  return event.eventTimestamp?.getTime() ?? 0
}

function itemsOf(event: Event): TimelineItem[] {
  return timelineOf(event).map((entry, index) => {
    const result = entry.author === 'task result' ? deliveredResultOf(entry.text) : undefined
    return {
      key: `${entry.eventId}/${index}`,
      eventId: entry.eventId,
      time: entry.time.toISOString(),
      author: entry.author,
      text: entry.text,
      ...(result !== undefined && { result }),
      ...(entry.taskId !== undefined && { taskId: entry.taskId }),
      ...(entry.continuation !== undefined && { continuation: entry.continuation }),
      ...(entry.calls !== undefined && { calls: entry.calls }),
      raw: event.payload ?? [],
    }
  })
}

/** A decoded cursor position, or undefined when it is not one (made up, or from another listing). */
function positionOf(value: unknown): Position | undefined {
  const candidate = value as { f?: unknown; ids?: unknown } | undefined
  if (typeof candidate !== 'object' || candidate === null) return undefined
  const { f, ids } = candidate
  if (f !== null && (typeof f !== 'number' || !Number.isFinite(f))) return undefined
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) return undefined
  return { f, ids }
}
