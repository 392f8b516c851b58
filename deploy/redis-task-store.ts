/**
 * Where the MCP server's tasks outlive a Runtime session: an ElastiCache (Valkey) replication group
 * with cluster mode disabled, in a VPC of its own that the MCP runtime joins. Cluster mode stays off
 * (and ElastiCache Serverless, which is cluster mode, is not used) because the task store's Lua
 * scripts and BullMQ touch several keys in one call, which must all live in one hash slot. Access is
 * by network only: TLS in transit, no password, and the only inbound rule is the MCP runtime's
 * security group. One NAT gateway lets the runtime reach AWS APIs and the token issuer's key set.
 */
import { Fn } from 'aws-cdk-lib'
import { Peer, Port, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2'
import { CfnParameterGroup, CfnReplicationGroup, CfnSubnetGroup } from 'aws-cdk-lib/aws-elasticache'
import { Construct } from 'constructs'

export const REDIS_PORT = 6379

export interface RedisTaskStoreConfig {
  readonly nodeType: string
  /** Replicas beside the primary; one or more turn on Multi-AZ with automatic failover. */
  readonly replicas: number
  /** Availability Zones of the VPC; undefined: two, picked by CloudFormation in the deploy Region. */
  readonly availabilityZones: readonly string[] | undefined
  /** Ports besides 443 the MCP server connects out to (an OTLP collector's, say). */
  readonly extraEgressPorts: readonly number[]
}

export class RedisTaskStore extends Construct {
  readonly vpc: Vpc
  /** The security group of the MCP runtime's network interfaces. */
  readonly runtimeSecurityGroup: SecurityGroup
  /** The private subnets the MCP runtime is placed in. */
  readonly runtimeSubnetIds: string[]
  /** `rediss://<primary endpoint>:6379`, for REDIS_URL. */
  readonly url: string
  readonly replicationGroup: CfnReplicationGroup

  constructor(scope: Construct, id: string, config: RedisTaskStoreConfig) {
    super(scope, id)
    this.vpc = new Vpc(this, 'Vpc', {
      ...(config.availabilityZones === undefined
        ? { maxAzs: 2 }
        : { availabilityZones: [...config.availabilityZones] }),
      natGateways: 1,
      // The default security group is used by nothing here; restricting it takes a custom resource.
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    })
    this.runtimeSubnetIds = this.vpc.privateSubnets.map((subnet) => subnet.subnetId)
    this.runtimeSecurityGroup = new SecurityGroup(this, 'McpServerSecurityGroup', {
      vpc: this.vpc,
      description: 'longrun MCP server runtime: HTTPS out, Redis',
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
      description: 'longrun task store: the MCP server runtime only',
      allowAllOutbound: false,
    })
    redisSecurityGroup.addIngressRule(this.runtimeSecurityGroup, Port.tcp(REDIS_PORT), 'MCP server runtime')
    this.runtimeSecurityGroup.addEgressRule(redisSecurityGroup, Port.tcp(REDIS_PORT), 'task store')

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
      cacheSubnetGroupName: subnets.ref,
      cacheParameterGroupName: parameters.ref,
      securityGroupIds: [redisSecurityGroup.securityGroupId],
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
    })
    this.url = Fn.join('', ['rediss://', this.replicationGroup.attrPrimaryEndPointAddress, `:${REDIS_PORT}`])
  }
}
