/**
 * Where a VPC-mode AgentCore runtime may have its network interfaces: only subnets in some
 * Availability Zones of each Region, named by zone ID (`use1-az1`), which is the same physical zone
 * in every account, unlike a zone name (`us-east-1a`), which each account maps to its own zone.
 * Hence the VPC's subnets are placed by ID (`AvailabilityZoneId`), never by name.
 */

/**
 * The zone IDs AgentCore Runtime supports for VPC mode, per Region, as the AgentCore Developer
 * Guide lists them ("Configure Amazon Bedrock AgentCore Runtime and tools for VPC", section
 * "Supported Availability Zones"). A Region missing here has no default: pass `availabilityZoneIds`.
 * When AWS adds a zone or a Region, add it here (the deploy tests read the table).
 */
export const AGENTCORE_VPC_ZONE_IDS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['use1-az1', 'use1-az2', 'use1-az4'],
  'us-east-2': ['use2-az1', 'use2-az2', 'use2-az3'],
  'us-west-2': ['usw2-az1', 'usw2-az2', 'usw2-az3'],
  'ap-southeast-2': ['apse2-az1', 'apse2-az2', 'apse2-az3'],
  'ap-south-1': ['aps1-az1', 'aps1-az2', 'aps1-az3'],
  'ap-southeast-1': ['apse1-az1', 'apse1-az2', 'apse1-az3'],
  'ap-northeast-1': ['apne1-az1', 'apne1-az2', 'apne1-az4'],
  'eu-west-1': ['euw1-az1', 'euw1-az2', 'euw1-az3'],
  'eu-central-1': ['euc1-az1', 'euc1-az2', 'euc1-az3'],
}

/** How many zones the default VPC spans: the first ones of the Region's row. */
export const DEFAULT_ZONE_COUNT = 2

/** A zone ID: the Region's short code, `-az`, a number (`use1-az1`, `apse2-az3`). */
export const ZONE_ID_PATTERN = /^[a-z]{2,}\d+-az\d+$/

/** The command that lists an account's zone names with their IDs (the docs give the same). */
export const LIST_ZONE_IDS_COMMAND =
  "aws ec2 describe-availability-zones --region <region> --query 'AvailabilityZones[].[ZoneName,ZoneId]' --output table"

/** A zone ID's Region code: `use1` of `use1-az1`. */
export function regionCodeOf(zoneId: string): string {
  return zoneId.slice(0, zoneId.lastIndexOf('-az'))
}

/** The Region of the table whose IDs have `zoneId`'s Region code (`use1` is us-east-1), if any. */
export function tableRegionOf(zoneId: string): string | undefined {
  const code = regionCodeOf(zoneId)
  return Object.keys(AGENTCORE_VPC_ZONE_IDS).find((region) =>
    AGENTCORE_VPC_ZONE_IDS[region]?.some((each) => regionCodeOf(each) === code),
  )
}
