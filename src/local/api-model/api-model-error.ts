/**
 * A rule table the local service cannot turn into schemas: a shape or operation it names is missing,
 * or a constraint sits where the builder does not support it. Thrown while the routes are built, at
 * start-up, never on a request.
 */
export class ApiModelError extends Error {
  readonly code = 'API_MODEL_UNSUPPORTED'

  constructor(message: string) {
    super(message)
    this.name = 'ApiModelError'
  }
}
