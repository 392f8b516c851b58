import type { z } from 'zod'
import { AwsServiceError, type ValidationField, validationError } from '../errors.ts'

/**
 * Collects every bad field of one request, from its schema and from the handler's own checks, so a
 * single ValidationException names them all and the handler refuses the request before it writes.
 */
export class RequestCheck {
  readonly #fields: ValidationField[] = []

  /** Validates `raw` against `schema`, noting each bad field; the validated value when none was bad. */
  parse<T>(schema: z.ZodType<T>, raw: unknown): T | undefined {
    const result = schema.safeParse(raw, { reportInput: true })
    if (result.success) return result.data
    for (const field of fieldsOf(result.error.issues)) this.#fields.push(field)
    return undefined
  }

  fail(name: string, message: string): void {
    this.#fields.push({ name, message })
  }

  /** Throws the ValidationException naming every bad field; else hands back the parsed value. */
  valid<T>(value: T | undefined): T {
    if (this.#fields.length > 0) throw validationError(mergeByName(this.#fields))
    if (value === undefined)
      throw new AwsServiceError('InternalServerException', 'the request was not validated before use')
    return value
  }
}

/** The fields zod's issues name, one message each, in the order the request's members come. */
function fieldsOf(issues: readonly z.core.$ZodIssue[]): ValidationField[] {
  return issues.map((issue) => ({ name: fieldName(issue.path), message: describe(issue) }))
}

/** One entry per field, its messages joined: the SDK's `fieldList` names each field once. */
function mergeByName(fields: readonly ValidationField[]): ValidationField[] {
  const merged = new Map<string, string[]>()
  for (const { name, message } of fields) {
    const messages = merged.get(name) ?? []
    if (!messages.includes(message)) messages.push(message)
    merged.set(name, messages)
  }
  return [...merged].map(([name, messages]) => ({ name, message: messages.join(', ') }))
}

/** `payload[0].conversational.content.text`, `metadata.topic.stringValue`. */
function fieldName(path: readonly PropertyKey[]): string {
  let name = ''
  for (const part of path) {
    if (typeof part === 'number') name += `[${part}]`
    else name += name === '' ? String(part) : `.${String(part)}`
  }
  return name === '' ? 'request' : name
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'must be a string',
  number: 'must be a number',
  int: 'must be an integer',
  boolean: 'must be true or false',
  object: 'must be an object',
  array: 'must be a list',
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined || issue.input === null) return 'is required'
      return EXPECTED[issue.expected] ?? `must be a ${issue.expected}`
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`
    default:
      return issue.message
  }
}
