/**
 * The shape of the rules derived from AgentCore's published API model (Smithy JSON AST): what
 * `scripts/derive-api-model-rules.ts` writes into `api-model-rules.ts`, and the TypeScript value a
 * shape validates to, so a handler's input is typed by the model itself.
 */

/** A length (strings: characters; lists and maps: entries) or a numeric range; both ends inclusive. */
export interface Bounds {
  readonly min?: number
  readonly max?: number
}

/** A member of a structure or union, with the traits that constrain it or place it on the wire. */
export interface ModelMember {
  readonly target: string
  readonly required?: true
  /** The model's default for an absent member. */
  readonly default?: string | number | boolean
  /** Member-level constraints; they take precedence over the target's. */
  readonly length?: Bounds
  readonly range?: Bounds
  readonly pattern?: string
  /** Sent in the URI path (`{name}`), in a query parameter, or in a header, instead of the body. */
  readonly label?: true
  readonly query?: string
  readonly header?: string
  readonly idempotencyToken?: true
}

export type ModelShape =
  | { readonly type: 'string'; readonly length?: Bounds; readonly pattern?: string }
  | { readonly type: 'integer' | 'long' | 'double' | 'float'; readonly range?: Bounds }
  | { readonly type: 'boolean' | 'document' | 'blob' | 'timestamp' }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | {
      readonly type: 'list'
      readonly member: string
      readonly length?: Bounds
      readonly uniqueItems?: true
    }
  | { readonly type: 'map'; readonly key: string; readonly value: string; readonly length?: Bounds }
  | { readonly type: 'structure' | 'union'; readonly members: Readonly<Record<string, ModelMember>> }

/** An operation's HTTP binding and input shape. */
export interface ModelOperation {
  readonly method: string
  readonly uri: string
  /** The success status. */
  readonly code: number
  readonly input: string
}

/** The rules of one service: the operations the local service serves and every shape their inputs reach. */
export interface ApiModel {
  readonly operations: Readonly<Record<string, ModelOperation>>
  readonly shapes: Readonly<Record<string, ModelShape>>
}

/** Where the rules came from, written into the derived file's header and kept beside its tables. */
export interface ApiModelSource {
  readonly repository: string
  readonly commit: string
  readonly files: readonly { readonly path: string; readonly sha256: string }[]
}

type ShapesOf<M extends ApiModel> = M['shapes']

/** The value a shape validates to. Timestamps are epoch seconds, as REST-JSON carries them. */
export type ShapeValue<M extends ApiModel, N> = N extends keyof ShapesOf<M>
  ? ShapesOf<M>[N] extends { readonly type: 'string' | 'blob' }
    ? string
    : ShapesOf<M>[N] extends { readonly type: 'enum'; readonly values: readonly (infer V)[] }
      ? V
      : ShapesOf<M>[N] extends { readonly type: 'integer' | 'long' | 'double' | 'float' | 'timestamp' }
        ? number
        : ShapesOf<M>[N] extends { readonly type: 'boolean' }
          ? boolean
          : ShapesOf<M>[N] extends { readonly type: 'list'; readonly member: infer T }
            ? ShapeValue<M, T>[]
            : ShapesOf<M>[N] extends { readonly type: 'map'; readonly value: infer T }
              ? Record<string, ShapeValue<M, T>>
              : ShapesOf<M>[N] extends { readonly type: 'structure'; readonly members: infer Ms }
                ? StructureValue<M, Ms>
                : ShapesOf<M>[N] extends { readonly type: 'union'; readonly members: infer Ms }
                  ? { [K in keyof Ms]?: MemberValue<M, Ms[K]> }
                  : unknown
  : never

type MemberValue<M extends ApiModel, Member> = Member extends { readonly target: infer T }
  ? ShapeValue<M, T>
  : never

/** A member that always has a value once validated: required, or given a default. */
type Present = { readonly required: true } | { readonly default: unknown }

type StructureValue<M extends ApiModel, Ms> = {
  [K in keyof Ms as Ms[K] extends Present ? K : never]: MemberValue<M, Ms[K]>
} & {
  [K in keyof Ms as Ms[K] extends Present ? never : K]?: MemberValue<M, Ms[K]> | undefined
}

/** The validated input of an operation. */
export type OperationInput<M extends ApiModel, O extends keyof M['operations']> = ShapeValue<
  M,
  M['operations'][O]['input']
>
