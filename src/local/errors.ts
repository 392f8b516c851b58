/**
 * AWS-shaped service errors. The AWS SDK v3 reads the `x-amzn-errortype` header and the JSON
 * `message`, so a client gets `ValidationException` etc. as its own exception classes.
 */

/** One field that failed validation, as AgentCore reports it in `fieldList`. */
export interface ValidationField {
  readonly name: string
  readonly message: string
}

export type AwsErrorType =
  | 'ValidationException'
  | 'ResourceNotFoundException'
  | 'ThrottlingException'
  | 'InternalServerException'
  | 'AccessDeniedException'
  | 'ConflictException'
  /** A session with a turn in progress (InvokeAgentRuntime); the AWS SDK retries it with backoff. */
  | 'RetryableConflictException'
  | 'ServiceQuotaExceededException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'RuntimeClientError'

const STATUS_BY_TYPE: Record<AwsErrorType, number> = {
  ValidationException: 400,
  SerializationException: 400,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
  AccessDeniedException: 403,
  ConflictException: 409,
  RetryableConflictException: 409,
  ServiceQuotaExceededException: 402,
  UnknownOperationException: 404,
  RuntimeClientError: 424,
}

/** An error the local service answers with; `code` is the AWS error type. */
export class AwsServiceError extends Error {
  readonly code: AwsErrorType
  readonly status: number
  readonly fieldList: readonly ValidationField[] | undefined
  /** AgentCore's `reason` member, e.g. `IdempotentParameterMismatchException`. */
  readonly reason: string | undefined
  readonly headers: Readonly<Record<string, string>>

  constructor(
    code: AwsErrorType,
    message: string,
    options?: {
      fieldList?: ValidationField[]
      status?: number
      reason?: string
      /** Headers of longrun's sent with the error (the invoke gateway's runtime error, as data). */
      headers?: Readonly<Record<string, string>>
    },
  ) {
    super(message)
    this.name = code
    this.code = code
    this.status = options?.status ?? STATUS_BY_TYPE[code]
    this.fieldList = options?.fieldList
    this.reason = options?.reason
    this.headers = options?.headers ?? {}
  }

  /** The JSON body AWS services send for this error. */
  toBody(): Record<string, unknown> {
    const body: Record<string, unknown> = { message: this.message }
    if (this.reason) body.reason = this.reason
    if (this.fieldList && this.fieldList.length > 0) {
      body.reason ??= 'FieldValidationFailed'
      body.fieldList = this.fieldList
    }
    return body
  }
}

/** A ValidationException naming every field that failed. */
export function validationError(fields: ValidationField[]): AwsServiceError {
  const message = fields.map((f) => `${f.name}: ${f.message}`).join('; ')
  return new AwsServiceError('ValidationException', `Invalid request: ${message}`, { fieldList: fields })
}

export function notFound(what: string): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', `${what} not found`)
}

/** A client token reused with other parameters: AgentCore's ValidationException reason for it. */
export function idempotencyMismatch(operation: string): AwsServiceError {
  return new AwsServiceError(
    'ValidationException',
    `clientToken: was already used for a ${operation} request with different parameters`,
    {
      reason: 'IdempotentParameterMismatchException',
      fieldList: [{ name: 'clientToken', message: 'was already used with different parameters' }],
    },
  )
}
