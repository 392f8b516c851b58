import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { App, Stack } from 'aws-cdk-lib'
import { createApp } from '../../deploy/app.ts'
import { AGENTCORE_VPC_ZONE_IDS, DEFAULT_ZONE_COUNT, regionCodeOf } from '../../deploy/availability-zones.ts'
import { RedisTaskStore } from '../../deploy/redis-task-store.ts'
import { parseStackParameters, StackParameterError } from '../../deploy/stack-parameters.ts'
import { type CfnResource, resourcesOf, runtimeOf, withSynthesized } from '../helpers/deploy-stack.ts'

/**
 * AgentCore places a VPC-mode runtime's network interfaces only in some zones of each Region,
 * named by zone ID; a zone name maps to a different zone in each account. So the subnets are
 * placed by ID: the IDs given, or the Region's first supported ones from a mapping.
 */

type Template = { Resources: Record<string, CfnResource>; Mappings?: Record<string, unknown> }

/** The task store alone in a stack of `region` (undefined: environment-agnostic, as the app's). */
function storeTemplate(availabilityZoneIds: readonly string[] | undefined, region?: string): Template {
  const app = new App()
  const stack = new Stack(app, 'Store', region === undefined ? {} : { env: { region } })
  new RedisTaskStore(stack, 'TaskStore', {
    nodeType: 'cache.t4g.micro',
    replicas: 1,
    availabilityZoneIds,
    extraEgressPorts: [],
  })
  return app.synth().getStackArtifact(stack.artifactId).template as Template
}

/** Every subnet's zone properties. */
function subnetZones(template: Template): { id: unknown; name: unknown }[] {
  return resourcesOf(template, 'AWS::EC2::Subnet').map(([, subnet]) => ({
    id: subnet.Properties?.AvailabilityZoneId,
    name: subnet.Properties?.AvailabilityZone,
  }))
}

function assertRefused(context: Record<string, unknown>, parameter: string): void {
  assert.throws(
    () => parseStackParameters(context),
    (error: unknown) =>
      error instanceof StackParameterError &&
      error.code === 'STACK_PARAMETER_INVALID' &&
      error.parameter === parameter,
    `${JSON.stringify(context)} should be refused naming ${parameter}`,
  )
}

