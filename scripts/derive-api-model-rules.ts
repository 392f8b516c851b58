/**
 * Derives the rules the local AgentCore service validates with from AgentCore's published API
 * models (Smithy JSON AST, as in the aws/api-models-aws repository), and writes them as a TypeScript
 * table of our own: src/local/api-model/api-model-rules.ts. Run it when a newer model matters:
 *
 *   node scripts/derive-api-model-rules.ts --data <bedrock-agentcore-2024-02-28.json> \
 *     --control <bedrock-agentcore-control-2023-06-05.json> --repository aws/api-models-aws --commit <sha>
 *
 * Only the operations the local service serves, and the shapes their inputs reach, are kept; of
 * each shape only what validation needs (types, lengths, ranges, patterns, enums, required members,
 * defaults, HTTP bindings), never documentation. A constraint trait it does not know stops it.
 */
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type {
  ApiModel,
  ApiModelSource,
  Bounds,
  ModelMember,
  ModelOperation,
  ModelShape,
} from '../src/local/api-model/api-model.ts'

/** Operations the local service serves, per model. */
const SERVED_OPERATIONS = {
  data: [
    'CreateEvent',
    'GetEvent',
    'DeleteEvent',
    'ListEvents',
    'ListSessions',
    'ListActors',
    'RetrieveMemoryRecords',
    'ListMemoryRecords',
    'BatchCreateMemoryRecords',
    'GetMemoryRecord',
    'DeleteMemoryRecord',
  ],
  control: ['CreateMemory', 'GetMemory', 'ListMemories', 'DeleteMemory'],
} as const

/** Where the two models sit in aws/api-models-aws. */
export const MODEL_PATHS = {
  data: 'models/bedrock-agentcore/service/2024-02-28/bedrock-agentcore-2024-02-28.json',
  control: 'models/bedrock-agentcore-control/service/2023-06-05/bedrock-agentcore-control-2023-06-05.json',
} as const

/** A Smithy JSON AST, as much of it as this script reads. */
interface SmithyAst {
  readonly shapes: Readonly<Record<string, SmithyShape>>
}

interface SmithyShape {
  readonly type: string
  readonly traits?: Readonly<Record<string, unknown>>
  readonly members?: Readonly<Record<string, { target: string; traits?: Readonly<Record<string, unknown>> }>>
  readonly member?: { readonly target: string }
  readonly key?: { readonly target: string }
  readonly value?: { readonly target: string }
  readonly input?: { readonly target: string }
}

/** A model this script cannot turn into rules faithfully. */
export class ModelDerivationError extends Error {
  readonly code = 'MODEL_DERIVATION_FAILED'
}

const PRELUDE: Readonly<Record<string, ModelShape>> = {
  String: { type: 'string' },
  Boolean: { type: 'boolean' },
  PrimitiveBoolean: { type: 'boolean' },
  Integer: { type: 'integer' },
  PrimitiveInteger: { type: 'integer' },
  Long: { type: 'long' },
  PrimitiveLong: { type: 'long' },
  Double: { type: 'double' },
  PrimitiveDouble: { type: 'double' },
  Float: { type: 'float' },
  PrimitiveFloat: { type: 'float' },
  Timestamp: { type: 'timestamp' },
  Document: { type: 'document' },
  Blob: { type: 'blob' },
}

/** Traits that change what is valid or where a value travels, and that this script does not carry. */
const UNSUPPORTED_TRAITS = [
  'smithy.api#jsonName',
  'smithy.api#httpPayload',
  'smithy.api#httpPrefixHeaders',
  'smithy.api#httpQueryParams',
  'smithy.api#streaming',
  'smithy.api#timestampFormat',
  'smithy.api#requiresLength',
  'smithy.api#sparse',
]

