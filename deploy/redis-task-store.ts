/**
 * Where the MCP server's tasks outlive a Runtime session: an ElastiCache (Valkey) replication group
 * with cluster mode disabled, in a VPC of its own that the MCP runtime joins. Cluster mode stays off
 * (and ElastiCache Serverless, which is cluster mode, is not used) because the task store's Lua
 * scripts and BullMQ touch several keys in one call, which must all live in one hash slot. Three
 * locks on the data: TLS in transit, an AUTH token generated in Secrets Manager (the template holds
 * only a reference to it), and a security group whose only inbound rule is the MCP runtime's. The
 * group is snapshotted before CloudFormation deletes or replaces it. One NAT gateway lets the
 * runtime reach AWS APIs and the token issuer's key set.
 */
import { Aws, CfnDeletionPolicy, CfnMapping, Fn, Lazy, Stack, Token } from 'aws-cdk-lib'
import {
  type CfnSubnet,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2'
import { CfnParameterGroup, CfnReplicationGroup, CfnSubnetGroup } from 'aws-cdk-lib/aws-elasticache'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import { Construct, DependencyGroup, type IDependable } from 'constructs'
import { AGENTCORE_VPC_ZONE_IDS, DEFAULT_ZONE_COUNT, LIST_ZONE_IDS_COMMAND } from './availability-zones.ts'
import { StackParameterError } from './stack-parameters.ts'

export const REDIS_PORT = 6379

/** The key of the AUTH token in the secret's JSON (`{"password": "..."}`), as REDIS_PASSWORD_SECRET_ARN reads it. */
export const AUTH_TOKEN_JSON_KEY = 'password'

export interface RedisTaskStoreConfig {
  readonly nodeType: string
  /** Replicas beside the primary; one or more turn on Multi-AZ with automatic failover. */
  readonly replicas: number
  /**
   * Availability Zone IDs of the VPC's subnets (`use1-az1`); undefined: the first two AgentCore
   * supports for VPC mode in the deploy Region (deploy/availability-zones.ts).
   */
  readonly availabilityZoneIds: readonly string[] | undefined
  /** Ports besides 443 the MCP server connects out to (an OTLP collector's, say). */
  readonly extraEgressPorts: readonly number[]
}

export class RedisTaskStore extends Construct {
  readonly vpc: Vpc
  /** The zone ID of each subnet pair (public, private): as given, or the Region's from a mapping. */
  readonly availabilityZoneIds: readonly string[]
  /** The security group of the MCP runtime's network interfaces and of the workers' tasks. */
  readonly runtimeSecurityGroup: SecurityGroup
  /** The private subnets the MCP runtime is placed in. */
  readonly runtimeSubnetIds: string[]
  /** The same subnets, for a service placed beside the runtime (the ECS workers). */
  readonly privateSubnets: SubnetSelection
  /** The private subnets' routes through the NAT gateway: what uses them waits for this. */
  readonly internetReady: IDependable
  /** `rediss://<primary endpoint>:6379`, for REDIS_URL. */
  readonly url: string
  /**
   * The AUTH token, JSON `{"password": "..."}`: what REDIS_PASSWORD_SECRET_ARN names. Every client
   * of the group (the MCP runtime, the ECS workers) reads it at start.
   */
  readonly authSecret: Secret
  readonly replicationGroup: CfnReplicationGroup

  constructor(scope: Construct, id: string, config: RedisTaskStoreConfig) {
    super(scope, id)
    this.availabilityZoneIds = config.availabilityZoneIds ?? defaultZoneIds(this)
    this.vpc = new Vpc(this, 'Vpc', {
      // The L2 Vpc knows zone names only. The IDs go in as unresolved tokens (not checked against
      // the stack's zone names), and each subnet's AvailabilityZone then moves to AvailabilityZoneId;
      // a subnet's `availabilityZone` in this app is therefore an ID.
      availabilityZones: this.availabilityZoneIds.map((zoneId) => Lazy.string({ produce: () => zoneId })),
      natGateways: 1,
      // The default security group is used by nothing here; restricting it takes a custom resource.
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    })
    for (const subnet of [...this.vpc.publicSubnets, ...this.vpc.privateSubnets]) {
      const resource = subnet.node.defaultChild as CfnSubnet
      resource.availabilityZoneId = resource.availabilityZone
      resource.availabilityZone = undefined
    }
    this.runtimeSubnetIds = this.vpc.privateSubnets.map((subnet) => subnet.subnetId)
    this.privateSubnets = { subnets: this.vpc.privateSubnets }
    this.internetReady = new DependencyGroup(
      ...this.vpc.privateSubnets.map((subnet) => subnet.internetConnectivityEstablished),
    )
    this.runtimeSecurityGroup = new SecurityGroup(this, 'McpServerSecurityGroup', {
      vpc: this.vpc,
      description: 'longrun MCP server runtime and task workers: HTTPS out, Redis',
      allowAllOutbound: false,
    })
    this.runtimeSecurityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      'AgentCore Memory and the token key set, through the NAT gateway',
    )
    for (const port of config.extraEgressPorts)
      this.runtimeSecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(port), 'OTLP collector')
    const redisSecurityGroup = new SecurityGroup(this, 'RedisSecurityGroup', {
      vpc: this.vpc,
      description: 'longrun task store: the MCP server runtime and the task workers only',
      allowAllOutbound: false,
    })
    redisSecurityGroup.addIngressRule(
      this.runtimeSecurityGroup,
      Port.tcp(REDIS_PORT),
      'MCP server runtime, task workers',
    )
    this.runtimeSecurityGroup.addEgressRule(redisSecurityGroup, Port.tcp(REDIS_PORT), 'task store')

    // ElastiCache takes 16 to 128 printable characters but only !&#$^<>- of the punctuation; letters
    // and digits alone (64 of them) need no escaping anywhere, in a URL or a shell.
    this.authSecret = new Secret(this, 'AuthToken', {
      description: 'longrun task store: the AUTH token of the ElastiCache replication group',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: AUTH_TOKEN_JSON_KEY,
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
    })

    const subnets = new CfnSubnetGroup(this, 'Subnets', {
      description: 'longrun task store',
      subnetIds: this.runtimeSubnetIds,
    })
    // BullMQ needs noeviction: an evicted job or lock key would silently lose a task.
    const parameters = new CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: 'valkey8',
      description: 'longrun task store: never evict keys',
      properties: { 'maxmemory-policy': 'noeviction' },
    })
    const replicated = config.replicas > 0
    this.replicationGroup = new CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'longrun MCP server tasks (task records, BullMQ queues)',
      engine: 'valkey',
      engineVersion: '8.0',
      clusterMode: 'disabled',
      cacheNodeType: config.nodeType,
      numCacheClusters: 1 + config.replicas,
      automaticFailoverEnabled: replicated,
      multiAzEnabled: replicated,
      port: REDIS_PORT,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      // A dynamic reference: CloudFormation reads the token from Secrets Manager at deploy.
      authToken: this.authSecret.secretValueFromJson(AUTH_TOKEN_JSON_KEY).unsafeUnwrap(),
      cacheSubnetGroupName: subnets.ref,
      cacheParameterGroupName: parameters.ref,
      securityGroupIds: [redisSecurityGroup.securityGroupId],
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
    })
    // Tasks not yet delivered live only here: a stack deletion or a replacement keeps a final snapshot.
    this.replicationGroup.cfnOptions.deletionPolicy = CfnDeletionPolicy.SNAPSHOT
    this.replicationGroup.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.SNAPSHOT
    this.url = Fn.join('', ['rediss://', this.replicationGroup.attrPrimaryEndPointAddress, `:${REDIS_PORT}`])
  }
}

