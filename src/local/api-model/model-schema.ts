import { z } from 'zod'
import { ApiModelError } from './api-model-error.ts'
import type { ApiModel, Bounds, ModelMember, ModelShape, OperationInput } from './api-model.ts'

/** A problem a local rule finds in a value whose members are each valid, at a path inside it. */
export interface RuleProblem {
  readonly path?: readonly (string | number)[]
  readonly message: string
}

/**
 * What the local service adds to a model's rules, where the model has no rule and the service
 * needs one (each is explained where it is defined, in local-rules.ts).
 */
export interface LocalRules {
  /** Timestamps as REST-JSON carries them: epoch seconds. */
  readonly timestamp: z.ZodType<number>
  /** Rules of members the model leaves unconstrained, by `Structure.member`; presence stays the model's. */
  readonly members?: Readonly<Record<string, z.ZodType>>
  /** Defaults that replace the model's, by `Structure.member`. */
  readonly defaults?: Readonly<Record<string, string | number | boolean>>
  /** Union members the AWS SDK sends that the model revision does not list, by union name. */
  readonly unionMembers?: Readonly<Record<string, Readonly<Record<string, z.ZodType>>>>
  /** Rules across the members of a structure, by structure name; run once its members are valid. */
  readonly refinements?: Readonly<Record<string, (value: Record<string, unknown>) => RuleProblem[]>>
}

/**
 * Zod schemas built from a model's rules: types, required members, defaults, lengths (in Unicode
 * characters, as Smithy counts them), ranges, patterns, enums, list and map sizes, unions with
 * exactly one member set. JSON `null` is an absent member, as AWS's JSON protocols read it. Members
 * the model does not list are ignored. Schemas are built once per shape and reused.
 */
export class ModelSchemas<M extends ApiModel> {
  readonly #model: M
  readonly #local: LocalRules
  readonly #built = new Map<string, z.ZodType>()

  constructor(config: { readonly model: M; readonly local: LocalRules }) {
    this.#model = config.model
    this.#local = config.local
  }

  /** The schema of an operation's input: its path labels, query parameters and body members together. */
  input<O extends keyof M['operations'] & string>(operation: O): z.ZodType<OperationInput<M, O>> {
    const definition = this.#model.operations[operation]
    if (!definition) throw new ApiModelError(`operation ${operation} is not in the model`)
    return this.shape(definition.input) as z.ZodType<OperationInput<M, O>>
  }