/** The rules of `operations` in `ast`, with shape names stripped of their namespace. */
export function deriveRules(ast: SmithyAst, operations: readonly string[]): ApiModel {
  const byName = new Map<string, string>()
  for (const id of Object.keys(ast.shapes)) byName.set(nameOf(id), id)
  const shapes: Record<string, ModelShape> = {}
  const pending: string[] = []
  const reach = (id: string): string => {
    const name = nameOf(id)
    if (!(name in shapes) && !pending.includes(id)) pending.push(id)
    return name
  }
  const derivedOperations: Record<string, ModelOperation> = {}
  for (const operation of operations) {
    const id = byName.get(operation)
    const shape = id === undefined ? undefined : ast.shapes[id]
    if (!id || !shape || shape.type !== 'operation')
      throw new ModelDerivationError(`operation ${operation} is not in the model`)
    const http = shape.traits?.['smithy.api#http'] as
      { method: string; uri: string; code?: number } | undefined
    if (!http || !shape.input) throw new ModelDerivationError(`operation ${operation} has no HTTP binding`)
    derivedOperations[operation] = {
      method: http.method,
      uri: http.uri,
      code: http.code ?? 200,
      input: reach(shape.input.target),
    }
  }
  while (pending.length > 0) {
    const id = pending.shift() as string
    shapes[nameOf(id)] = deriveShape(id, ast, reach)
  }
  return { operations: derivedOperations, shapes: sortKeys(shapes) }
}

function deriveShape(id: string, ast: SmithyAst, reach: (id: string) => string): ModelShape {
  if (id.startsWith('smithy.api#')) {
    const prelude = PRELUDE[id.slice('smithy.api#'.length)]
    if (!prelude) throw new ModelDerivationError(`prelude shape ${id} is not supported`)
    return prelude
  }
  const shape = ast.shapes[id]
  if (!shape) throw new ModelDerivationError(`shape ${id} is not in the model`)
  const traits = shape.traits ?? {}
  refuseUnsupported(id, traits)
  switch (shape.type) {
    case 'string':
      return { type: 'string', ...bounds('length', traits), ...patternOf(traits) }
    case 'integer':
    case 'long':
    case 'double':
    case 'float':
      return { type: shape.type, ...bounds('range', traits) }
    case 'boolean':
    case 'document':
    case 'blob':
    case 'timestamp':
      return { type: shape.type }
    case 'enum':
      return {
        type: 'enum',
        values: Object.entries(shape.members ?? {}).map(
          ([name, member]) => (member.traits?.['smithy.api#enumValue'] as string | undefined) ?? name,
        ),
      }
    case 'list':
      if (!shape.member) throw new ModelDerivationError(`list ${id} has no member`)
      return {
        type: 'list',
        member: reach(shape.member.target),
        ...bounds('length', traits),
        ...('smithy.api#uniqueItems' in traits ? { uniqueItems: true as const } : {}),
      }
    case 'map':
      if (!shape.key || !shape.value) throw new ModelDerivationError(`map ${id} has no key or value`)
      return {
        type: 'map',
        key: reach(shape.key.target),
        value: reach(shape.value.target),
        ...bounds('length', traits),
      }
    case 'structure':
    case 'union': {
      const members: Record<string, ModelMember> = {}
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const memberTraits = member.traits ?? {}
        refuseUnsupported(`${id}$${name}`, memberTraits)
        const defaultValue = memberTraits['smithy.api#default']
        members[name] = {
          target: reach(member.target),
          ...('smithy.api#required' in memberTraits ? { required: true as const } : {}),
          ...(isScalar(defaultValue) ? { default: defaultValue } : {}),
          ...bounds('length', memberTraits),
          ...bounds('range', memberTraits),
          ...patternOf(memberTraits),
          ...('smithy.api#httpLabel' in memberTraits ? { label: true as const } : {}),
          ...stringTrait('query', memberTraits['smithy.api#httpQuery']),
          ...stringTrait('header', memberTraits['smithy.api#httpHeader']),
          ...('smithy.api#idempotencyToken' in memberTraits ? { idempotencyToken: true as const } : {}),
        }
      }
      return { type: shape.type, members }
    }
    default:
      throw new ModelDerivationError(`shape ${id} has type ${shape.type}, which is not supported`)
  }
}

function refuseUnsupported(where: string, traits: Readonly<Record<string, unknown>>): void {
  for (const trait of UNSUPPORTED_TRAITS) {
    if (trait in traits) throw new ModelDerivationError(`${where} has ${trait}, which is not supported`)
  }
}

