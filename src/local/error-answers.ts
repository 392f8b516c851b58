/**
 * The local service's side of the HTTP layer's error hook: every error as the AWS REST-JSON error
 * shape the SDK clients read (`x-amzn-errortype`, `{message, fieldList?, reason?}`, the request
 * id, and any headers of longrun's the error carries), the layer's errors as AWS error types.
 */
import { randomUUID } from 'node:crypto'
import {
  type ErrorAnswer,
  type ErrorMapping,
  MalformedRequestError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
} from '../http/index.ts'
import type { Logger } from '../shared/logger.ts'
import { AwsServiceError } from './errors.ts'
import { tooLarge } from './http-io.ts'
import type { LocalVariables } from './router.ts'

/** `error` as an AwsServiceError, or undefined for an error the service does not know. */
export function awsErrorOf(error: unknown): AwsServiceError | undefined {
  if (error instanceof AwsServiceError) return error
  if (error instanceof PayloadTooLargeError) return tooLarge(error.limitBytes)
  if (error instanceof RouteNotFoundError)
    return new AwsServiceError('UnknownOperationException', `No operation at ${error.method} ${error.path}`)
  if (error instanceof MethodNotAllowedError)
    return new AwsServiceError(
      'UnknownOperationException',
      `Method ${error.method} is not supported on ${error.path}`,
      { status: 405 },
    )
  if (error instanceof MalformedRequestError)
    return new AwsServiceError('SerializationException', error.message)
  return undefined
}

/** The AWS-shaped answer to `error`. */
function awsErrorAnswer(error: AwsServiceError, requestId: string): ErrorAnswer {
  return {
    status: error.status,
    body: error.toBody(),
    headers: { 'x-amzn-errortype': error.code, 'x-amzn-requestid': requestId, ...error.headers },
  }
}

/** The local service's error mapping; a stream already under way is broken, never ended as if whole. */
export function localErrorMapping(logger: Logger): ErrorMapping<LocalVariables> {
  return {
    logger,
    afterAnswerBegan: 'destroy',
    answer: (error, c) => {
      const known = awsErrorOf(error)
      return known && awsErrorAnswer(known, c?.get('requestId') ?? randomUUID())
    },
    internal: (c) =>
      awsErrorAnswer(
        new AwsServiceError(
          'InternalServerException',
          'The local AgentCore service failed to handle the request',
        ),
        c?.get('requestId') ?? randomUUID(),
      ),
  }
}
