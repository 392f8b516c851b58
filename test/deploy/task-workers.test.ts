import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseStackParameters, StackParameterError } from '../../deploy/stack-parameters.ts'
import { QUEUE_METRIC, WORKER_SCALING } from '../../deploy/task-workers.ts'
import {
  environmentOf,
  flatten,
  onlyResourceOf,
  resourcesOf,
  roleIdOf,
  runtimeOf,
  statementsOfRole,
  type SynthesizedStack,
  synthesize,
  withSynthesized,
  workerEnvironmentOf,
  actionsOf,
} from '../helpers/deploy-stack.ts'

type Json = SynthesizedStack['json']

/** The worker container of the task definition. */
function workerContainer(json: Json): Record<string, unknown> {
  const [, definition] = onlyResourceOf(json, 'AWS::ECS::TaskDefinition')
  const containers = definition.Properties?.ContainerDefinitions as Record<string, unknown>[]
  assert.equal(containers.length, 1)
  return containers[0] as Record<string, unknown>
}

function containerEnvironment(json: Json): Record<string, string> {
  return Object.fromEntries(
    Object.entries(workerEnvironmentOf(json)).map(([name, value]) => [name, flatten(value)]),
  )
}

describe('workers that no Runtime session bounds: an ECS Fargate service scaled on the queue', () => {
  let synthesized: SynthesizedStack
  before(() => {
    synthesized = synthesize()
  })
  after(() => synthesized.remove())

  test('the default redis deploy has a Fargate service of arm64 workers running the worker image target', () => {
    const { json } = synthesized
    const [, definition] = onlyResourceOf(json, 'AWS::ECS::TaskDefinition')
    assert.deepEqual(definition.Properties?.RuntimePlatform, {
      CpuArchitecture: 'ARM64',
      OperatingSystemFamily: 'LINUX',
    })
    assert.deepEqual(definition.Properties?.RequiresCompatibilities, ['FARGATE'])
    const [, service] = onlyResourceOf(json, 'AWS::ECS::Service')
    assert.equal(service.Properties?.LaunchType, 'FARGATE')
    // The worker's image is built from the same Dockerfile, its `worker` target, into its own repository.
    const builds = resourcesOf(json, 'Custom::CDKContainerImageBuild')
    const workerBuild = builds.find(([, build]) =>
      JSON.stringify(build.Properties).includes('--target worker'),
    )
    assert.ok(workerBuild, 'a build of the worker target')
    const image = flatten(workerContainer(json).Image)
    const [workerRepositoryId] =
      resourcesOf(json, 'AWS::ECR::Repository').find(([id]) => image.includes(id)) ?? []
    assert.ok(workerRepositoryId, `the image ${image} is in one of the stack's repositories`)
    const [, mcp] = runtimeOf(json, 'MCP')
    assert.ok(!flatten(mcp.Properties?.AgentRuntimeArtifact).includes(workerRepositoryId))
  })

  test('beside the MCP runtime: the same private subnets and the security group that reaches Redis', () => {
    const { json } = synthesized
    const [, service] = onlyResourceOf(json, 'AWS::ECS::Service')
    const network = (
      service.Properties?.NetworkConfiguration as { AwsvpcConfiguration: Record<string, unknown> }
    ).AwsvpcConfiguration
    assert.equal(network.AssignPublicIp, 'DISABLED')
    const [, mcp] = runtimeOf(json, 'MCP')
    const runtimeNetwork = (
      mcp.Properties?.NetworkConfiguration as {
        NetworkModeConfig: { Subnets: unknown[]; SecurityGroups: unknown[] }
      }
    ).NetworkModeConfig
    assert.deepEqual(
      (network.Subnets as unknown[]).map(flatten).sort(),
      runtimeNetwork.Subnets.map(flatten).sort(),
    )
    assert.deepEqual(
      (network.SecurityGroups as unknown[]).map(flatten),
      runtimeNetwork.SecurityGroups.map(flatten),
    )
    // That group is the one the Redis group admits on 6379.
    const [groupId] = (network.SecurityGroups as { 'Fn::GetAtt': string[] }[]).map(
      (group) => group['Fn::GetAtt'][0],
    )
    const ingress = resourcesOf(json, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, rule]) => flatten(rule.Properties?.SourceSecurityGroupId) === `\${${groupId}.GroupId}`,
    )
    assert.equal(ingress.length, 1)
    assert.equal(ingress[0]?.[1].Properties?.FromPort, 6379)
  })

  test('scaled on the queue depth: the workers start when work is owed, and stop once it stayed at zero', () => {
    const { json } = synthesized
    const [targetId, target] = onlyResourceOf(json, 'AWS::ApplicationAutoScaling::ScalableTarget')
    assert.equal(target.Properties?.MinCapacity, 0)
    assert.equal(target.Properties?.MaxCapacity, 1)
    const [, service] = onlyResourceOf(json, 'AWS::ECS::Service')
    // Left to the scaling policies: a DesiredCount in the template would be set again at every deploy.
    assert.equal(service.Properties?.DesiredCount, undefined)
    const alarms = resourcesOf(json, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties ?? {})
    assert.equal(alarms.length, 2)
    for (const alarm of alarms) {
      assert.equal(alarm.Namespace, QUEUE_METRIC.namespace)
      assert.equal(alarm.MetricName, QUEUE_METRIC.name)
      assert.deepEqual(alarm.Dimensions, [{ Name: QUEUE_METRIC.dimension, Value: 'longrun' }])
      assert.equal(alarm.Statistic, 'Maximum')
      assert.equal(alarm.Period, WORKER_SCALING.periodSeconds)
    }
    const policies = Object.fromEntries(
      resourcesOf(json, 'AWS::ApplicationAutoScaling::ScalingPolicy').map(([id, policy]) => [
        id,
        policy.Properties,
      ]),
    )
    const stepsOf = (alarm: Record<string, unknown>) => {
      const [action] = alarm.AlarmActions as { Ref: string }[]
      const policy = policies[action?.Ref ?? ''] as Record<string, unknown>
      assert.equal((policy.ScalingTargetId as { Ref: string }).Ref, targetId)
      const configuration = policy.StepScalingPolicyConfiguration as Record<string, unknown>
      assert.equal(configuration.AdjustmentType, 'ExactCapacity')
      return configuration.StepAdjustments as Record<string, unknown>[]
    }
    const start = alarms.find((alarm) => alarm.ComparisonOperator === 'GreaterThanThreshold')
    const stop = alarms.find((alarm) => alarm.ComparisonOperator === 'LessThanThreshold')
    assert.ok(start && stop)
    // One owed task (the metric is a whole number) starts every worker at once, within one period;
    // the step bounds are relative to the threshold, half way between 0 and 1.
    assert.equal(start.Threshold, 0.5)
    assert.equal(start.EvaluationPeriods, 1)
    assert.equal(start.TreatMissingData, 'notBreaching')
    assert.deepEqual(stepsOf(start), [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }])
    // None once nothing was owed for the idle stretch; a silent metric changes nothing.
    assert.equal(stop.Threshold, 0.5)
    assert.equal(stop.EvaluationPeriods, WORKER_SCALING.idleMinutesBeforeStop)
    assert.equal(stop.TreatMissingData, 'missing')
    assert.deepEqual(stepsOf(stop), [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }])
  })

  test('the workers run tasks and deliver them; the MCP microVMs only take calls, and both publish the depth', () => {
    const { json } = synthesized
    const worker = containerEnvironment(json)
    const mcp = environmentOf(runtimeOf(json, 'MCP')[1])
    assert.equal(mcp.MCP_RUN_WORKER, 'false')
    for (const environment of [
      worker,
      Object.fromEntries(Object.entries(mcp).map(([k, v]) => [k, flatten(v)])),
    ]) {
      assert.equal(environment.MCP_TASK_BACKEND, 'redis')
      assert.equal(environment.MCP_QUEUE_METRIC_NAMESPACE, QUEUE_METRIC.namespace)
      assert.equal(environment.MCP_QUEUE_METRIC_DEPLOYMENT, 'longrun')
      assert.equal(environment.MCP_WAKE_RUNTIME, 'longrun_agent')
      assert.match(environment.REDIS_URL ?? '', /^rediss:\/\//)
      assert.ok(environment.REDIS_PASSWORD_SECRET_ARN)
    }
    assert.equal(worker.REDIS_URL, flatten(mcp.REDIS_URL))
    // No HTTP side in a worker: no port, no callers' tokens.
    for (const absent of ['MCP_PORT', 'MCP_JWT_ISSUER', 'MCP_RUN_WORKER'])
      assert.equal(worker[absent], undefined, absent)
    // The worker's command is the image's (the worker target's CMD): nothing overrides it.
    assert.equal(workerContainer(json).Command, undefined)
  })

  test("the workers' task role may do what the MCP server's task side does, and nothing else", () => {
    const { json } = synthesized
    const [, definition] = onlyResourceOf(json, 'AWS::ECS::TaskDefinition')
    const taskRoleId = roleIdOf(definition, 'TaskRoleArn')
    const actions = statementsOfRole(json, taskRoleId).flatMap(actionsOf).sort()
    assert.deepEqual(actions, [
      'bedrock-agentcore:CreateEvent',
      'bedrock-agentcore:InvokeAgentRuntime',
      'bedrock-agentcore:ListAgentRuntimes',
      'cloudwatch:PutMetricData',
      'secretsmanager:GetSecretValue',
    ])
    const metric = statementsOfRole(json, taskRoleId).find((statement) =>
      actionsOf(statement).includes('cloudwatch:PutMetricData'),
    )
    assert.deepEqual(metric?.Condition, { StringEquals: { 'cloudwatch:namespace': QUEUE_METRIC.namespace } })
  })
})

