/**
 * Identifier rules of AgentCore Memory, as the service's published API model states them: the
 * client's side, shared by the session manager, the MCP client and the MCP server. The local
 * service checks ids against the model itself (src/local/api-model), so the two can be compared.
 */

/** A rule for one kind of identifier. */
export interface IdRule {
  readonly pattern: RegExp
  readonly minLength: number
  readonly maxLength: number
  readonly description: string
}

export const MEMORY_ID_RULE: IdRule = {
  pattern: /^[a-zA-Z][a-zA-Z0-9_-]{0,99}-[a-zA-Z0-9]{10}$/,
  minLength: 12,
  maxLength: 111,
  description: 'a memory name, a dash and 10 letters or digits',
}

export const ACTOR_ID_RULE: IdRule = {
  pattern: /^[a-zA-Z0-9][a-zA-Z0-9_/-]*(?::[a-zA-Z0-9_/-]+)*[a-zA-Z0-9_/-]*$/,
  minLength: 1,
  maxLength: 255,
  description: 'letters, digits, -, _, / and : separated parts, starting with a letter or digit',
}

export const SESSION_ID_RULE: IdRule = {
  pattern: /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/,
  minLength: 1,
  maxLength: 100,
  description: 'letters, digits, - and _, starting with a letter or digit',
}

export const EVENT_ID_RULE: IdRule = {
  pattern: /^[0-9]+#[a-fA-F0-9]+$/,
  minLength: 1,
  // The model sets no length on an event id: one the service issued is never refused here.
  maxLength: Number.POSITIVE_INFINITY,
  description: 'digits, # and hexadecimal digits',
}

export const BRANCH_NAME_RULE: IdRule = {
  pattern: /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/,
  minLength: 1,
  maxLength: 100,
  description: 'letters, digits, - and _, starting with a letter or digit',
}

/** Metadata keys and values: <= 256 characters of a restricted set (values), keys 1..128. */
export const METADATA_VALUE_PATTERN = /^[a-zA-Z0-9\s._:/=+@-]*$/
export const METADATA_KEY_PATTERN = /^[a-zA-Z0-9\s._:/=+@-]+$/
export const METADATA_VALUE_MAX_LENGTH = 256
export const METADATA_KEY_MAX_LENGTH = 128
export const METADATA_MAX_KEYS = 15

/** Returns why `value` breaks `rule`, or undefined when it is valid. */
export function explainIdViolation(value: unknown, rule: IdRule): string | undefined {
  if (typeof value !== 'string') return 'must be a string'
  if (value.length < rule.minLength || value.length > rule.maxLength) {
    const range = Number.isFinite(rule.maxLength)
      ? `${rule.minLength} to ${rule.maxLength}`
      : `at least ${rule.minLength}`
    return `must be ${range} characters long (got ${value.length})`
  }
  if (!rule.pattern.test(value)) return `must match ${rule.pattern.source} (${rule.description})`
  return undefined
}

/** Why `key` cannot be an event metadata key, or undefined when it can. */
export function explainMetadataKeyViolation(key: string): string | undefined {
  if (key.length >= 1 && key.length <= METADATA_KEY_MAX_LENGTH && METADATA_KEY_PATTERN.test(key))
    return undefined
  return `key must be 1 to ${METADATA_KEY_MAX_LENGTH} characters of ${METADATA_KEY_PATTERN.source}`
}

/** Why `value` cannot be an event metadata value, or undefined when it can. */
export function explainMetadataValueViolation(value: unknown): string | undefined {
  if (
    typeof value === 'string' &&
    value.length <= METADATA_VALUE_MAX_LENGTH &&
    METADATA_VALUE_PATTERN.test(value)
  ) {
    return undefined
  }
  return `must be a string of at most ${METADATA_VALUE_MAX_LENGTH} characters of ${METADATA_VALUE_PATTERN.source}`
}
