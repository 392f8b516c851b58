/**
 * The abort signal of one tool call: it aborts when the caller's signal does, or when the call
 * reaches its cap. Not `AbortSignal.any([caller, cap])`: Node keeps a composite signal that has an
 * abort listener alive until one of its sources aborts, and the MCP SDK never removes the listener
 * it adds. With a caller's signal that outlives the call (an agent's, a server's), every call's
 * client, transport and request stayed reachable for as long as that signal lived. A plain
 * controller goes with the call once {@link CallSignal.release} has dropped the two links to it.
 */

/** Configuration of {@link callSignal}. */
export interface CallSignalConfig {
  /** The caller's signal, if any: its abort (and reason) becomes the call's. */
  readonly caller?: AbortSignal | undefined
  /** Milliseconds after which the call is aborted with `capReason()`. */
  readonly capMs: number
  /** Why the cap aborted the call; built only when it does. */
  readonly capReason: () => Error
}

/** One call's signal, and how to let go of it when the call settles. */
export interface CallSignal {
  readonly signal: AbortSignal
  /** Removes the listener on the caller's signal and stops the cap's timer; call it in a `finally`. */
  release(): void
}

/** A signal for one call, linked to the caller's by a listener that {@link CallSignal.release} removes. */
export function callSignal(config: CallSignalConfig): CallSignal {
  const controller = new AbortController()
  const { caller } = config
  const onCallerAbort = () => controller.abort(caller?.reason)
  if (caller?.aborted) controller.abort(caller.reason)
  else caller?.addEventListener('abort', onCallerAbort, { once: true })
  const timer = setTimeout(() => controller.abort(config.capReason()), config.capMs)
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer)
      caller?.removeEventListener('abort', onCallerAbort)
    },
  }
}