function bounds(
  kind: 'length' | 'range',
  traits: Readonly<Record<string, unknown>>,
): { length?: Bounds; range?: Bounds } {
  const value = traits[`smithy.api#${kind}`] as Bounds | undefined
  if (!value) return {}
  return {
    [kind]: {
      ...(value.min !== undefined ? { min: value.min } : {}),
      ...(value.max !== undefined ? { max: value.max } : {}),
    },
  }
}

function patternOf(traits: Readonly<Record<string, unknown>>): { pattern?: string } {
  const pattern = traits['smithy.api#pattern']
  return typeof pattern === 'string' ? { pattern } : {}
}

function stringTrait(name: 'query' | 'header', value: unknown): { query?: string; header?: string } {
  return typeof value === 'string' ? { [name]: value } : {}
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

/** `smithy.api#String` keeps its namespace (prelude shapes are named apart); model shapes lose theirs. */
function nameOf(id: string): string {
  return id.startsWith('smithy.api#') ? id : id.slice(id.indexOf('#') + 1)
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** The TypeScript module holding both tables, with a header saying where they came from. */
export function renderRulesModule(source: ApiModelSource, data: ApiModel, control: ApiModel): string {
  const files = source.files.map((file) => ` *   ${file.path} (sha256 ${file.sha256})`).join('\n')
  return `/**
 * GENERATED by scripts/derive-api-model-rules.ts: do not edit by hand; run the script again.
 *
 * Rules of AgentCore's published API models (Smithy JSON AST):
 *   repository ${source.repository}
 *   commit ${source.commit}
${files}
 * Kept: the operations the local service serves and every shape their inputs reach, with the
 * traits validation needs (lengths, ranges, patterns, enums, required members, defaults, HTTP
 * bindings). Rules the model lacks and the local service needs are in local-rules.ts.
 */
import type { ApiModel, ApiModelSource } from './api-model.ts'

export const API_MODEL_SOURCE = ${JSON.stringify(source)} as const satisfies ApiModelSource

/** The Memory data plane (\`@aws-sdk/client-bedrock-agentcore\`). */
export const MEMORY_DATA_PLANE_MODEL = ${JSON.stringify(data)} as const satisfies ApiModel

/** The Memory control plane (\`@aws-sdk/client-bedrock-agentcore-control\`). */
export const MEMORY_CONTROL_PLANE_MODEL = ${JSON.stringify(control)} as const satisfies ApiModel
`
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      control: { type: 'string' },
      repository: { type: 'string', default: 'aws/api-models-aws' },
      commit: { type: 'string' },
      out: { type: 'string', default: 'src/local/api-model/api-model-rules.ts' },
    },
  })
  if (!values.data || !values.control || !values.commit) {
    console.error(
      'usage: node scripts/derive-api-model-rules.ts --data <data-plane model JSON> --control <control-plane model JSON> --commit <sha> [--repository owner/name] [--out file]',
    )
    process.exitCode = 2
    return
  }
  const dataBytes = readFileSync(values.data)
  const controlBytes = readFileSync(values.control)
  const source: ApiModelSource = {
    repository: values.repository,
    commit: values.commit,
    files: [
      { path: MODEL_PATHS.data, sha256: sha256(dataBytes) },
      { path: MODEL_PATHS.control, sha256: sha256(controlBytes) },
    ],
  }
  const data = deriveRules(JSON.parse(dataBytes.toString('utf8')) as SmithyAst, SERVED_OPERATIONS.data)
  const control = deriveRules(
    JSON.parse(controlBytes.toString('utf8')) as SmithyAst,
    SERVED_OPERATIONS.control,
  )
  // Formatted as the repository's own files are, so the generated file passes `prettier --check`.
  const prettier = await import('prettier')
  const options = (await prettier.resolveConfig(values.out)) ?? {}
  const text = await prettier.format(renderRulesModule(source, data, control), {
    ...options,
    filepath: values.out,
  })
  writeFileSync(values.out, text)
  console.log(
    `wrote ${values.out}: ${Object.keys(data.shapes).length} data-plane and ${Object.keys(control.shapes).length} control-plane shapes`,
  )
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