describe('subnets by Availability Zone ID', () => {
  test('the IDs given place every subnet, public and private, each ID used; no zone names', () => {
    for (const ids of [
      ['use1-az4', 'use1-az2'],
      ['usw2-az1', 'usw2-az2', 'usw2-az3'],
    ]) {
      const zones = subnetZones(storeTemplate(ids))
      // A public and a private subnet per zone.
      assert.equal(zones.length, 2 * ids.length)
      for (const zone of zones) assert.equal(zone.name, undefined)
      assert.deepEqual(zones.map((zone) => zone.id).sort(), [...ids, ...ids].sort())
    }
  })

  test('the app passes availabilityZoneIds through to the MCP runtime subnets', () => {
    withSynthesized({ availabilityZoneIds: 'use1-az4,use1-az1' }, ({ json }) => {
      const zoneOf = new Map(
        resourcesOf(json, 'AWS::EC2::Subnet').map(([id, subnet]) => [
          id,
          subnet.Properties?.AvailabilityZoneId,
        ]),
      )
      assert.deepEqual([...new Set(zoneOf.values())].sort(), ['use1-az1', 'use1-az4'])
      const network = runtimeOf(json, 'MCP')[1].Properties?.NetworkConfiguration as {
        NetworkModeConfig: { Subnets: { Ref: string }[] }
      }
      assert.deepEqual(network.NetworkModeConfig.Subnets.map((subnet) => zoneOf.get(subnet.Ref)).sort(), [
        'use1-az1',
        'use1-az4',
      ])
      assert.equal((json as Template).Mappings, undefined)
    })
  })

  test('by default, a mapping keyed by Region gives the first supported IDs of the deploy Region', () => {
    const template = storeTemplate(undefined)
    const mappings = Object.entries(template.Mappings ?? {})
    assert.equal(mappings.length, 1)
    const [name, mapping] = mappings[0] as [string, Record<string, Record<string, string>>]
    // Every Region of the table, each with its first IDs: a supported zone, none twice.
    assert.deepEqual(Object.keys(mapping).sort(), Object.keys(AGENTCORE_VPC_ZONE_IDS).sort())
    for (const [region, ids] of Object.entries(AGENTCORE_VPC_ZONE_IDS))
      assert.deepEqual(Object.values(mapping[region] ?? {}), ids.slice(0, DEFAULT_ZONE_COUNT), region)
    const zones = subnetZones(template)
    assert.equal(zones.length, 2 * DEFAULT_ZONE_COUNT)
    const lookups = zones.map((zone) => zone.id as { 'Fn::FindInMap': [string, unknown, string] })
    for (const lookup of lookups) {
      assert.equal(lookup['Fn::FindInMap'][0], name)
      assert.deepEqual(lookup['Fn::FindInMap'][1], { Ref: 'AWS::Region' })
    }
    // Both keys, so both zones.
    assert.deepEqual(
      [...new Set(lookups.map((lookup) => lookup['Fn::FindInMap'][2]))].sort(),
      Object.keys(Object.values(mapping)[0] ?? {}).sort(),
    )
    for (const zone of zones) assert.equal(zone.name, undefined)
  })

  test('the table has only zone IDs of its own Region, at least two each', () => {
    const prefixes = new Map<string, string>()
    for (const [region, ids] of Object.entries(AGENTCORE_VPC_ZONE_IDS)) {
      assert.ok(ids.length >= DEFAULT_ZONE_COUNT, region)
      assert.equal(new Set(ids).size, ids.length, region)
      const prefix = new Set(ids.map(regionCodeOf))
      assert.equal(prefix.size, 1, region)
      const [only] = prefix
      assert.ok(!prefixes.has(only as string), `${region} and ${prefixes.get(only as string)} share ${only}`)
      prefixes.set(only as string, region)
    }
  })

  test('a Region known at synth takes its IDs from the table, or fails naming availabilityZoneIds', () => {
    assert.deepEqual(
      subnetZones(storeTemplate(undefined, 'eu-west-1')).map((zone) => zone.id),
      ['euw1-az1', 'euw1-az2', 'euw1-az1', 'euw1-az2'],
    )
    assert.throws(
      () => storeTemplate(undefined, 'af-south-1'),
      (error: unknown) => error instanceof StackParameterError && error.parameter === 'availabilityZoneIds',
    )
    // With IDs of its own, a Region outside the table is fine.
    assert.deepEqual(
      [...new Set(subnetZones(storeTemplate(['afs1-az1', 'afs1-az2'], 'af-south-1')).map((zone) => zone.id))],
      ['afs1-az1', 'afs1-az2'],
    )
  })

  test('bad IDs are refused naming availabilityZoneIds', () => {
    assertRefused({ availabilityZoneIds: 'use1-az1' }, 'availabilityZoneIds')
    assertRefused({ availabilityZoneIds: 'us-east-1a,us-east-1b' }, 'availabilityZoneIds')
    assertRefused({ availabilityZoneIds: 'use1-az1,use1-az1' }, 'availabilityZoneIds')
    assertRefused({ availabilityZoneIds: 'use1-az1,usw2-az1' }, 'availabilityZoneIds')
    // A zone AgentCore does not support in a Region of the table.
    assertRefused({ availabilityZoneIds: 'use1-az1,use1-az6' }, 'availabilityZoneIds')
    assertRefused({ availabilityZoneIds: 'use1-az1,use1-az2', taskBackend: 'sqlite' }, 'availabilityZoneIds')
    assert.deepEqual(
      parseStackParameters({ availabilityZoneIds: 'use1-az4, use1-az2' }).availabilityZoneIds,
      ['use1-az4', 'use1-az2'],
    )
    assert.deepEqual(
      parseStackParameters({ availabilityZoneIds: ['cac1-az1', 'cac1-az2'] }).availabilityZoneIds,
      ['cac1-az1', 'cac1-az2'],
    )
  })

  test('the old availabilityZones (names) is refused, pointing to availabilityZoneIds', () => {
    assertRefused({ availabilityZones: 'us-east-1a,us-east-1b' }, 'availabilityZones')
    assert.throws(
      () => createApp({ context: { availabilityZones: 'us-east-1a,us-east-1b' } }),
      (error: unknown) => error instanceof StackParameterError && /availabilityZoneIds/.test(error.message),
    )
  })
})
