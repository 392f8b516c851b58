import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { describe, test } from 'node:test'
import {
  BASE_IMAGE_MIRROR,
  buildContextExcludes,
  IMAGES_KEPT,
  UNTAGGED_IMAGE_DAYS,
} from '../../deploy/container-images.ts'
import { BUILD_CONTEXT, IMAGE_TARGETS } from '../../deploy/longrun-stack.ts'
import { NODE } from '../helpers/child-process.ts'
import {
  actionsOf,
  type CfnResource,
  resourcesOf,
  runtimeOf,
  type SynthesizedStack,
  withSynthesized,
} from '../helpers/deploy-stack.ts'

/**
 * The runtimes' images (deploy/container-images.ts): each in an ECR repository of its own, which
 * only its runtime's role may pull from, built by CodeBuild on arm64 (the default) or by the local
 * Docker and copied in (`imageBuild=docker`). Synthesised offline; nothing is built here.
 */

type Json = SynthesizedStack['json']
type Protocol = 'HTTP' | 'MCP'

/** The runtimes, by protocol, and the Dockerfile target each runs. */
const RUNTIMES: readonly [Protocol, string][] = [
  ['HTTP', IMAGE_TARGETS.agent],
  ['MCP', IMAGE_TARGETS.mcpServer],
]
const BOOTSTRAP_IMAGE_REPOSITORY = 'cdk-hnb659fds-container-assets-'

/** The logical ids a template value names through Ref or Fn::GetAtt. */
function idsIn(value: unknown): Set<string> {
  const ids = new Set<string>()
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk)
    else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>
      if (typeof record.Ref === 'string') ids.add(record.Ref)
      if (Array.isArray(record['Fn::GetAtt'])) ids.add(String(record['Fn::GetAtt'][0]))
      Object.values(record).forEach(walk)
    }
  }
  walk(value)
  return ids
}

const ofType = (json: Json, ids: Iterable<string>, type: string) =>
  [...ids].filter((id) => json.Resources[id]?.Type === type)

function containerUriOf(runtime: CfnResource): unknown {
  return (runtime.Properties?.AgentRuntimeArtifact as { ContainerConfiguration: { ContainerUri: unknown } })
    .ContainerConfiguration.ContainerUri
}

/** The parts of `<repository URI>:<tag>` as CDK joins it. */
function uriParts(uri: unknown): unknown[] {
  const join = (uri as { 'Fn::Join': [string, unknown[]] })['Fn::Join']
  assert.ok(join !== undefined && join[0] === '', `a joined URI: ${JSON.stringify(uri)}`)
  return join[1]
}

/** The one repository a runtime's image URI names. */
function repositoryOf(json: Json, protocol: Protocol): string {
  const repositories = ofType(
    json,
    idsIn(containerUriOf(runtimeOf(json, protocol)[1])),
    'AWS::ECR::Repository',
  )
  assert.equal(repositories.length, 1, `${protocol}: one repository in its image URI`)
  return repositories[0] as string
}

