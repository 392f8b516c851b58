/**
 * Workers that no Runtime session bounds: `longrun worker` as an ECS Fargate service (arm64, the
 * same image as the MCP server, its `worker` target) in the task store's VPC. An AgentCore microVM
 * lives at most 8 hours (15 minutes idle), so a task that runs longer, or one put back in the queue
 * when its microVM ended, needs a process that is there whether or not a user has a session open.
 *
 * The service is scaled on the queue's depth: every MCP server process and worker publishes
 * `TasksOwed` (tasks waiting, re-queued and running, plus results owed to the memory) to CloudWatch,
 * and the service runs `count` workers while that is above zero and none once it has stayed zero a
 * while. Never between those: a step down while tasks run would stop a worker in the middle of one
 * (its task goes back to the queue and starts again), and a training of hours should not pay for
 * the queue getting shorter.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import { AdjustmentType, StepScalingAction } from 'aws-cdk-lib/aws-applicationautoscaling'
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch'
import { ApplicationScalingAction } from 'aws-cdk-lib/aws-cloudwatch-actions'
import type { IRepository } from 'aws-cdk-lib/aws-ecr'
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2'
import {
  Cluster,
  ContainerImage,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  LogDriver,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs'
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import { Construct } from 'constructs'

/** The metric the MCP server processes publish (src/mcp-server/queue-depth-metric.ts). */
export const QUEUE_METRIC = { namespace: 'longrun', name: 'TasksOwed', dimension: 'Deployment' } as const

/** How the service follows the queue: minutes of an empty queue before the workers stop. */
export const WORKER_SCALING = { periodSeconds: 60, idleMinutesBeforeStop: 10 } as const

/** One worker's size: 1 vCPU, 2 GiB (a Fargate arm64 size; each worker runs MCP_TASK_CONCURRENCY tasks). */
export const WORKER_SIZE = { cpu: 1024, memoryLimitMiB: 2048 } as const

export interface TaskWorkersConfig {
  readonly vpc: IVpc
  readonly subnets: SubnetSelection
  /** The security group that may reach Redis (and 443 out). */
  readonly securityGroup: ISecurityGroup
  /** The worker target's image, in its own repository. */
  readonly image: { readonly imageUri: string; readonly repository: IRepository }
  readonly environment: Record<string, string>
  /** What the worker's code calls (memory, the agent runtime, the metric, secrets). */
  readonly statements: readonly PolicyStatement[]
  /** Workers running while the queue holds anything. */
  readonly count: number
  /** The `Deployment` dimension of the queue metric. */
  readonly deployment: string
}

export class TaskWorkers extends Construct {
  readonly service: FargateService
  readonly taskDefinition: FargateTaskDefinition
  /** The queue depth the service follows. */
  readonly queueDepth: Metric

  constructor(scope: Construct, id: string, config: TaskWorkersConfig) {
    super(scope, id)
    const cluster = new Cluster(this, 'Cluster', { vpc: config.vpc })
    this.taskDefinition = new FargateTaskDefinition(this, 'Task', {
      ...WORKER_SIZE,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    })
    for (const statement of config.statements) this.taskDefinition.addToTaskRolePolicy(statement)
    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    })
    // ECS pulls the image with the execution role, which may pull from this repository only.
    config.image.repository.grantPull(this.taskDefinition.obtainExecutionRole())
    this.taskDefinition.addContainer('worker', {
      image: ContainerImage.fromRegistry(config.image.imageUri),
      environment: config.environment,
      logging: LogDriver.awsLogs({ logGroup, streamPrefix: 'worker' }),
      // SIGTERM puts the running tasks back in the queue; Fargate allows 120 s before SIGKILL.
      stopTimeout: Duration.seconds(120),
      readonlyRootFilesystem: false,
    })
    this.service = new FargateService(this, 'Service', {
      cluster,
      taskDefinition: this.taskDefinition,
      // No DesiredCount: a deploy would set it again, stopping workers mid-task; without it
      // CloudFormation creates the service with one (stopped after the idle stretch) and leaves the
      // count to the scaling policies ever after.
      vpcSubnets: config.subnets,
      securityGroups: [config.securityGroup],
      assignPublicIp: false,
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    })
    this.queueDepth = new Metric({
      namespace: QUEUE_METRIC.namespace,
      metricName: QUEUE_METRIC.name,
      dimensionsMap: { [QUEUE_METRIC.dimension]: config.deployment },
      statistic: 'Maximum',
      period: Duration.seconds(WORKER_SCALING.periodSeconds),
    })
    this.scaleOnQueueDepth(config.count)
  }

  /** `count` workers as soon as one minute shows work owed; none after an idle stretch. */
  private scaleOnQueueDepth(count: number): void {
    const target = this.service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: count })
    const start = new StepScalingAction(this, 'StartWorkers', {
      scalingTarget: target,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.seconds(WORKER_SCALING.periodSeconds),
    })
    start.addAdjustment({ lowerBound: 0, adjustment: count })
    const stop = new StepScalingAction(this, 'StopWorkers', {
      scalingTarget: target,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.seconds(WORKER_SCALING.periodSeconds),
    })
    stop.addAdjustment({ upperBound: 0, adjustment: 0 })
    new Alarm(this, 'WorkOwed', {
      alarmDescription: 'longrun: tasks or results are owed; run the workers',
      metric: this.queueDepth,
      // Half way between the whole numbers the metric takes: the steps are bounded by the threshold.
      threshold: 0.5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // Nothing published: nobody is up to publish, so nothing was started or is running.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new ApplicationScalingAction(start))
    new Alarm(this, 'QueueIdle', {
      alarmDescription: 'longrun: nothing owed for a while; stop the workers',
      metric: this.queueDepth,
      threshold: 0.5,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: WORKER_SCALING.idleMinutesBeforeStop,
      // Workers that run publish every minute. Nobody publishing at all (no worker, no session)
      // leaves the alarm without data: INSUFFICIENT_DATA, which scales nothing.
      treatMissingData: TreatMissingData.MISSING,
    }).addAlarmAction(new ApplicationScalingAction(stop))
  }
}