/**
 * The first zone IDs AgentCore supports in the deploy Region. The stack is environment-agnostic,
 * so the Region is usually known only at deploy: a mapping keyed by Region then gives the IDs, and
 * a Region missing from it fails the deploy before any resource is made ("Unable to get mapping
 * for TaskStoreAgentCoreZoneIds<hash>::<region>::zone1"). A Region known at synth is looked up
 * here instead.
 */
function defaultZoneIds(scope: Construct): string[] {
  const keys = Array.from({ length: DEFAULT_ZONE_COUNT }, (_, index) => `zone${index + 1}`)
  const region = Stack.of(scope).region
  if (!Token.isUnresolved(region)) {
    const supported = AGENTCORE_VPC_ZONE_IDS[region]
    if (supported === undefined)
      throw new StackParameterError(
        'availabilityZoneIds',
        `no default for ${region}, which deploy/availability-zones.ts does not list: give two or more zone IDs AgentCore Runtime supports for VPC mode there (${LIST_ZONE_IDS_COMMAND})`,
      )
    return supported.slice(0, DEFAULT_ZONE_COUNT)
  }
  const mapping = new CfnMapping(scope, 'AgentCoreZoneIds', {
    mapping: Object.fromEntries(
      Object.entries(AGENTCORE_VPC_ZONE_IDS).map(([each, ids]) => [
        each,
        Object.fromEntries(keys.map((key, index) => [key, ids[index]])),
      ]),
    ),
  })
  return keys.map((key) => mapping.findInMap(Aws.REGION, key))
}