  shape(name: string): z.ZodType {
    const cached = this.#built.get(name)
    if (cached) return cached
    // A shape that refers to itself meets this placeholder, which stands for it once it is built.
    const pending: { schema?: z.ZodType } = {}
    this.#built.set(
      name,
      z.lazy(() => pending.schema as z.ZodType),
    )
    const built = this.#build(name, this.#shapeOf(name))
    pending.schema = built
    this.#built.set(name, built)
    return built
  }

  #shapeOf(name: string): ModelShape {
    const shape = this.#model.shapes[name]
    if (!shape) throw new ApiModelError(`shape ${name} is not in the model`)
    return shape
  }

  #build(name: string, shape: ModelShape): z.ZodType {
    switch (shape.type) {
      case 'string':
        return stringSchema(shape.length, shape.pattern)
      case 'blob':
        return z.string()
      case 'enum':
        return z.enum(shape.values as [string, ...string[]])
      case 'integer':
      case 'long':
        return numberSchema(true, shape.range)
      case 'double':
      case 'float':
        return numberSchema(false, shape.range)
      case 'boolean':
        return z.boolean()
      case 'timestamp':
        return this.#local.timestamp
      case 'document':
        return z.unknown()
      case 'list':
        return listSchema(this.shape(shape.member), shape.length, shape.uniqueItems === true)
      case 'map':
        return mapSchema(this.shape(shape.key), this.shape(shape.value), shape.length)
      case 'structure':
        return this.#structure(name, shape.members)
      case 'union':
        return this.#union(name, shape.members)
    }
  }

  #structure(name: string, members: Readonly<Record<string, ModelMember>>): z.ZodType {
    const entries = Object.entries(members).map(([member, definition]) => {
      const schema = this.#member(name, member, definition)
      if (definition.required) {
        const targetType = this.#shapeOf(definition.target).type
        return [member, targetType === 'document' ? presentDocument(schema) : schema] as const
      }
      const fallback = this.#local.defaults?.[`${name}.${member}`] ?? definition.default
      return [member, schema.nullish().transform((value) => value ?? fallback)] as const
    })
    const object = z.object(Object.fromEntries(entries))
    const refine = this.#local.refinements?.[name]
    if (!refine) return object
    return object.check((context) => {
      for (const problem of refine(context.value)) {
        context.issues.push({
          code: 'custom',
          message: problem.message,
          path: [...(problem.path ?? [])],
          input: context.value,
        })
      }
    })
  }

  #union(name: string, members: Readonly<Record<string, ModelMember>>): z.ZodType {
    const schemas: Record<string, z.ZodType> = {}
    for (const [member, definition] of Object.entries(members))
      schemas[member] = this.#member(name, member, definition)
    Object.assign(schemas, this.#local.unionMembers?.[name])
    const names = Object.keys(schemas)
    const optional = Object.fromEntries(
      names.map((member) => [
        member,
        (schemas[member] as z.ZodType).nullish().transform((v) => v ?? undefined),
      ]),
    )
    return z.looseObject(optional).check((context) => {
      const set = Object.keys(context.value).filter((key) => context.value[key] != null)
      if (set.length !== 1 || !names.includes(set[0] as string)) {
        context.issues.push({
          code: 'custom',
          message: `must have exactly one of ${names.join(', ')}`,
          input: context.value,
        })
      }
    })
  }

  /** A member's schema: a local rule, or the target's with the member's own constraints over it. */
  #member(structure: string, member: string, definition: ModelMember): z.ZodType {
    const local = this.#local.members?.[`${structure}.${member}`]
    if (local) return local
    const target = this.#shapeOf(definition.target)
    if (target.type === 'string' && (definition.length || definition.pattern !== undefined)) {
      return stringSchema(definition.length ?? target.length, definition.pattern ?? target.pattern)
    }
    if ((target.type === 'integer' || target.type === 'long') && definition.range)
      return numberSchema(true, definition.range)
    if ((target.type === 'double' || target.type === 'float') && definition.range)
      return numberSchema(false, definition.range)
    if (target.type === 'list' && definition.length)
      return listSchema(this.shape(target.member), definition.length, target.uniqueItems === true)
    if (target.type === 'map' && definition.length)
      return mapSchema(this.shape(target.key), this.shape(target.value), definition.length)
    if (definition.length || definition.range || definition.pattern !== undefined)
      throw new ApiModelError(
        `${structure}.${member}: member constraints on a ${target.type} are not supported`,
      )
    return this.shape(definition.target)
  }
}

/** A string within `length` Unicode characters matching `pattern`; the pattern is tried only on a string of valid length. */
export function stringSchema(length: Bounds | undefined, pattern: string | undefined): z.ZodType<string> {
  const regex = pattern === undefined ? undefined : new RegExp(pattern)
  return z.string().check((context) => {
    const problem =
      lengthProblem(context.value, length) ??
      (regex && !regex.test(context.value) ? `must match ${pattern}` : undefined)
    if (problem) context.issues.push({ code: 'custom', message: problem, input: context.value })
  })
}

/** An integer or a finite number within `range`. */
export function numberSchema(integer: boolean, range: Bounds | undefined): z.ZodType<number> {
  return (integer ? z.number().int() : z.number()).check((context) => {
    const problem = rangeProblem(context.value, range)
    if (problem) context.issues.push({ code: 'custom', message: problem, input: context.value })
  })
}

