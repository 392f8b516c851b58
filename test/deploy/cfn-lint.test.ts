/**
 * Every template variant the deploy tests build, checked against CloudFormation's own resource
 * schemas with cfn-lint (an independent validator: value ranges, required properties, types), so a
 * property out of range fails here and not at deploy time. Needs `cfn-lint` on the PATH.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { withSynthesized } from '../helpers/deploy-stack.ts'

/**
 * The variants the deploy tests build, by what changes the template's shape: default (redis,
 * Cognito, zone IDs from the mapping, Fargate workers), sqlite, zone IDs given, no workers (with MFA,
 * the password flow and Marketplace access), more workers beside MCP microVMs that run tasks (with a
 * geographic profile and an OTLP port to open), a foundation model, the local Docker's images
 * (redis and sqlite), OIDC.
 */
const VARIANTS: Record<string, Record<string, unknown>> = {
  default: {},
  sqlite: { taskBackend: 'sqlite' },
  // No Fargate workers; MFA, the password flow and Marketplace access turned on.
  'no workers': {
    workers: 'none',
    cognitoMfa: 'required',
    cognitoPasswordAuth: 'true',
    modelMarketplaceAccess: 'true',
  },
  'three workers beside MCP microVMs that run tasks, a geographic profile, a collector on 4318': {
    workerCount: '3',
    mcpRunsTasks: 'true',
    modelId: 'us.anthropic.claude-sonnet-4-6',
    otlpEndpoint: 'http://collector.internal:4318',
  },
  'docker images, sqlite': { imageBuild: 'docker', taskBackend: 'sqlite' },
  'zone IDs': { availabilityZoneIds: 'use1-az4,use1-az1,use1-az2' },
  'foundation model': { modelId: 'amazon.nova-pro-v1:0', taskBackend: 'sqlite' },
  // The images built by the local Docker and copied in (a Lambda custom resource, no CodeBuild).
  'docker images': { imageBuild: 'docker' },
  oidc: {
    modelId: 'eu.anthropic.claude-sonnet-4-6',
    oidcIssuer: 'https://login.example.com',
    oidcJwksUrl: 'https://login.example.com/keys',
    oidcAudiences: 'longrun',
    longTermMemory: 'semantic,summary,userPreference',
  },
}

/**
 * Warnings accepted, each with its reason; anything else fails. The stack's own resources declare
 * no DependsOn that a reference already implies: a runtime depends on its role's policy (which
 * nothing references) and, on the docker path, its image copy; the MCP runtime on the NAT routes of
 * its subnets. The two image libraries add such DependsOn inside what they build, which this stack
 * cannot remove: deploy-time-build's custom resources and handler (on the CodeBuild project and the
 * handler's role), and cdk-ecr-deployment's handler (on the role it is given). W3005 is accepted
 * there and nowhere else: the resource holding the DependsOn must be one of theirs.
 */
const ACCEPTED_WARNINGS: readonly {
  readonly rule: string
  readonly holder: RegExp
  readonly reason: string
}[] = [
  {
    rule: 'W3005',
    holder: /^(\w+ImageBuild[0-9A-F]{8}|DeployTimeBuildCustomResourceHandler\w+|CustomCDKECRDeployment\w+)$/,
    reason: 'a DependsOn the image libraries add inside their own constructs',
  },
]

/** The logical id of the resource a W3005 finding is about: `... at 'Resources/<id>/...'`. */
function holderOf(finding: Finding): string {
  return /at 'Resources\/([^/']+)/.exec(finding.Message)?.[1] ?? ''
}

function accepted(finding: Finding): boolean {
  return ACCEPTED_WARNINGS.some(
    ({ rule, holder }) => finding.Rule.Id === rule && holder.test(holderOf(finding)),
  )
}

interface Finding {
  readonly Rule: { readonly Id: string }
  readonly Level: string
  readonly Message: string
}

/**
 * Lints `templates` (name to template) in one cfn-lint run, which costs seconds to start, and
 * answers each template's findings by its name.
 */
function lint(templates: Readonly<Record<string, unknown>>): Map<string, Finding[]> {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-cfn-lint-'))
  try {
    const files = Object.entries(templates).map(([name, template], index) => {
      const file = join(dir, `template-${index}.json`)
      writeFileSync(file, JSON.stringify(template))
      return [file, name] as const
    })
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', ...files.map(([file]) => file)], {
      encoding: 'utf8',
    })
    if (run.error !== undefined)
      assert.fail(
        `cfn-lint could not be run (${run.error.message}): install it with \`pip install cfn-lint\``,
      )
    const byFile = new Map(files)
    const findings = new Map<string, Finding[]>(Object.keys(templates).map((name) => [name, []]))
    for (const finding of JSON.parse(run.stdout || '[]') as (Finding & { Filename: string })[]) {
      const name = byFile.get(finding.Filename)
      assert.ok(name !== undefined, `a finding for a file not linted: ${finding.Filename}`)
      findings.get(name)?.push(finding)
    }
    return findings
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The lifecycle out of range (30 s idle, 30,000 s at most) in every runtime of `json`. */
function withLifecycleOutOfRange(json: {
  Resources: Record<string, { Type: string; Properties?: unknown }>
}) {
  const broken = structuredClone(json)
  for (const resource of Object.values(broken.Resources))
    if (resource.Type === 'AWS::BedrockAgentCore::Runtime')
      (resource.Properties as Record<string, unknown>).LifecycleConfiguration = {
        IdleRuntimeSessionTimeout: 30,
        MaxLifetime: 30_000,
      }
  return broken
}

const LIFECYCLE_OUT_OF_RANGE = 'lifecycle out of range'

describe('the template against CloudFormation resource schemas (cfn-lint)', () => {
  let findings: Map<string, Finding[]>
  before(() => {
    const templates: Record<string, unknown> = {}
    for (const [name, context] of Object.entries(VARIANTS))
      templates[name] = withSynthesized(context, ({ json }) => json)
    templates[LIFECYCLE_OUT_OF_RANGE] = withLifecycleOutOfRange(
      templates.default as Parameters<typeof withLifecycleOutOfRange>[0],
    )
    findings = lint(templates)
  })

  for (const name of Object.keys(VARIANTS)) {
    test(`${name}: no errors, and only the accepted warnings`, () => {
      const found = findings.get(name) ?? []
      const errors = found.filter((finding) => finding.Level === 'Error')
      assert.deepEqual(
        errors.map((finding) => `${finding.Rule.Id}: ${finding.Message}`),
        [],
      )
      const unexpected = found.filter((finding) => finding.Level !== 'Error' && !accepted(finding))
      assert.deepEqual(
        unexpected.map((finding) => `${finding.Rule.Id}: ${finding.Message}`),
        [],
      )
    })
  }

  test('a runtime lifecycle out of range (30 s idle, 30,000 s at most) is an error', () => {
    const rules = (findings.get(LIFECYCLE_OUT_OF_RANGE) ?? [])
      .filter((finding) => finding.Level === 'Error')
      .map((finding) => finding.Rule.Id)
    assert.ok(rules.includes('E3034'), `E3034 expected, got ${rules.join(', ')}`)
  })
})
