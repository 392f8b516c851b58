/**
 * Builds the model its configuration names (see src/agent/model-provider-config.ts), once per process
 * and shared by its invocations. Each provider's SDK is loaded only when it is chosen: the Bedrock
 * runtime client for bedrock, the OpenAI client for openai, neither for the demo model.
 */
import type { Model } from '@strands-agents/sdk'
import { ModelCredentialsError } from './errors.ts'
import type { ModelProviderConfig } from './model-provider-config.ts'

type BedrockConfig = Extract<ModelProviderConfig, { provider: 'bedrock' }>

/**
 * Resolves the credentials a Bedrock client of `config` would use; throws a
 * {@link ModelCredentialsError} when there are none. Loads the Bedrock runtime client, nothing more.
 */
export async function checkBedrockCredentials(config: BedrockConfig): Promise<void> {
  const { BedrockRuntimeClient } = await import('@aws-sdk/client-bedrock-runtime')
  const client = new BedrockRuntimeClient({
    region: config.region,
    ...(config.credentials !== undefined && { credentials: config.credentials }),
  })
  try {
    await client.config.credentials()
  } catch (error) {
    throw new ModelCredentialsError(`no AWS credentials for Bedrock (${(error as Error).name})`, {
      cause: error,
    })
  } finally {
    client.destroy()
  }
}

/**
 * Builds the model. For Bedrock the AWS credential chain is resolved first, so missing credentials
 * fail at start (naming the variables) instead of at the first model call.
 */
export async function createModel(config: ModelProviderConfig): Promise<Model> {
  if (config.provider === 'bedrock') await checkBedrockCredentials(config)
  return buildModel(config)
}

/** Builds the model without checking credentials first (for a caller that did, as the runtime does before it listens). */
export async function buildModel(config: ModelProviderConfig): Promise<Model> {
  if (config.provider === 'demo') {
    const { DemoModel } = await import('../demo-model/index.ts')
    return new DemoModel()
  }
  if (config.provider === 'bedrock') {
    const { BedrockModel } = await import('@strands-agents/sdk')
    return new BedrockModel({
      modelId: config.modelId,
      region: config.region,
      clientConfig: {
        ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
        ...(config.credentials !== undefined && { credentials: config.credentials }),
      },
    })
  }
  const { OpenAIModel } = await import('@strands-agents/sdk/models/openai')
  return new OpenAIModel({
    // Chat Completions is what OpenAI-compatible servers (Ollama, vLLM, llama.cpp) all speak.
    api: 'chat',
    modelId: config.modelId,
    apiKey: config.apiKey,
    clientConfig: { baseURL: config.baseUrl },
    // Strands 1.19's chat path keeps only the last of parallel tool calls: ask for one at a time.
    params: { parallel_tool_calls: false },
  })
}
