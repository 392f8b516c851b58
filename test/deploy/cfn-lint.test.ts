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
import { describe, test } from 'node:test'
import { withSynthesized } from '../helpers/deploy-stack.ts'

/** The variants of the other deploy tests: default (redis, Cognito), sqlite, OIDC, a foundation model. */
const VARIANTS: Record<string, Record<string, unknown>> = {
  default: {},
  sqlite: { taskBackend: 'sqlite' },
  'foundation model': { modelId: 'amazon.nova-pro-v1:0', taskBackend: 'sqlite' },
  oidc: {
    modelId: 'eu.anthropic.claude-sonnet-4-6',
    oidcIssuer: 'https://login.example.com',
    oidcJwksUrl: 'https://login.example.com/keys',
    oidcAudiences: 'longrun',
    longTermMemory: 'semantic,summary,userPreference',
  },
}

/**
 * Warnings accepted, each with its reason. W3005 (a DependsOn CloudFormation would infer): the
 * runtimes depend on whole constructs, the execution role (for its policy, which must exist before
 * the runtime pulls its image, and which nothing references) and the task store (for its routes and
 * NAT gateway, the runtime's way out); the role and the subnets in those constructs are also
 * referenced, which is what cfn-lint notes.
 */
const ACCEPTED_WARNINGS = new Set(['W3005'])

interface Finding {
  readonly Rule: { readonly Id: string }
  readonly Level: string
  readonly Message: string
}

function lint(template: unknown): Finding[] {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-cfn-lint-'))
  try {
    const file = join(dir, 'template.json')
    writeFileSync(file, JSON.stringify(template))
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', file], { encoding: 'utf8' })
    if (run.error !== undefined)
      assert.fail(
        `cfn-lint could not be run (${run.error.message}): install it with \`pip install cfn-lint\``,
      )
    return JSON.parse(run.stdout || '[]') as Finding[]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('the template against CloudFormation resource schemas (cfn-lint)', () => {
  for (const [name, context] of Object.entries(VARIANTS)) {
    test(`${name}: no errors, and only the accepted warnings`, () => {
      const findings = withSynthesized(context, ({ json }) => lint(json))
      const errors = findings.filter((finding) => finding.Level === 'Error')
      assert.deepEqual(
        errors.map((finding) => `${finding.Rule.Id}: ${finding.Message}`),
        [],
      )
      const unexpected = findings.filter(
        (finding) => finding.Level !== 'Error' && !ACCEPTED_WARNINGS.has(finding.Rule.Id),
      )
      assert.deepEqual(
        unexpected.map((finding) => `${finding.Rule.Id}: ${finding.Message}`),
        [],
      )
    })
  }

  test('a runtime lifecycle out of range (30 s idle, 30,000 s at most) is an error', () => {
    const findings = withSynthesized({}, ({ json }) => {
      const broken = structuredClone(json)
      for (const resource of Object.values(broken.Resources))
        if (resource.Type === 'AWS::BedrockAgentCore::Runtime')
          (resource.Properties as Record<string, unknown>).LifecycleConfiguration = {
            IdleRuntimeSessionTimeout: 30,
            MaxLifetime: 30_000,
          }
      return lint(broken)
    })
    const rules = findings.filter((finding) => finding.Level === 'Error').map((finding) => finding.Rule.Id)
    assert.ok(rules.includes('E3034'), `E3034 expected, got ${rules.join(', ')}`)
  })
})
