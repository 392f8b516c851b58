/**
 * Secrets a process is given by reference: the environment holds a Secrets Manager ARN
 * (`<NAME>_SECRET_ARN`), the value is read once at start, so only the ARN is ever in a template
 * or a task definition. A secret that cannot be read stops start-up with an error naming the
 * variable, rather than a process that runs without it and fails on first use.
 */
import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager'
import { isRecord } from './is-record.ts'

/** Reads a secret's text (its SecretString): Secrets Manager, or a test's own. */
export interface SecretReader {
  read(secretId: string): Promise<string>
  /** Releases what reading took (a client's connections), once no more secrets are read. */
  close?(): void
}

/** Stable codes of {@link SecretValueError}. */
export type SecretValueErrorCode =
  /** Secrets Manager did not give the value: no such secret, access denied, out of reach. */
  | 'SECRET_UNAVAILABLE'
  /** The value is not of the shape the variable needs. */
  | 'SECRET_MALFORMED'

/** A secret named by an environment variable that could not be used; `variable` names it. */
export class SecretValueError extends Error {
  readonly code: SecretValueErrorCode
  readonly variable: string
  constructor(code: SecretValueErrorCode, variable: string, message: string, options?: ErrorOptions) {
    super(`${variable}: ${message}`, options)
    this.name = 'SecretValueError'
    this.code = code
    this.variable = variable
  }
}

/**
 * Secrets Manager's GetSecretValue, with one client of `config` (the Region; an endpoint in tests)
 * for every read, so credentials are resolved once. The SDK is loaded at the first read: a process
 * that names no secret never loads it.
 */
export function secretsManagerReader(config: SecretsManagerClientConfig = {}): SecretReader {
  let client: SecretsManagerClient | undefined
  return {
    async read(secretId) {
      const sdk = await import('@aws-sdk/client-secrets-manager')
      client ??= new sdk.SecretsManagerClient(config)
      const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }))
      if (output.SecretString === undefined) throw new Error('it holds binary data, not text')
      return output.SecretString
    },
    close() {
      client?.destroy()
      client = undefined
    },
  }
}

/**
 * The secret `variable` names (`secretId`, its value): the whole text, or with `jsonKey` that
 * string of the JSON object the secret holds (what Secrets Manager generates with a template).
 */
export async function readSecretValue(
  reader: SecretReader,
  secret: { readonly variable: string; readonly secretId: string; readonly jsonKey?: string },
): Promise<string> {
  const { variable, secretId, jsonKey } = secret
  let text: string
  try {
    text = await reader.read(secretId)
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    throw new SecretValueError('SECRET_UNAVAILABLE', variable, `cannot read ${secretId} (${reason})`, {
      cause: error,
    })
  }
  const value = jsonKey === undefined ? text : jsonString(text, jsonKey)
  if (value === undefined || value === '')
    throw new SecretValueError(
      'SECRET_MALFORMED',
      variable,
      jsonKey === undefined
        ? `${secretId} is empty`
        : `${secretId} is not a JSON object with a non-empty "${jsonKey}" string`,
    )
  return value
}

function jsonString(text: string, key: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const value = isRecord(parsed) ? parsed[key] : undefined
  return typeof value === 'string' ? value : undefined
}
