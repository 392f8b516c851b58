/**
 * The restart rule, one for every backend: what becomes of a task whose process stopped while it
 * ran or waited, and the status messages that say so. Decisions only; the policy carries them out.
 */
import type { LongRunningTool } from './long-running-tool.ts'
import { isEnded, type TaskRecord } from './task-record.ts'

/** The status message of a task whose process stopped while it ran, and that is not run again. */
export const INTERRUPTED_MESSAGE = 'interrupted by a server restart'
/** The status message of a task run again after its process stopped, until it reports anything. */
export const RERUN_MESSAGE = `${INTERRUPTED_MESSAGE}; running again`
/** An interrupted task whose tool no live process serves any more. */
export const TOOL_GONE_MESSAGE = `${INTERRUPTED_MESSAGE} (tool no longer exists)`
/** An inline call still waiting for a slot when its process stopped: its request closed with it. */
export const SHUT_DOWN_BEFORE_START_MESSAGE = 'the server shut down before the call started'

/** Whether a task found running with its process gone runs again, or why it fails. */
export type Restart = { readonly rerun: true } | { readonly rerun: false; readonly reason: string }

/**
 * A task interrupted mid-run runs again when its tool declares `rerun` and it ran fewer than
 * `maxAttempts` times; an inline call never does (its request is gone), nor one whose tool is gone.
 */
export function restartOf(
  task: Pick<TaskRecord, 'mode' | 'runs'>,
  tool: LongRunningTool | undefined,
  maxAttempts: number,
): Restart {
  if (tool === undefined) return { rerun: false, reason: TOOL_GONE_MESSAGE }
  if (task.mode !== 'inline' && tool.onRestart === 'rerun' && task.runs < maxAttempts) return { rerun: true }
  return { rerun: false, reason: INTERRUPTED_MESSAGE }
}

/** What a process does with a task that another process, now gone, held. */
export type TakeOver =
  /** Another live process serves its tool: it is that process's to take. */
  | { readonly action: 'leave' }
  /** It was cancelled while it ran: its run is over. */
  | { readonly action: 'release' }
  /** It waits here: for the first time (it never ran), or to run again. */
  | { readonly action: 'queue'; readonly rerun: boolean; readonly statusMessage: string | undefined }
  | { readonly action: 'fail'; readonly reason: string }

/** The takeover rule: a task that waited waits here; one that ran follows {@link restartOf}. */
export function takeOverOf(
  task: Pick<TaskRecord, 'mode' | 'runs' | 'stage' | 'status' | 'tool'>,
  tool: LongRunningTool | undefined,
  servedElsewhere: ReadonlySet<string>,
  maxAttempts: number,
): TakeOver {
  if (tool === undefined && servedElsewhere.has(task.tool)) return { action: 'leave' }
  if (isEnded(task.status)) return { action: 'release' }
  if (task.stage === 'queued' && task.mode !== 'inline' && tool !== undefined)
    return { action: 'queue', rerun: false, statusMessage: undefined }
  const restart = restartOf(task, tool, maxAttempts)
  return restart.rerun
    ? { action: 'queue', rerun: true, statusMessage: RERUN_MESSAGE }
    : { action: 'fail', reason: restart.reason }
}

/** The status message a run starts with: a re-run says why it runs again; a first run, nothing yet. */
export function startMessageOf(task: Pick<TaskRecord, 'runs'>): string | null {
  return task.runs > 0 ? RERUN_MESSAGE : null
}
