/**
 * The CDK app of deploy/ synthesised in this process, as `cdk synth` would with `-c` values: its
 * template, the container images its asset manifest asks for, and lookups of the resources the
 * deploy tests look at. Asset staging is off unless asked for (it copies the build context).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Template } from 'aws-cdk-lib/assertions'
import { createApp } from '../../deploy/app.ts'
import type { LongrunStack } from '../../deploy/longrun-stack.ts'

/** A CloudFormation resource as it appears in the template. */
export interface CfnResource {
  readonly Type: string
  readonly Properties?: Record<string, unknown>
  readonly DependsOn?: string | string[]
}

/** One container image of the asset manifest. */
export interface DockerImageAssetEntry {
  readonly source: {
    readonly directory: string
    readonly dockerBuildTarget?: string
    readonly platform?: string
  }
  readonly destinations: Record<string, { readonly repositoryName: string; readonly imageTag: string }>
}

export interface SynthesizedStack {
  readonly stack: LongrunStack
  readonly template: Template
  /** The template as JSON. */
  readonly json: { Resources: Record<string, CfnResource>; Outputs?: Record<string, { Value: unknown }> }
  readonly dockerImages: Record<string, DockerImageAssetEntry>
  /** The staged build contexts (with `staging`), by asset hash; removed by `remove()`. */
  readonly outdir: string
  remove(): void
}

/** Synthesises the app with `context` (what `-c key=value` gives); call `remove()` when done. */
export function synthesize(
  context: Record<string, unknown> = {},
  options: { staging?: boolean } = {},
): SynthesizedStack {
  const outdir = mkdtempSync(join(tmpdir(), 'longrun-cdk-'))
  try {
    const { app, stack } = createApp({
      outdir,
      context: { ...context, ...(options.staging !== true && { 'aws:cdk:disable-asset-staging': true }) },
    })
    const assembly = app.synth()
    const artifact = assembly.getStackArtifact(stack.artifactId)
    const json = artifact.template as SynthesizedStack['json']
    const manifest = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages?: Record<string, DockerImageAssetEntry>
    }
    return {
      stack,
      template: Template.fromJSON(json),
      json,
      dockerImages: manifest.dockerImages ?? {},
      outdir,
      remove: () => rmSync(outdir, { recursive: true, force: true }),
    }
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true })
    throw error
  }
}

/**
 * Stacks synthesised without staging, by context, kept for the test file's process: the same
 * context (the default stack, most often) is synthesised once however many tests read it. Their
 * output directories are removed when the process exits.
 */
const synthesizedByContext = new Map<string, SynthesizedStack>()
process.once('exit', () => {
  for (const synthesized of synthesizedByContext.values()) synthesized.remove()
})

/**
 * Hands the stack of `context` to `use`. Without staging it is synthesised once per context and
 * shared (`use` reads it, never changes it); with staging it is synthesised for this call and its
 * output removed whatever happens.
 */
export function withSynthesized<T>(
  context: Record<string, unknown>,
  use: (synthesized: SynthesizedStack) => T,
  options: { staging?: boolean } = {},
): T {
  if (options.staging !== true) {
    const key = JSON.stringify(context)
    let synthesized = synthesizedByContext.get(key)
    if (synthesized === undefined) {
      synthesized = synthesize(context)
      synthesizedByContext.set(key, synthesized)
    }
    return use(synthesized)
  }
  const synthesized = synthesize(context, options)
  try {
    return use(synthesized)
  } finally {
    synthesized.remove()
  }
}

/** The resources of one type, by logical id. */
export function resourcesOf(json: SynthesizedStack['json'], type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, resource]) => resource.Type === type)
}

/** The one resource of `type`, with its logical id; fails when there is none or several. */
export function onlyResourceOf(json: SynthesizedStack['json'], type: string): [string, CfnResource] {
  const found = resourcesOf(json, type)
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`)
  return found[0] as [string, CfnResource]
}

/** The logical id of a resource's role, named by `{ "Fn::GetAtt": [<role>, "Arn"] }` in `property`. */
export function roleIdOf(resource: CfnResource, property = 'RoleArn'): string {
  return (resource.Properties?.[property] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
}

/** A statement's actions as a list (`Action` is a string or a list). */
export function actionsOf(statement: { readonly Action?: unknown }): string[] {
  return [statement.Action ?? []].flat() as string[]
}

/** Every statement of the IAM policies attached to the role `roleId`. */
export function statementsOfRole(json: SynthesizedStack['json'], roleId: string): Record<string, unknown>[] {
  return resourcesOf(json, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      (policy.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .flatMap(
      ([, policy]) =>
        (policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    )
}

/** The one runtime serving `protocol` (HTTP: the agent, MCP: the MCP server), with its logical id. */
export function runtimeOf(json: SynthesizedStack['json'], protocol: 'HTTP' | 'MCP'): [string, CfnResource] {
  const found = resourcesOf(json, 'AWS::BedrockAgentCore::Runtime').filter(
    ([, resource]) => resource.Properties?.ProtocolConfiguration === protocol,
  )
  if (found.length !== 1) throw new Error(`expected one ${protocol} runtime, found ${found.length}`)
  return found[0] as [string, CfnResource]
}

/** A runtime's environment variables (values are strings or CloudFormation intrinsics). */
export function environmentOf(runtime: CfnResource): Record<string, unknown> {
  return (runtime.Properties?.EnvironmentVariables ?? {}) as Record<string, unknown>
}

/** The environment of the workers' container (ECS), as a runtime's; empty without workers. */
export function workerEnvironmentOf(json: SynthesizedStack['json']): Record<string, unknown> {
  const containers = resourcesOf(json, 'AWS::ECS::TaskDefinition').flatMap(
    ([, definition]) =>
      (definition.Properties?.ContainerDefinitions ?? []) as {
        Environment?: { Name: string; Value: unknown }[]
      }[],
  )
  return Object.fromEntries(
    containers.flatMap((container) => container.Environment ?? []).map(({ Name, Value }) => [Name, Value]),
  )
}

/**
 * A template value as one string: Fn::Join joined, Ref as `${Name}`, Fn::GetAtt as `${Id.Attr}`,
 * Fn::Sub as its text; anything else as JSON. For reading ARNs and URLs the way CloudFormation will.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    if ('Ref' in record) return `\${${String(record.Ref)}}`
    if ('Fn::GetAtt' in record) return `\${${(record['Fn::GetAtt'] as string[]).join('.')}}`
    if ('Fn::Sub' in record && typeof record['Fn::Sub'] === 'string') return record['Fn::Sub']
    if ('Fn::Join' in record) {
      const [separator, parts] = record['Fn::Join'] as [string, unknown[]]
      return parts.map(flatten).join(separator)
    }
  }
  return JSON.stringify(value)
}
