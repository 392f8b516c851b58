/**
 * The Bedrock permissions of exactly one model. A foundation model id is invoked in the stack's
 * Region; a cross-Region inference profile (`us.`, `eu.`, `global.`, ...) is invoked as the profile
 * in the stack's Region, and Bedrock then runs the foundation model in one of the profile's
 * destination Regions, which it authorizes against the foundation model's ARN there - so those
 * statements name the model in any Region, but only when reached through this profile.
 */
import { Aws } from 'aws-cdk-lib'
import { PolicyStatement } from 'aws-cdk-lib/aws-iam'
import type { ModelTarget } from './stack-parameters.ts'

/** Converse is authorized as InvokeModel, ConverseStream (the agent's) as InvokeModelWithResponseStream. */
export const MODEL_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']

/** The model's ARN the agent names in its calls: the profile's, or the foundation model's. */
export function invokedModelArn(model: ModelTarget): string {
  return model.profileScope === undefined
    ? `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}::foundation-model/${model.id}`
    : `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:inference-profile/${model.id}`
}

/** The statements that let a role invoke `model`, and nothing else. */
export function modelInvokeStatements(model: ModelTarget): PolicyStatement[] {
  const invoked = new PolicyStatement({
    sid: 'InvokeModel',
    actions: MODEL_ACTIONS,
    resources: [invokedModelArn(model)],
  })
  if (model.profileScope === undefined) return [invoked]
  const destinations = [`arn:${Aws.PARTITION}:bedrock:*::foundation-model/${model.foundationModel}`]
  // A global profile may route to Regions a Region wildcard does not name: its ARN has none.
  if (model.profileScope === 'global')
    destinations.push(`arn:${Aws.PARTITION}:bedrock:::foundation-model/${model.foundationModel}`)
  return [
    invoked,
    new PolicyStatement({
      sid: 'InvokeModelThroughProfile',
      actions: MODEL_ACTIONS,
      resources: destinations,
      conditions: { StringEquals: { 'bedrock:InferenceProfileArn': invokedModelArn(model) } },
    }),
  ]
}

/**
 * What Bedrock's automatic model access needs from the caller on a third-party model's first call
 * in an account: it subscribes to the model's AWS Marketplace offer in the background, as the caller,
 * and the subscription fails (AccessDeniedException on every later call) without these. The actions
 * take no resource but `*`. Opt-in (`modelMarketplaceAccess=true`): otherwise the model is enabled
 * once by a person in the Bedrock console, and the agent's role cannot buy anything.
 */
export const MARKETPLACE_ACTIONS = [
  'aws-marketplace:Subscribe',
  'aws-marketplace:Unsubscribe',
  'aws-marketplace:ViewSubscriptions',
]

export function marketplaceStatements(): PolicyStatement[] {
  return [new PolicyStatement({ sid: 'ModelSubscription', actions: MARKETPLACE_ACTIONS, resources: ['*'] })]
}
