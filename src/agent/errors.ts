/** Errors of the agent wiring (`longrun/agent`), each with a stable `code`. */

/** A configuration field of the agent wiring that cannot be used, named by `field`. */
export class AgentConfigError extends Error {
  readonly code = 'INVALID_AGENT_CONFIG'
  readonly field: string

  constructor(field: string, message: string) {
    super(`${field}: ${message}`)
    this.name = 'AgentConfigError'
    this.field = field
  }
}

/** A Bedrock model was asked for, and the AWS credential chain found no credentials for it. */
export class ModelCredentialsError extends Error {
  readonly code = 'MODEL_CREDENTIALS_MISSING'

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ModelCredentialsError'
  }
}
