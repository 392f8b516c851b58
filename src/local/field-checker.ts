import { explainIdViolation, type IdRule } from '../memory/ids.ts'
import { type ValidationField, validationError } from './errors.ts'

/**
 * Collects every invalid field of one request so a single ValidationException names them all,
 * and the handler can refuse the request before it writes anything.
 */
export class FieldChecker {
  private readonly problems: ValidationField[] = []

  fail(name: string, message: string): void {
    this.problems.push({ name, message })
  }

  get ok(): boolean {
    return this.problems.length === 0
  }

  id(name: string, value: unknown, rule: IdRule, required = true): string | undefined {
    if (value === undefined || value === null) {
      if (required) this.fail(name, 'is required')
      return undefined
    }
    const problem = explainIdViolation(value, rule)
    if (problem) {
      this.fail(name, problem)
      return undefined
    }
    return value as string
  }

  string(
    name: string,
    value: unknown,
    options: { required?: boolean; min?: number; max?: number; pattern?: RegExp } = {},
  ): string | undefined {
    if (value === undefined || value === null) {
      if (options.required) this.fail(name, 'is required')
      return undefined
    }
    if (typeof value !== 'string') {
      this.fail(name, 'must be a string')
      return undefined
    }
    const min = options.min ?? 0
    if (value.length < min) this.fail(name, `must be at least ${min} characters long`)
    else if (options.max !== undefined && value.length > options.max) {
      this.fail(name, `must be at most ${options.max} characters long (got ${value.length})`)
    } else if (options.pattern && !options.pattern.test(value))
      this.fail(name, `must match ${options.pattern.source}`)
    else return value
    return undefined
  }

  integer(
    name: string,
    value: unknown,
    options: { required?: boolean; min?: number; max?: number } = {},
  ): number | undefined {
    if (value === undefined || value === null) {
      if (options.required) this.fail(name, 'is required')
      return undefined
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(name, 'must be an integer')
      return undefined
    }
    if (options.min !== undefined && value < options.min) this.fail(name, `must be at least ${options.min}`)
    else if (options.max !== undefined && value > options.max)
      this.fail(name, `must be at most ${options.max}`)
    else return value
    return undefined
  }

  boolean(name: string, value: unknown): boolean | undefined {
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'boolean') {
      this.fail(name, 'must be true or false')
      return undefined
    }
    return value
  }

  object(name: string, value: unknown, required = false): Record<string, unknown> | undefined {
    if (value === undefined || value === null) {
      if (required) this.fail(name, 'is required')
      return undefined
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.fail(name, 'must be an object')
      return undefined
    }
    return value as Record<string, unknown>
  }

  array(name: string, value: unknown, options: { required?: boolean; min?: number; max?: number } = {}) {
    if (value === undefined || value === null) {
      if (options.required) this.fail(name, 'is required')
      return undefined
    }
    if (!Array.isArray(value)) {
      this.fail(name, 'must be a list')
      return undefined
    }
    if (options.min !== undefined && value.length < options.min) {
      this.fail(name, `must have at least ${options.min} items`)
      return undefined
    }
    if (options.max !== undefined && value.length > options.max) {
      this.fail(name, `must have at most ${options.max} items (got ${value.length})`)
      return undefined
    }
    return value as unknown[]
  }

  /** Throws the ValidationException when any field failed. */
  throwIfInvalid(): void {
    if (this.problems.length > 0) throw validationError(this.problems)
  }
}
