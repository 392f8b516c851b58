/**
 * Errors of a client invoking an agent runtime, each with a stable `code` (the CLI prints them as
 * `longrun: <code>: <message>`; the console shows them in the chat).
 */

/** A service answered, but not with what the caller expects (a stream without an answer, say). */
export class UnexpectedAnswerError extends Error {
  readonly code = 'UNEXPECTED_ANSWER'
  constructor(message: string) {
    super(message)
    this.name = 'UnexpectedAnswerError'
  }
}

/** A bearer token would travel in clear text: only HTTPS, or plain HTTP to this machine, may carry one. */
export class InsecureEndpointError extends Error {
  readonly code = 'INSECURE_ENDPOINT'
  constructor(message: string) {
    super(message)
    this.name = 'InsecureEndpointError'
  }
}
