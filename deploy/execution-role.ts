/**
 * The execution role of one AgentCore Runtime: what the platform needs to run the container (pull
 * its image, write its logs and metrics), scoped to this runtime's image repository and log
 * groups, plus what the code in it calls, each added by the stack with its resource. Nothing else:
 * no workload access tokens (AgentCore obtains those with its own service-linked role, and the code
 * never asks for one), no ENI actions (VPC mode uses AgentCore's network service-linked role).
 */
import { Aws, Duration } from 'aws-cdk-lib'
import type { IRepository } from 'aws-cdk-lib/aws-ecr'
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { Construct, type IDependable } from 'constructs'

/** The namespace AgentCore's own runtime metrics use; the role may write metrics there only. */
export const RUNTIME_METRICS_NAMESPACE = 'bedrock-agentcore'

export interface RuntimeExecutionRoleConfig {
  /** The runtime's `agentRuntimeName`; its id, log groups and the trust condition start with it. */
  readonly runtimeName: string
  /** The runtime's own image repository (deploy/container-images.ts), the only one it may pull from. */
  readonly repository: IRepository
  readonly description: string
}

export class RuntimeExecutionRole extends Construct {
  readonly role: Role

  constructor(scope: Construct, id: string, config: RuntimeExecutionRoleConfig) {
    super(scope, id)
    const { runtimeName } = config
    const account = Aws.ACCOUNT_ID
    const region = Aws.REGION
    const partition = Aws.PARTITION
    this.role = new Role(this, 'Role', {
      description: config.description,
      // AgentCore assumes the role for this account's AgentCore resources in this Region only
      // (confused deputy), in the form AWS documents for execution roles: a narrower `runtime/<name>-*`
      // would stop the role being assumed if AgentCore ever presents another of its ARNs.
      assumedBy: new ServicePrincipal('bedrock-agentcore.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:bedrock-agentcore:${region}:${account}:*` },
        },
      }),
      // A Runtime session lasts up to 8 hours.
      maxSessionDuration: Duration.hours(8),
    })
    // ecr:BatchGetImage, GetDownloadUrlForLayer and BatchCheckLayerAvailability on the runtime's own
    // repository (no other runtime's image, nor the CDK bootstrap's); GetAuthorizationToken takes no
    // resource but *.
    config.repository.grantPull(this.role)
    // A runtime's log group is /aws/bedrock-agentcore/runtimes/<runtime id>-<endpoint>, the id being
    // <runtimeName>-<10 characters>; DescribeLogGroups names no group but the account's whole set.
    const logGroups = `arn:${partition}:logs:${region}:${account}:log-group:/aws/bedrock-agentcore/runtimes/${runtimeName}-*`
    this.allow(
      new PolicyStatement({
        sid: 'RuntimeLogGroup',
        actions: ['logs:CreateLogGroup', 'logs:DescribeLogStreams'],
        resources: [logGroups],
      }),
      new PolicyStatement({
        sid: 'RuntimeLogStreams',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroups}:log-stream:*`],
      }),
      new PolicyStatement({
        sid: 'DescribeLogGroups',
        actions: ['logs:DescribeLogGroups'],
        resources: [`arn:${partition}:logs:${region}:${account}:log-group:*`],
      }),
      // No X-Ray: the images run without the AWS Distro for OpenTelemetry, and the code exports
      // its traces over OTLP to the collector `otlpEndpoint` names (docs/telemetry.md), if any.
      new PolicyStatement({
        sid: 'RuntimeMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': RUNTIME_METRICS_NAMESPACE } },
      }),
    )
  }

  /** Adds statements to the role's policy (the runtime waits for it: see the stack). */
  allow(...statements: PolicyStatement[]): void {
    for (const statement of statements) this.role.addToPrincipalPolicy(statement)
  }

  /**
   * The role's inline policy, which every statement and grant lands in. The runtime depends on it
   * alone: it references the role already, but not the policy, and AgentCore pulls the image with
   * the role as soon as the runtime is created.
   */
  get policy(): IDependable {
    return this.role.node.findChild('DefaultPolicy')
  }
}
