import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { createApp } from '../../deploy/app.ts'
import { parseStackParameters, StackParameterError } from '../../deploy/stack-parameters.ts'
import { NODE } from '../helpers/child-process.ts'

/** Synthesising with `context` must stop before any resource, naming `parameter`. */
function assertRefused(context: Record<string, unknown>, parameter: string): void {
  assert.throws(
    () => createApp({ context: { ...context, 'aws:cdk:disable-asset-staging': true } }),
    (error: unknown) =>
      error instanceof StackParameterError &&
      error.code === 'STACK_PARAMETER_INVALID' &&
      error.parameter === parameter,
    `${JSON.stringify(context)} should be refused naming ${parameter}`,
  )
}

describe('stack parameters', () => {
  test('defaults: Cognito, redis, 30 days, the global Claude Sonnet profile', () => {
    const parameters = parseStackParameters({})
    assert.equal(parameters.stackName, 'Longrun')
    assert.equal(parameters.taskBackend, 'redis')
    assert.equal(parameters.eventExpiryDays, 30)
    assert.deepEqual(parameters.longTermMemory, [])
    assert.deepEqual(parameters.auth, { kind: 'cognito', mfa: 'off', passwordAuth: false })
    // Tasks on Fargate workers; the MCP microVMs take calls only.
    assert.equal(parameters.workers, 'fargate')
    assert.equal(parameters.workerCount, 1)
    assert.equal(parameters.mcpRunsTasks, false)
    assert.equal(parameters.modelMarketplaceAccess, false)
    assert.deepEqual(parameters.model, {
      id: 'global.anthropic.claude-sonnet-4-6',
      foundationModel: 'anthropic.claude-sonnet-4-6',
      profileScope: 'global',
    })
  })

  test('values arrive as -c strings or as typed cdk.json values alike', () => {
    assert.equal(parseStackParameters({ eventExpiryDays: '7' }).eventExpiryDays, 7)
    assert.equal(parseStackParameters({ eventExpiryDays: 365 }).eventExpiryDays, 365)
    assert.deepEqual(parseStackParameters({ longTermMemory: ['summary'] }).longTermMemory, ['summary'])
    assert.deepEqual(parseStackParameters({ modelId: 'amazon.nova-pro-v1:0' }).model, {
      id: 'amazon.nova-pro-v1:0',
      foundationModel: 'amazon.nova-pro-v1:0',
      profileScope: undefined,
    })
  })

  test('event expiry outside 7..365 days is refused', () => {
    for (const days of ['6', '366', '30.5', 'thirty', '-1'])
      assertRefused({ eventExpiryDays: days }, 'eventExpiryDays')
  })

  test('an unknown task backend, model id or strategy is refused, naming the parameter', () => {
    assertRefused({ taskBackend: 'dynamodb' }, 'taskBackend')
    assertRefused({ modelId: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0' }, 'modelId')
    assertRefused({ modelId: 'claude' }, 'modelId')
    assertRefused({ modelId: 'us.claude' }, 'modelId')
    assertRefused({ longTermMemory: 'semantic,episodes' }, 'longTermMemory')
    assertRefused({ longTermMemory: 'semantic,semantic' }, 'longTermMemory')
    assertRefused({ redisReplicas: '6' }, 'redisReplicas')
    assertRefused({ redisNodeType: 'm5.large' }, 'redisNodeType')
    assertRefused({ name: 'long-run' }, 'name')
    assertRefused({ name: 'a'.repeat(37) }, 'name')
    assertRefused({ stackName: '1stack' }, 'stackName')
    assertRefused({ otlpEndpoint: 'collector:4318' }, 'otlpEndpoint')
  })

  test('imageBuild: codebuild by default, docker on request, anything else refused', () => {
    assert.equal(parseStackParameters({}).imageBuild, 'codebuild')
    assert.equal(parseStackParameters({ imageBuild: 'codebuild' }).imageBuild, 'codebuild')
    assert.equal(parseStackParameters({ imageBuild: 'docker' }).imageBuild, 'docker')
    for (const value of ['Docker', 'local', 'buildx', 'codebuild,docker'])
      assertRefused({ imageBuild: value }, 'imageBuild')
  })

  test('a misspelt parameter is refused rather than ignored; CDK context keys pass', () => {
    assertRefused({ modelID: 'amazon.nova-pro-v1:0' }, 'modelID')
    assert.doesNotThrow(() =>
      parseStackParameters({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:x': 1 }),
    )
  })

  test('a provider of your own needs its issuer, key set, and audiences or client ids', () => {
    const provider = {
      oidcIssuer: 'https://login.example.com',
      oidcJwksUrl: 'https://login.example.com/keys',
      oidcAudiences: 'longrun',
    }
    assert.equal(parseStackParameters(provider).auth.kind, 'oidc')
    assert.deepEqual(
      parseStackParameters({ ...provider, oidcAudiences: undefined, oidcClientIds: 'app' }).auth,
      {
        kind: 'oidc',
        issuer: provider.oidcIssuer,
        jwksUrl: provider.oidcJwksUrl,
        audiences: [],
        clientIds: ['app'],
      },
    )
    assertRefused({ ...provider, oidcJwksUrl: undefined }, 'oidcJwksUrl')
    assertRefused({ ...provider, oidcAudiences: undefined }, 'oidcAudiences')
    assertRefused({ ...provider, oidcIssuer: 'http://login.example.com' }, 'oidcIssuer')
    assertRefused({ oidcAudiences: 'longrun' }, 'oidcAudiences')
  })

  test('availabilityZoneIds: two or more supported zone IDs of one Region, with the redis backend only', () => {
    assert.equal(parseStackParameters({}).availabilityZoneIds, undefined)
    assertRefused({ availabilityZoneIds: 'use1-az1' }, 'availabilityZoneIds')
    assertRefused({ availabilityZoneIds: 'us-east-1a,us-east-1b' }, 'availabilityZoneIds')
    assertRefused({ availabilityZoneIds: 'use1-az1,use1-az2', taskBackend: 'sqlite' }, 'availabilityZoneIds')
    // The zone names of old are refused, not ignored (test/deploy/availability-zones.test.ts has more).
    assertRefused({ availabilityZones: 'us-east-1a,us-east-1b' }, 'availabilityZones')
  })

  test('the app run by the CDK CLI exits 1 naming the parameter, and writes no assembly', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'longrun-cdk-refused-'))
    try {
      const result = spawnSync(NODE, ['--disable-warning=ExperimentalWarning', 'deploy/app.ts'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: {
          PATH: process.env.PATH,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ eventExpiryDays: 400 }),
        },
        encoding: 'utf8',
      })
      assert.equal(result.status, 1)
      assert.match(result.stderr, /^longrun deploy: eventExpiryDays: /m)
      assert.equal(existsSync(join(outdir, 'manifest.json')), false)
    } finally {
      rmSync(outdir, { recursive: true, force: true })
    }
  })
})