/** The policies attached to the role a runtime runs as. */
function runtimePolicies(json: Json, protocol: Protocol): CfnResource[] {
  const [, runtime] = runtimeOf(json, protocol)
  const roleId = (runtime.Properties?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
  return resourcesOf(json, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      (policy.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .map(([, policy]) => policy)
}

interface Statement {
  readonly Action: string | string[]
  readonly Resource: unknown
}
const statementsOfPolicy = (policy: CfnResource) =>
  (policy.Properties?.PolicyDocument as { Statement: Statement[] }).Statement

/** Every repository of the stack (one per image: the runtimes', and the workers' when there are). */
function assertRepositories(json: Json): void {
  const repositories = RUNTIMES.map(([protocol]) => repositoryOf(json, protocol))
  assert.equal(new Set(repositories).size, RUNTIMES.length, 'a repository per runtime')
  const all = resourcesOf(json, 'AWS::ECR::Repository').map(([id]) => id)
  const builds = resourcesOf(json, 'Custom::CDKContainerImageBuild').length
  const copies = resourcesOf(json, 'Custom::CDKECRDeployment').length
  assert.equal(all.length, builds + copies, 'a repository per image')
  for (const id of all) {
    const repository = json.Resources[id] as CfnResource & {
      DeletionPolicy?: string
      UpdateReplacePolicy?: string
    }
    const properties = repository.Properties ?? {}
    assert.deepEqual(properties.ImageScanningConfiguration, { ScanOnPush: true }, id)
    // `cdk destroy` deletes the repository, images and all.
    assert.equal(properties.EmptyOnDelete, true, id)
    assert.equal(repository.DeletionPolicy, 'Delete', id)
    assert.equal(repository.UpdateReplacePolicy, 'Delete', id)
    const { rules } = JSON.parse(
      (properties.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText,
    ) as {
      rules: { rulePriority: number; selection: Record<string, unknown>; action: { type: string } }[]
    }
    assert.deepEqual(
      rules.map(({ selection, action }) => ({ ...selection, action: action.type })),
      [
        {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countNumber: UNTAGGED_IMAGE_DAYS,
          countUnit: 'days',
          action: 'expire',
        },
        { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: IMAGES_KEPT, action: 'expire' },
      ],
    )
    assert.equal(IMAGES_KEPT, 10)
    assert.equal(UNTAGGED_IMAGE_DAYS, 1)
    // ECR's rule: priorities unique, and a rule for any tag status has the highest.
    const priorities = rules.map((rule) => rule.rulePriority)
    assert.equal(new Set(priorities).size, priorities.length)
    assert.equal(rules.at(-1)?.rulePriority, Math.max(...priorities))
  }
}

function assertEachRolePullsFromItsOwnRepository(json: Json): void {
  for (const [protocol] of RUNTIMES) {
    const own = repositoryOf(json, protocol)
    const others = RUNTIMES.map(([other]) => repositoryOf(json, other)).filter((id) => id !== own)
    const ecr = runtimePolicies(json, protocol)
      .flatMap(statementsOfPolicy)
      .filter((statement) => actionsOf(statement).some((action) => action.startsWith('ecr:')))
    const pulls = ecr.filter((statement) => !actionsOf(statement).includes('ecr:GetAuthorizationToken'))
    assert.equal(pulls.length, 1, `${protocol}: one pull statement`)
    assert.deepEqual(
      actionsOf(pulls[0] as Statement).sort(),
      ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      protocol,
    )
    assert.deepEqual(pulls[0]?.Resource, { 'Fn::GetAtt': [own, 'Arn'] }, `${protocol}: its own repository`)
    const text = JSON.stringify(runtimePolicies(json, protocol))
    for (const other of others) assert.ok(!text.includes(`"${other}"`), `${protocol} names ${other}`)
    assert.ok(!text.includes(BOOTSTRAP_IMAGE_REPOSITORY), `${protocol}: not the CDK bootstrap repository`)
  }
}

describe('the runtime images: CodeBuild (the default)', () => {
  test('each runtime runs an image CodeBuild pushed into a repository of its own, tagged by the build', () => {
    withSynthesized({}, ({ json, dockerImages }) => {
      // Nothing for a local Docker to build.
      assert.deepEqual(dockerImages, {})
      for (const [protocol, target] of RUNTIMES) {
        const [, runtime] = runtimeOf(json, protocol)
        const repository = repositoryOf(json, protocol)
        const parts = uriParts(containerUriOf(runtime))
        const builds = ofType(json, idsIn(parts.at(-1)), 'Custom::CDKContainerImageBuild')
        assert.equal(builds.length, 1, `${protocol}: the tag is its build's`)
        assert.deepEqual(parts.slice(-3), [
          { Ref: repository },
          ':',
          { 'Fn::GetAtt': [builds[0], 'ImageTag'] },
        ])
        const build = json.Resources[builds[0] as string]?.Properties ?? {}
        // The build pushes into that repository, from the runtime's Dockerfile target, for arm64.
        assert.deepEqual(ofType(json, idsIn(build.repositoryUri), 'AWS::ECR::Repository'), [repository])
        const command = String(build.buildCommand)
        assert.match(command, /^docker buildx build /)
        assert.ok(command.includes(` --target ${target} `), command)
        assert.ok(command.includes(' --platform linux/arm64 '), command)
        assert.ok(command.includes(' --provenance=false '), `a single manifest: ${command}`)
        const [project] = ofType(json, idsIn(build.codeBuildProjectName), 'AWS::CodeBuild::Project')
        const environment = json.Resources[project as string]?.Properties?.Environment as Record<
          string,
          unknown
        >
        assert.equal(environment.Type, 'ARM_CONTAINER')
        assert.match(String(environment.Image), /^aws\/codebuild\/amazonlinux2-aarch64-standard:/)
        assert.equal(environment.PrivilegedMode, true, 'Docker in the build')
      }
      // One project builds every image.
      assert.equal(resourcesOf(json, 'AWS::CodeBuild::Project').length, 1)
    })
  })

  test('CodeBuild takes the Dockerfile’s Node base image from its ECR Public mirror', () => {
    const dockerfile = readFileSync(join(BUILD_CONTEXT, 'Dockerfile'), 'utf8')
    const base = /^ARG NODE_IMAGE=(node:\S+)$/m.exec(dockerfile)?.[1]
    assert.ok(base !== undefined, 'the Dockerfile names its base in ARG NODE_IMAGE')
    assert.equal(BASE_IMAGE_MIRROR, 'public.ecr.aws/docker/library/')
    withSynthesized({ taskBackend: 'sqlite' }, ({ json }) => {
      const builds = resourcesOf(json, 'Custom::CDKContainerImageBuild')
      assert.ok(builds.length >= RUNTIMES.length)
      for (const [, build] of builds)
        assert.ok(
          String(build.Properties?.buildCommand).includes(
            `--build-arg NODE_IMAGE=${BASE_IMAGE_MIRROR}${base} `,
          ),
        )
    })
  })

  test('the repositories scan on push, expire untagged images after a day, keep the last 10, and go with the stack', () => {
    withSynthesized({}, ({ json }) => assertRepositories(json))
  })

  test('each execution role may pull from its own repository only', () => {
    withSynthesized({}, ({ json }) => assertEachRolePullsFromItsOwnRepository(json))
  })

  test('CodeBuild gets the image’s context only, as .dockerignore says, Dockerfile included', () => {
    assert.deepEqual(buildContextExcludes(BUILD_CONTEXT).slice(0, 1), ['*'])
    assert.deepEqual(buildContextExcludes(BUILD_CONTEXT).slice(-2), ['!Dockerfile', '!.dockerignore'])
    withSynthesized(
      { taskBackend: 'sqlite' },
      ({ json, outdir, stack }) => {
        const manifest = JSON.parse(
          readFileSync(join(outdir, `${stack.artifactId}.assets.json`), 'utf8'),
        ) as {
          files: Record<string, { source: { path: string; packaging?: string } }>
        }
        const urls = new Set(
          resourcesOf(json, 'Custom::CDKContainerImageBuild').map(([, build]) =>
            JSON.stringify(build.Properties?.sourceS3Url),
          ),
        )
        assert.equal(urls.size, 1, 'one upload for every target')
        const hash = /([0-9a-f]{64})\.zip/.exec([...urls][0] ?? '')?.[1]
        const source = manifest.files[hash ?? '']?.source
        assert.equal(source?.packaging, 'zip')
        const staged = join(outdir, source?.path ?? '')
        assert.deepEqual(readdirSync(staged).sort(), [
          '.dockerignore',
          'Dockerfile',
          'package-lock.json',
          'package.json',
          'src',
        ])
        const files = readdirSync(staged, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile())
          .map((entry) => relative(staged, join(entry.parentPath, entry.name)))
        for (const file of files)
          assert.ok(!/(^|\/)(node_modules|\.longrun|\.env$)|\.sqlite/.test(file), `${file} stays out`)
        assert.ok(files.includes(join('src', 'entrypoint.ts')))
      },
      { staging: true },
    )
  })
})

describe('the runtime images: imageBuild=docker', () => {
  test('the local Docker builds an arm64 image asset per target, copied into the runtime’s own repository', () => {
    withSynthesized({ imageBuild: 'docker' }, ({ json, dockerImages }) => {
      assert.equal(resourcesOf(json, 'AWS::CodeBuild::Project').length, 0)
      assert.equal(resourcesOf(json, 'Custom::CDKContainerImageBuild').length, 0)
      const images = Object.entries(dockerImages)
      const targets = images.map(([, image]) => image.source.dockerBuildTarget)
      for (const [, target] of RUNTIMES) assert.ok(targets.includes(target), `an image of ${target}`)
      for (const target of targets)
        assert.ok((Object.values(IMAGE_TARGETS) as string[]).includes(target ?? ''), `${target} is a target`)
      assert.equal(new Set(targets).size, targets.length, 'one image per target')
      const copies = resourcesOf(json, 'Custom::CDKECRDeployment')
      assert.equal(copies.length, images.length, 'each image copied')
      for (const [protocol, target] of RUNTIMES) {
        const [hash, image] = images.find(([, each]) => each.source.dockerBuildTarget === target) ?? []
        assert.equal(image?.source.platform, 'linux/arm64')
        const [, runtime] = runtimeOf(json, protocol)
        const repository = repositoryOf(json, protocol)
        // The runtime's URI: its repository, tagged with the asset's hash.
        assert.deepEqual(uriParts(containerUriOf(runtime)).slice(-2), [{ Ref: repository }, `:${hash}`])
        // The copy from the bootstrap repository into that tag, the arm64 manifest only.
        const [copyId, copy] =
          copies.find(
            ([, each]) =>
              ofType(json, idsIn(each.Properties?.DestImage), 'AWS::ECR::Repository')[0] === repository,
          ) ?? []
        assert.ok(copy !== undefined, `${protocol}: a copy into its repository`)
        assert.deepEqual(uriParts(copy.Properties?.DestImage).slice(-2), [{ Ref: repository }, `:${hash}`])
        const source = JSON.stringify(copy.Properties?.SrcImage)
        assert.ok(source.includes(`/${BOOTSTRAP_IMAGE_REPOSITORY}`) && source.includes(`:${hash}`), source)
        assert.equal(copy.Properties?.ImageArch, 'arm64')
        // The runtime starts once its image is in place.
        assert.ok(
          [runtime.DependsOn ?? []].flat().includes(copyId as string),
          `${protocol} waits for its copy`,
        )
      }
    })
  })

  test('the repositories and the roles’ pulls are the same as with CodeBuild', () => {
    withSynthesized({ imageBuild: 'docker' }, ({ json }) => {
      assertRepositories(json)
      assertEachRolePullsFromItsOwnRepository(json)
    })
  })

  test('the copy’s role reads the bootstrap repository and writes the runtimes’ repositories, no more', () => {
    withSynthesized({ imageBuild: 'docker', taskBackend: 'sqlite' }, ({ json }) => {
      const functions = ofType(
        json,
        new Set(
          resourcesOf(json, 'Custom::CDKECRDeployment').flatMap(([, copy]) => [
            ...idsIn(copy.Properties?.ServiceToken),
          ]),
        ),
        'AWS::Lambda::Function',
      )
      assert.equal(functions.length, 1, 'one copy function')
      const [roleId] = [...idsIn(json.Resources[functions[0] as string]?.Properties?.Role)]
      const statements = resourcesOf(json, 'AWS::IAM::Policy')
        .filter(([, policy]) => idsIn(policy.Properties?.Roles).has(roleId as string))
        .flatMap(([, policy]) => statementsOfPolicy(policy))
      const repositories = resourcesOf(json, 'AWS::ECR::Repository').map(([id]) => id)
      const pull = ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']
      const push = [
        'ecr:CompleteLayerUpload',
        'ecr:InitiateLayerUpload',
        'ecr:PutImage',
        'ecr:UploadLayerPart',
      ]
      const granted = statements.map((statement) => ({
        actions: actionsOf(statement).sort(),
        resource: JSON.stringify(statement.Resource),
      }))
      assert.deepEqual(granted.find(({ resource }) => resource === '"*"')?.actions, [
        'ecr:GetAuthorizationToken',
      ])
      const bootstrap = granted.filter(({ resource }) => resource.includes(BOOTSTRAP_IMAGE_REPOSITORY))
      assert.deepEqual(
        bootstrap.map(({ actions }) => actions),
        [pull],
      )
      for (const repository of repositories)
        assert.deepEqual(
          granted
            .filter(({ resource }) => resource === JSON.stringify({ 'Fn::GetAtt': [repository, 'Arn'] }))
            .map(({ actions }) => actions),
          [[...pull, ...push].sort()],
        )
      assert.equal(granted.length, 2 + repositories.length, JSON.stringify(granted))
    })
  })
})

describe('synthesis needs no Docker', () => {
  for (const imageBuild of ['codebuild', 'docker'])
    test(`imageBuild=${imageBuild}: the CDK app synthesises with a docker that fails if called`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'longrun-no-docker-'))
      try {
        const called = join(dir, 'docker-was-called')
        const docker = join(dir, 'docker')
        writeFileSync(docker, `#!/bin/sh\ntouch '${called}'\nexit 1\n`)
        chmodSync(docker, 0o755)
        const outdir = join(dir, 'cdk.out')
        const result = spawnSync(NODE, ['--disable-warning=ExperimentalWarning', 'deploy/app.ts'], {
          cwd: join(BUILD_CONTEXT),
          env: {
            PATH: `${dir}:${dirname(NODE)}:/usr/bin:/bin`,
            CDK_DOCKER: docker,
            CDK_OUTDIR: outdir,
            CDK_CONTEXT_JSON: JSON.stringify({ imageBuild, taskBackend: 'sqlite' }),
          },
          encoding: 'utf8',
        })
        assert.equal(result.status, 0, result.stderr)
        assert.ok(existsSync(join(outdir, 'manifest.json')))
        assert.equal(existsSync(called), false, 'docker was run during synthesis')
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
})
