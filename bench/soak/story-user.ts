/**
 * One user of the soak: tells the story over and over, each time in a new runtime session (train a
 * model in the background, ask how it goes, ask for the result), streaming every answer so the
 * tool calls the runtime made can be counted. Between invocations it waits at the gate, which the
 * benchmark closes while it measures the runtime's heap.
 */
import { parseRuntimeStream, SESSION_ID_HEADER } from '../../src/runtime/index.ts'

/** Opened and closed by the benchmark; users pass it before each invocation. */
export class Gate {
  #open: Promise<void> = Promise.resolve()
  #release: (() => void) | undefined
  #inFlight = 0
  #idle: (() => void) | undefined

  /** Waits while the gate is closed, then counts the caller as in flight until `leave()`. */
  async enter(): Promise<void> {
    for (;;) {
      const open = this.#open
      await open
      if (open === this.#open) break
    }
    this.#inFlight += 1
  }

  leave(): void {
    this.#inFlight -= 1
    if (this.#inFlight === 0) this.#idle?.()
  }

  /** Closes the gate and resolves once no invocation is in flight. */
  async close(): Promise<void> {
    this.#open = new Promise((resolve) => {
      this.#release = resolve
    })
    if (this.#inFlight === 0) return
    await new Promise<void>((resolve) => {
      this.#idle = resolve
    })
    this.#idle = undefined
  }

  open(): void {
    this.#release?.()
  }
}

/** What the users did so far. */
export interface SoakTally {
  toolCalls: number
  invocations: number
  errors: number
}

/** Configuration of {@link runStoryUser}. */
export interface StoryUserConfig {
  readonly runtimeUrl: string
  /** The user's actor id: each user's tasks and memory are its own. */
  readonly actorId: string
  readonly gate: Gate
  readonly tally: SoakTally
  /** Told once per ended tool call. */
  readonly onToolCall: () => void
  /** Whether to begin another story. */
  readonly keepGoing: () => boolean
}

/** The story's prompts, in order, within one session. */
export function storyPrompts(model: string): string[] {
  return [`Train a model called ${model} for 3 epochs`, 'What is the status of my task?', 'Show my results']
}

/** Tells the story until `keepGoing()` says stop. */
export async function runStoryUser(config: StoryUserConfig): Promise<void> {
  for (let story = 1; config.keepGoing(); story += 1) {
    const sessionId = `soak-${config.actorId}-story-${story}-${'0'.repeat(24)}`
    for (const prompt of storyPrompts(`${config.actorId}-${story}`)) {
      await config.gate.enter()
      try {
        await invoke(config, sessionId, prompt)
      } finally {
        config.gate.leave()
      }
    }
  }
}

async function invoke(config: StoryUserConfig, sessionId: string, prompt: string): Promise<void> {
  const { tally } = config
  tally.invocations += 1
  try {
    const response = await fetch(`${config.runtimeUrl}/invocations`, {
      method: 'POST',
      headers: { [SESSION_ID_HEADER]: sessionId, accept: 'text/event-stream' },
      body: JSON.stringify({ prompt, actor_id: config.actorId }),
    })
    if (response.status !== 200 || response.body === null) {
      tally.errors += 1
      await response.body?.cancel()
      return
    }
    let done = false
    for await (const event of parseRuntimeStream(response.body)) {
      if (event.type === 'tool_end') {
        if (event.status === 'error') tally.errors += 1
        tally.toolCalls += 1
        config.onToolCall()
      } else if (event.type === 'error') tally.errors += 1
      else if (event.type === 'done') done = true
    }
    if (!done) tally.errors += 1
  } catch {
    tally.errors += 1
  }
}
