import { ApiModelError } from './api-model-error.ts'
import type { ApiModel, OperationInput } from './api-model.ts'
import { type LocalRules, ModelSchemas } from './model-schema.ts'
import { RequestCheck } from './request-check.ts'
import type { JsonRoute, OperationRequest } from '../router.ts'

/** How one operation is served; its method, path and success status come from the model's HTTP binding. */
export interface ModelRouteHandler {
  /** True when the operation writes: a lost response is only simulated for writes. */
  readonly writes: boolean
  /** The response body, built synchronously (one store transaction); a failure is thrown as an AwsServiceError. */
  handle(request: OperationRequest): unknown
}

/** The route of `operation` as the model binds it (method, URI template, status), served by `handler`. */
export function modelRoute<M extends ApiModel>(
  model: M,
  operation: keyof M['operations'] & string,
  handler: ModelRouteHandler,
): JsonRoute {
  const binding = model.operations[operation]
  if (!binding) throw new ApiModelError(`operation ${operation} is not in the model`)
  return {
    kind: 'json',
    method: binding.method,
    path: binding.uri,
    operation,
    writes: handler.writes,
    handle: (request) => ({ status: binding.code, body: handler.handle(request) }),
  }
}

/**
 * An operation's input as one object, gathered from where the model says each member travels: the
 * URI path, a query parameter, a header or the JSON body. Body members the model does not list are
 * left out.
 */
export function operationInput<M extends ApiModel>(
  model: M,
  operation: keyof M['operations'] & string,
  request: OperationRequest,
): Record<string, unknown> {
  const binding = model.operations[operation]
  const shape = binding && model.shapes[binding.input]
  if (!shape || shape.type !== 'structure')
    throw new ApiModelError(`operation ${operation} has no input structure`)
  const input: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(shape.members)) {
    if (member.label) input[name] = request.params[name]
    else if (member.query !== undefined) {
      const value = request.query.get(member.query)
      if (value !== null) input[name] = value
    } else if (member.header !== undefined) input[name] = request.headers[member.header.toLowerCase()]
    else if (Object.hasOwn(request.body, name)) input[name] = request.body[name]
  }
  return input
}

/** One plane's routes and request checks, over its model and local rules (schemas built once). */
export interface ModelApi<M extends ApiModel> {
  /** An operation's route, bound as the model binds it; its schema is built now, so a rule the builder cannot express fails at start-up. */
  route(operation: keyof M['operations'] & string, handler: ModelRouteHandler): JsonRoute
  /**
   * A request's input, checked against its operation's schema. `more` adds the handler's own checks
   * on the raw input (which a bad field may leave of any type), so one ValidationException names
   * every bad field.
   */
  validInput<O extends keyof M['operations'] & string>(
    operation: O,
    request: OperationRequest,
    more?: (raw: Readonly<Record<string, unknown>>, check: RequestCheck) => void,
  ): OperationInput<M, O>
}

/** The {@link ModelApi} of `model` with its `local` rules. */
export function modelApi<M extends ApiModel>(model: M, local: LocalRules): ModelApi<M> {
  const schemas = new ModelSchemas({ model, local })
  return {
    route(operation, handler) {
      schemas.input(operation)
      return modelRoute(model, operation, handler)
    },
    validInput(operation, request, more) {
      const check = new RequestCheck()
      const raw = operationInput(model, operation, request)
      const input = check.parse(schemas.input(operation), raw)
      more?.(raw, check)
      return check.valid(input)
    },
  }
}