describe('who runs the tasks is a setting', () => {
  test('mcpRunsTasks=true: the MCP microVMs run tasks beside the workers', () => {
    withSynthesized({ mcpRunsTasks: 'true' }, ({ json }) => {
      assert.equal(environmentOf(runtimeOf(json, 'MCP')[1]).MCP_RUN_WORKER, 'true')
      assert.equal(resourcesOf(json, 'AWS::ECS::Service').length, 1)
    })
  })

  test('workers=none: no ECS service and no worker image; the MCP microVMs run every task', () => {
    withSynthesized({ workers: 'none' }, ({ json }) => {
      assert.equal(resourcesOf(json, 'AWS::ECS::Service').length, 0)
      assert.equal(resourcesOf(json, 'AWS::ECR::Repository').length, 2)
      const mcp = environmentOf(runtimeOf(json, 'MCP')[1])
      assert.equal(mcp.MCP_RUN_WORKER, 'true')
      assert.equal(mcp.MCP_QUEUE_METRIC_NAMESPACE, undefined)
    })
  })

  test('workerCount sets how many run while work is owed', () => {
    withSynthesized({ workerCount: '3' }, ({ json }) => {
      const [, target] = onlyResourceOf(json, 'AWS::ApplicationAutoScaling::ScalableTarget')
      assert.equal(target.Properties?.MaxCapacity, 3)
      assert.ok(JSON.stringify(json).includes('"ScalingAdjustment":3'))
    })
  })

  test('the sqlite backend has no workers: its tasks live in one microVM', () => {
    withSynthesized({ taskBackend: 'sqlite' }, ({ json }) => {
      assert.equal(resourcesOf(json, 'AWS::ECS::Service').length, 0)
      assert.equal(environmentOf(runtimeOf(json, 'MCP')[1]).MCP_RUN_WORKER, undefined)
    })
  })

  test('settings that leave nobody to run tasks, or workers without Redis, are refused by name', () => {
    for (const [context, parameter] of [
      [{ workers: 'none', mcpRunsTasks: 'false' }, 'mcpRunsTasks'],
      [{ taskBackend: 'sqlite', workers: 'fargate' }, 'workers'],
      [{ workers: 'some' }, 'workers'],
      [{ workerCount: '0' }, 'workerCount'],
      [{ workerCount: '21' }, 'workerCount'],
      [{ workers: 'none', workerCount: '2' }, 'workerCount'],
      [{ mcpRunsTasks: 'yes' }, 'mcpRunsTasks'],
    ] as const) {
      assert.throws(
        () => parseStackParameters(context),
        (error: unknown) => error instanceof StackParameterError && error.parameter === parameter,
        JSON.stringify(context),
      )
    }
  })
})
