/**
 * How `longrun invoke` shows a streamed invocation: the answer on stdout as it arrives, and on
 * stderr the tool calls, a progress bar per running tool (cli-progress, on a terminal; a line per
 * step otherwise) and the background tasks started.
 */
import { SingleBar } from 'cli-progress'
import type { ContinuationMark } from '../memory/session-timeline.ts'
import type { RuntimeInterrupt, RuntimeStreamEvent } from '../runtime/stream-events.ts'

/** What marks a continuation turn, the agent acting on a finished task, wherever the CLI shows one. */
export const WHILE_AWAY = 'while you were away'

/** The tag of a continuation's entry: `[while you were away]`, or `[while you were away, stopped]`. */
export function continuationTag(mark: ContinuationMark): string {
  return mark.stopped ? `[${WHILE_AWAY}, stopped]` : `[${WHILE_AWAY}]`
}

/** Where the display writes. */
export interface DisplayStreams {
  readonly out: NodeJS.WritableStream
  readonly err: NodeJS.WritableStream & { isTTY?: boolean }
}

/** Renders one invocation's events in order. */
export class InvocationDisplay {
  readonly #out: NodeJS.WritableStream
  readonly #err: NodeJS.WritableStream & { isTTY?: boolean }
  readonly #bars = new Map<string, SingleBar>()
  /** The last whole step printed per tool call, when there is no terminal to draw bars on. */
  readonly #steps = new Map<string, number>()
  #midLine = false

  constructor(streams: DisplayStreams) {
    this.#out = streams.out
    this.#err = streams.err
  }

  show(event: RuntimeStreamEvent): void {
    switch (event.type) {
      case 'text':
        this.#out.write(event.text)
        this.#midLine = !event.text.endsWith('\n')
        return
      case 'tool_start':
        this.#note(`-> ${event.tool} ${JSON.stringify(event.input)}`)
        return
      case 'tool_progress':
        this.#progress(event)
        return
      case 'tool_end':
        this.#stopBar(event.tool_use_id)
        this.#note(event.status === 'success' ? `<- ${event.tool} done` : `<- ${event.tool} failed`)
        return
      case 'task_started':
        this.#note(
          `task ${event.task_id} started (${event.tool}): it runs in the background and its result arrives in this session`,
        )
        return
      case 'interrupt':
        this.#stopAll()
        this.#note(`question ${event.interrupt_id}: ${questionText(event)}`)
        return
      case 'done':
        this.#stopAll()
        if (this.#midLine) this.#out.write('\n')
        this.#midLine = false
        return
      case 'error':
        this.#stopAll()
        this.#note(`error: ${event.code}: ${errorText(event)}`)
        return
    }
  }

  /** Stops any bar still drawn (the stream ended early). */
  close(): void {
    this.#stopAll()
  }

  #progress(event: Extract<RuntimeStreamEvent, { type: 'tool_progress' }>): void {
    const key = event.tool_use_id ?? event.tool
    const total = event.total ?? Math.max(event.progress, 1)
    const label = event.message === 'still working' ? undefined : event.message
    if (this.#err.isTTY) {
      let bar = this.#bars.get(key)
      if (bar === undefined) {
        this.#breakLine()
        bar = new SingleBar({
          format: `   ${event.tool} [{bar}] {value}/{total} {label}`,
          stream: this.#err as NodeJS.WritableStream,
          hideCursor: true,
          clearOnComplete: false,
          formatValue: (value) => String(Math.floor(value)),
        })
        bar.start(total, event.progress, { label: label ?? '' })
        this.#bars.set(key, bar)
        return
      }
      bar.setTotal(total)
      bar.update(event.progress, label === undefined ? {} : { label })
      return
    }
    // Heartbeats (fractional steps, "still working") are not worth a line of their own.
    const step = Math.floor(event.progress)
    if (label === undefined || step === this.#steps.get(key)) return
    this.#steps.set(key, step)
    this.#note(`   ${event.tool} ${step}/${total} ${label}`)
  }

  #stopBar(key: string): void {
    this.#bars.get(key)?.stop()
    this.#bars.delete(key)
  }

  #stopAll(): void {
    for (const key of [...this.#bars.keys()]) this.#stopBar(key)
  }

  #note(line: string): void {
    this.#breakLine()
    this.#err.write(`${line}\n`)
  }

  /** Tool lines go on a line of their own, never glued to half an answer. */
  #breakLine(): void {
    if (!this.#midLine) return
    this.#out.write('\n')
    this.#midLine = false
  }
}

/** What a paused turn asks, in words: an approval's question, else its reason as JSON, else its name. */
export function questionText(interrupt: RuntimeInterrupt): string {
  const reason = interrupt.reason as { question?: unknown } | undefined
  if (typeof reason?.question === 'string') return reason.question
  if (typeof reason === 'string') return reason
  return reason === undefined ? interrupt.name : `${interrupt.name}: ${JSON.stringify(reason)}`
}

/** An answer as typed: JSON when it parses (true, {"approved": true}), else the text itself. */
export function answerValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/** The words of an `error` event: its `message`, or an `error` field a runtime may send instead. */
export function errorText(event: Extract<RuntimeStreamEvent, { type: 'error' }>): string {
  const extra = (event as { error?: unknown }).error
  return event.message || (typeof extra === 'string' ? extra : '(no message)')
}