function listSchema(item: z.ZodType, length: Bounds | undefined, unique: boolean): z.ZodType {
  // Items are checked only once the list's size is right: a list far too long is refused as a whole.
  return z
    .array(z.unknown())
    .check((context) => {
      const problem = countProblem(context.value.length, length, 'items')
      if (problem) context.issues.push({ code: 'custom', message: problem, input: context.value })
      else if (
        unique &&
        new Set(context.value.map((value) => JSON.stringify(value))).size !== context.value.length
      )
        context.issues.push({ code: 'custom', message: 'must not repeat an item', input: context.value })
    })
    .pipe(z.array(item))
}

/**
 * A JSON object read as a map. Built by hand rather than with `z.record`, which drops a key named
 * `__proto__`: every key the caller sent is checked and kept as plain data.
 */
function mapSchema(key: z.ZodType, value: z.ZodType, length: Bounds | undefined): z.ZodType {
  return z.unknown().transform((input, context) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      const message = input === undefined || input === null ? 'is required' : 'must be an object'
      context.issues.push({ code: 'custom', message, input })
      return z.NEVER
    }
    const entries = Object.entries(input)
    const problem = countProblem(entries.length, length, 'keys')
    if (problem) {
      context.issues.push({ code: 'custom', message: problem, input })
      return z.NEVER
    }
    const kept: [string, unknown][] = []
    for (const [name, entry] of entries) {
      const keyResult = key.safeParse(name, { reportInput: true })
      if (!keyResult.success) {
        const messages = keyResult.error.issues.map((issue) => issue.message).join(', ')
        context.issues.push({ code: 'custom', message: `key ${messages}`, path: [name], input: name })
        continue
      }
      const valueResult = value.safeParse(entry, { reportInput: true })
      if (valueResult.success) kept.push([name, valueResult.data])
      else {
        for (const issue of valueResult.error.issues)
          context.issues.push({ ...issue, path: [name, ...issue.path] } as never)
      }
    }
    // fromEntries defines own properties, so a key such as __proto__ stays plain data.
    return kept.length === entries.length ? Object.fromEntries(kept) : z.NEVER
  })
}

/** A required document member: any JSON value but null. */
function presentDocument(schema: z.ZodType): z.ZodType {
  return schema.check((context) => {
    if (context.value === undefined || context.value === null)
      context.issues.push({ code: 'custom', message: 'is required', input: context.value })
  })
}

/** Characters as Smithy counts a length: Unicode code points, not UTF-16 units. */
function characterCount(value: string): number {
  let count = 0
  for (const _ of value) count++
  return count
}

function lengthProblem(value: string, length: Bounds | undefined): string | undefined {
  if (!length) return undefined
  const { min, max } = length
  // A string's code points number between half its UTF-16 length and all of it: count only when that matters.
  const tooLongMaybe = max !== undefined && value.length > max
  const tooShortMaybe = min !== undefined && value.length < 2 * min
  if (!tooLongMaybe && !tooShortMaybe) return undefined
  const count = characterCount(value)
  if ((min === undefined || count >= min) && (max === undefined || count <= max)) return undefined
  if (min !== undefined && max !== undefined) return `must be ${min} to ${max} characters long (got ${count})`
  return min !== undefined
    ? `must be at least ${min} characters long (got ${count})`
    : `must be at most ${max} characters long (got ${count})`
}

function rangeProblem(value: number, range: Bounds | undefined): string | undefined {
  if (range?.min !== undefined && value < range.min) return `must be at least ${range.min}`
  if (range?.max !== undefined && value > range.max) return `must be at most ${range.max}`
  return undefined
}

function countProblem(count: number, bounds: Bounds | undefined, unit: 'items' | 'keys'): string | undefined {
  if (bounds?.min !== undefined && count < bounds.min) return `must have at least ${bounds.min} ${unit}`
  if (bounds?.max !== undefined && count > bounds.max)
    return `must have at most ${bounds.max} ${unit} (got ${count})`
  return undefined
}
