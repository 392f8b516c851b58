/**
 * Where the restored history begins when only a window of it is kept: the rule a bounded restore
 * reads newest-first towards, and the one a warm restore re-applies. It is Strands' sliding window
 * (keep at most N messages, starting on a user prompt) applied to the stored conversation, so an
 * agent restored cold, restored warm and kept alive all hold the same window.
 */
import type { Message } from '@strands-agents/sdk'
import { normalizeConverseHistory } from './converse-history.ts'

/** A user's own prompt: a user message with content that is not a tool result. */
export function isPrompt(message: Message): boolean {
  return message.role === 'user' && !message.content.some((block) => block.type === 'toolResultBlock')
}

/** What is known of the message before the first one given. */
export type HistoryHead =
  /** There is none: the first message given is the session's first. */
  | 'session-start'
  /** The first message given is known to begin a turn (an earlier restore's window began there). */
  | 'turn-start'
  /** Older messages may precede the first one given. */
  | 'unknown'

/**
 * The index (in `messages`, oldest first) where the window of at most `window` messages begins, or
 * undefined when the messages given cannot tell and older ones are needed.
 *
 * The window begins at a turn start: a prompt whose previous message is neither a user message (so
 * a task result written just before the prompt, which the model sees merged with it, is never cut
 * off) nor a tool call left without its result (the model sees the prompt merged with an
 * "interrupted" result), or the session's first message. It is the earliest turn start from which
 * the history, as the model receives it (same-role messages merged, interrupted tool calls
 * answered), holds at most `window` messages; when even the newest turn is longer, that turn's
 * start (where Strands, finding no place to cut, would keep the whole history).
 */
export function windowStart(
  messages: readonly Message[],
  window: number,
  head: HistoryHead,
): number | undefined {
  let fits: number | undefined
  // The model's length of messages[end..]: turn starts split the history into turns whose lengths
  // add up, so each turn is measured once.
  let length = 0
  let end = messages.length
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as Message
    if (index === 0 && head === 'unknown' && isPrompt(message)) return undefined
    const turnStart =
      index === 0
        ? head === 'turn-start' || (head === 'session-start' && isPrompt(message))
        : isPrompt(message) && beginsTurnAfter(messages[index - 1] as Message)
    if (!turnStart) continue
    length += normalizeConverseHistory(messages.slice(index, end)).length
    end = index
    if (length > window) return fits ?? index
    fits = index
  }
  if (head === 'unknown') return undefined
  if (head === 'turn-start') return fits ?? 0
  const whole = length + normalizeConverseHistory(messages.slice(0, end)).length
  return whole <= window ? 0 : (fits ?? 0)
}

/** A prompt after `previous` begins a turn of its own in the model's view. */
function beginsTurnAfter(previous: Message): boolean {
  if (previous.role === 'user') return false
  // A tool call the prompt does not answer is answered "interrupted" in the prompt's message.
  return !previous.content.some((block) => block.type === 'toolUseBlock')
}
