/** Errors of the command line, each with a stable `code`; printed as `longrun: <message>`, never with a stack. */

/** A command used wrongly or without what it needs. */
export class CliUsageError extends Error {
  readonly code = 'CLI_USAGE'
  constructor(message: string) {
    super(message)
    this.name = 'CliUsageError'
  }
}

/** A service answered, but not with what the command expects (a stream without an answer, a failed tool). */
export class UnexpectedAnswerError extends Error {
  readonly code = 'UNEXPECTED_ANSWER'
  constructor(message: string) {
    super(message)
    this.name = 'UnexpectedAnswerError'
  }
}
