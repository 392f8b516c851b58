import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { readSecretValue, SecretValueError, secretsManagerReader } from '../../src/shared/secret-value.ts'
import {
  type FakeSecretsManager,
  fakeSecretReader,
  startFakeSecretsManager,
  testSecretArn,
} from '../helpers/secrets-manager.ts'

/** Asserts `promise` rejects with a SecretValueError of `code` naming `variable`. */
async function assertSecretError(promise: Promise<unknown>, code: string, variable: string): Promise<void> {
  await assert.rejects(
    promise,
    (error: unknown) =>
      error instanceof SecretValueError && error.code === code && error.variable === variable,
  )
}

describe('secrets named by an environment variable', () => {
  const ARN = testSecretArn('redis-auth')

  test('the whole text, or one string of the JSON object the secret holds', async () => {
    const reader = fakeSecretReader({
      plain: 'hunter2-plain',
      [ARN]: JSON.stringify({ password: 'p4ss', other: 1 }),
    })
    assert.equal(
      await readSecretValue(reader, { variable: 'SOME_SECRET_ARN', secretId: 'plain' }),
      'hunter2-plain',
    )
    assert.equal(
      await readSecretValue(reader, {
        variable: 'REDIS_PASSWORD_SECRET_ARN',
        secretId: ARN,
        jsonKey: 'password',
      }),
      'p4ss',
    )
    assert.deepEqual(reader.reads, ['plain', ARN])
  })

  test('a secret that cannot be read is SECRET_UNAVAILABLE naming the variable, its cause kept', async () => {
    const reader = fakeSecretReader({})
    const read = readSecretValue(reader, { variable: 'REDIS_PASSWORD_SECRET_ARN', secretId: ARN })
    await assertSecretError(read, 'SECRET_UNAVAILABLE', 'REDIS_PASSWORD_SECRET_ARN')
    await read.catch((error: SecretValueError) =>
      assert.equal((error.cause as Error).name, 'AccessDeniedException'),
    )
  })

  test('a value of the wrong shape is SECRET_MALFORMED naming the variable', async () => {
    const values = {
      notJson: 'p4ss',
      array: '["p4ss"]',
      noKey: '{"pass":"p4ss"}',
      notString: '{"password":42}',
      empty: '{"password":""}',
    }
    const reader = fakeSecretReader({ ...values, blank: '' })
    for (const secretId of Object.keys(values))
      await assertSecretError(
        readSecretValue(reader, { variable: 'REDIS_PASSWORD_SECRET_ARN', secretId, jsonKey: 'password' }),
        'SECRET_MALFORMED',
        'REDIS_PASSWORD_SECRET_ARN',
      )
    await assertSecretError(
      readSecretValue(reader, { variable: 'MCP_WAKE_CLIENT_SECRET_ARN', secretId: 'blank' }),
      'SECRET_MALFORMED',
      'MCP_WAKE_CLIENT_SECRET_ARN',
    )
  })

  describe('Secrets Manager through the AWS SDK', () => {
    let fake: FakeSecretsManager
    const DENIED = testSecretArn('denied')
    before(async () => {
      fake = await startFakeSecretsManager(
        { [ARN]: JSON.stringify({ password: 'from-the-sdk' }) },
        { denied: [DENIED] },
      )
    })
    after(() => fake.close())

    const reader = () =>
      secretsManagerReader({
        region: 'us-east-1',
        endpoint: fake.url,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test-secret-access-key' },
      })

    test('GetSecretValue is sent signed, for the ARN, and its SecretString returned', async () => {
      const value = await readSecretValue(reader(), {
        variable: 'REDIS_PASSWORD_SECRET_ARN',
        secretId: ARN,
        jsonKey: 'password',
      })
      assert.equal(value, 'from-the-sdk')
      const request = fake.requests.at(-1)
      assert.equal(request?.headers['x-amz-target'], 'secretsmanager.GetSecretValue')
      assert.deepEqual(request?.body, { SecretId: ARN })
      assert.match(
        String(request?.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/secretsmanager\//,
      )
    })

    test('access denied or no such secret: SECRET_UNAVAILABLE, the service error as cause', async () => {
      for (const [secretId, name] of [
        [DENIED, 'AccessDeniedException'],
        [testSecretArn('missing'), 'ResourceNotFoundException'],
      ] as const) {
        const read = readSecretValue(reader(), { variable: 'REDIS_PASSWORD_SECRET_ARN', secretId })
        await assertSecretError(read, 'SECRET_UNAVAILABLE', 'REDIS_PASSWORD_SECRET_ARN')
        await read.catch((error: SecretValueError) => assert.equal((error.cause as Error).name, name))
      }
    })
  })
})
