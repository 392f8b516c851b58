/**
 * One turn at a time per conversation. Two turns of one session running at once interleave their
 * messages in memory (one turn's prompt lands between the other's tool call and its result), and
 * each answers from a history that misses the other's. AgentCore Runtime refuses concurrent access
 * to one runtime session with a 409 `RetryableConflictException`; this process does the same, so a
 * client sees here what it sees on the platform, and retries.
 */

/** The conversation a turn writes to: one memory session of one actor. */
export interface ConversationKey {
  readonly memoryId: string
  readonly actorId: string
  readonly memorySessionId: string
}

/** The conversations with a turn in progress in this process. */
export class SessionTurns {
  readonly #busy = new Set<string>()

  /**
   * Marks the conversation busy and returns the function that frees it, or undefined when a turn
   * of it is already in progress (the caller refuses the new one).
   */
  tryBegin(conversation: ConversationKey): (() => void) | undefined {
    // Ids cannot hold a newline (memory, actor and session id rules), so the key is unambiguous.
    const key = `${conversation.memoryId}\n${conversation.actorId}\n${conversation.memorySessionId}`
    if (this.#busy.has(key)) return undefined
    this.#busy.add(key)
    let released = false
    return () => {
      if (released) return
      released = true
      this.#busy.delete(key)
    }
  }

  /** Conversations with a turn in progress. */
  get size(): number {
    return this.#busy.size
  }
}
