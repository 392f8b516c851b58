import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  environmentOf,
  resourcesOf,
  runtimeOf,
  type SynthesizedStack,
  withSynthesized,
} from '../helpers/deploy-stack.ts'

/**
 * Nothing secret in the template: callers' tokens are checked against public key sets, so no
 * runtime needs a token, password or key, and none may creep in through an environment variable,
 * a resource property or a literal that looks like one.
 */

/** Variables that would carry a secret (the project's own and the standard ones). */
const SECRET_VARIABLE = /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)/i
/** Properties that would carry one. */
const SECRET_PROPERTY = /(password|secret|token|apikey|privatekey|credential)/i
/** Properties whose names match but that only say how long a token lives or whether one can be revoked. */
const SAFE_PROPERTIES = new Set([
  'AccessTokenValidity',
  'IdTokenValidity',
  'RefreshTokenValidity',
  'TokenValidityUnits',
  'EnableTokenRevocation',
  'GenerateSecret',
])

/** Bits per character of `text` (a random key of letters and digits has 5 or more). */
function entropy(text: string): number {
  const counts = new Map<string, number>()
  for (const character of text) counts.set(character, (counts.get(character) ?? 0) + 1)
  let bits = 0
  for (const count of counts.values()) bits -= (count / text.length) * Math.log2(count / text.length)
  return bits
}

/** A literal that looks like a generated secret: long, no spaces, several character classes, high entropy. */
function looksSecret(text: string): boolean {
  if (text.length < 20 || /\s/.test(text)) return false
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((pattern) => pattern.test(text)).length
  return classes >= 3 && entropy(text) >= 4.5
}

/** Every string in `value` with the path to it, and every property name on the way. */
function walk(
  value: unknown,
  path: string,
  visit: (path: string, leaf: string | undefined, key?: string) => void,
) {
  if (typeof value === 'string') visit(path, value)
  else if (Array.isArray(value)) value.forEach((each, index) => walk(each, `${path}[${index}]`, visit))
  else if (value !== null && typeof value === 'object')
    for (const [key, each] of Object.entries(value)) {
      visit(`${path}.${key}`, undefined, key)
      walk(each, `${path}.${key}`, visit)
    }
}

function assertNoSecrets({ json }: SynthesizedStack): void {
  for (const protocol of ['HTTP', 'MCP'] as const) {
    const names = Object.keys(environmentOf(runtimeOf(json, protocol)[1]))
    assert.deepEqual(
      names.filter((name) => SECRET_VARIABLE.test(name)),
      [],
      `${protocol} runtime`,
    )
    for (const name of ['MCP_BEARER_TOKEN', 'OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
      assert.ok(!names.includes(name), name)
  }
  const findings: string[] = []
  // Logical ids (in Ref, Fn::GetAtt, DependsOn) and Fn::Sub placeholders are the template's own names.
  const logicalIds = new Set(Object.keys(json.Resources))
  const isName = (leaf: string) => logicalIds.has(leaf.split('.')[0] ?? '')
  walk(json, '$', (path, leaf, key) => {
    if (
      key !== undefined &&
      SECRET_PROPERTY.test(key) &&
      !SAFE_PROPERTIES.has(key) &&
      !path.includes('.TokenValidityUnits.')
    )
      findings.push(`${path}: a property for a secret`)
    if (leaf !== undefined && !isName(leaf) && leaf.split(/\$\{[^}]*\}/).some(looksSecret))
      findings.push(`${path}: ${leaf.slice(0, 8)}... looks like a secret`)
  })
  assert.deepEqual(findings, [])
  // Nowhere to hide one either: no secret stores, no NoEcho parameters, no Redis password.
  for (const type of ['AWS::SecretsManager::Secret', 'AWS::SSM::Parameter', 'AWS::IAM::AccessKey'])
    assert.equal(resourcesOf(json, type).length, 0, type)
  for (const [, group] of resourcesOf(json, 'AWS::ElastiCache::ReplicationGroup'))
    assert.equal(group.Properties?.AuthToken, undefined)
}

describe('no secret in the template', () => {
  test('the detector finds what it is for', () => {
    assert.ok(looksSecret('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'))
    assert.ok(looksSecret('sk-proj-4fG7hK2mQ9xZ1pL8vN3bR6tY0wC5eJ'))
    assert.ok(!looksSecret('global.anthropic.claude-sonnet-4-6'))
    assert.ok(!looksSecret('7fe08ba4c53d81200986cd96481e62bd76babcce8bd369e4b0b74dbf0f964ef3'))
    assert.ok(!looksSecret('/aws/bedrock-agentcore/runtimes/longrun_agent-*:log-stream:*'))
  })

  test('in the default stack and its variants', () => {
    for (const context of [
      {},
      { taskBackend: 'sqlite' },
      {
        oidcIssuer: 'https://login.example.com',
        oidcJwksUrl: 'https://login.example.com/keys',
        oidcAudiences: 'longrun',
      },
    ])
      withSynthesized(context, assertNoSecrets)
  })
})
