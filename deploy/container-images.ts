/**
 * The runtimes' container images, one per Dockerfile target, each in an ECR repository of its own
 * that only its runtime's role may pull from. AgentCore Runtime runs arm64 only, so every image is
 * linux/arm64, built at deploy in one of two places (the `imageBuild` parameter):
 *
 * - `codebuild` (the default): the build context is uploaded as a file asset and built by AWS
 *   CodeBuild on an arm64 build image (deploy-time-build's ContainerImageBuild, a custom resource
 *   that starts the build and waits for it), which pushes into the runtime's repository. The
 *   deploying machine needs no Docker, and an x86 one no QEMU emulation.
 * - `docker`: the deploying machine's Docker builds the image as a CDK image asset (buildx with
 *   `--platform linux/arm64`), which lands in the CDK bootstrap's one repository for every image of
 *   the account; cdk-ecr-deployment's ECRDeployment then copies its arm64 manifest into the runtime's
 *   repository, so the runtime's role never needs the bootstrap repository.
 *
 * Synthesis stays offline either way: no Docker, no network; both custom resources' handlers ship
 * in their packages. Each repository scans on push, expires untagged images after a day and keeps
 * the last ten images, and goes with the stack (emptied first) on `cdk destroy`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Duration, IgnoreMode, RemovalPolicy, Stack } from 'aws-cdk-lib'
import { Repository, TagStatus } from 'aws-cdk-lib/aws-ecr'
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets'
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { DockerImageName, ECRDeployment } from 'cdk-ecr-deployment'
import { Construct, DependencyGroup } from 'constructs'
import { ContainerImageBuild } from 'deploy-time-build'
import type { ImageBuild } from './stack-parameters.ts'

/** Images each repository keeps (older ones expire; a rollback needs the previous one). */
export const IMAGES_KEPT = 10
/** Days an untagged image (a tag moved away from it) stays. */
export const UNTAGGED_IMAGE_DAYS = 1

/**
 * Where CodeBuild takes the Dockerfile's Node base image from: the same Docker official image from
 * its ECR Public mirror, which CodeBuild pulls without Docker Hub's anonymous rate limit (shared by
 * every build on the same addresses). The local Docker path pulls the Dockerfile's own reference.
 */
export const BASE_IMAGE_MIRROR = 'public.ecr.aws/docker/library/'

export interface RuntimeImageProps {
  /** The Docker build context, with its Dockerfile and .dockerignore. */
  readonly directory: string
  /** The Dockerfile target. */
  readonly target: string
  readonly build: ImageBuild
}

/** One runtime's image: its own repository, and the image's URI there (known at deploy). */
export class RuntimeImage extends Construct {
  readonly repository: Repository
  readonly imageUri: string
  /**
   * What must finish before the image can be pulled and that `imageUri` does not reference: the
   * copy of the docker path. CodeBuild's URI names the build's own attribute, which orders it already.
   */
  readonly ready = new DependencyGroup()

  constructor(scope: Construct, id: string, props: RuntimeImageProps) {
    super(scope, id)
    this.repository = new Repository(this, 'Repository', {
      imageScanOnPush: true,
      // ECR applies the rules by priority, and a rule for any tag status must come last: CDK gives it
      // the highest priority number.
      lifecycleRules: [
        {
          description: `untagged images after ${UNTAGGED_IMAGE_DAYS} day`,
          tagStatus: TagStatus.UNTAGGED,
          maxImageAge: Duration.days(UNTAGGED_IMAGE_DAYS),
        },
        {
          description: `the last ${IMAGES_KEPT} images`,
          tagStatus: TagStatus.ANY,
          maxImageCount: IMAGES_KEPT,
        },
      ],
      // Images are rebuilt from the repository's sources: `cdk destroy` removes them with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      emptyOnDelete: true,
    })
    this.imageUri = props.build === 'codebuild' ? this.buildInCodeBuild(props) : this.buildWithDocker(props)
  }

  /**
   * CodeBuild's build and push, with a tag of its own per build (the custom resource's attribute):
   * the runtime's URI changes, and the runtime is updated, whenever the context or target changes.
   * The image is a single arm64 manifest (`--provenance=false`, loaded into the build's Docker and
   * pushed), so no untagged child of an index can expire under a tagged image.
   */
  private buildInCodeBuild(props: RuntimeImageProps): string {
    const build = new ContainerImageBuild(this, 'Build', {
      directory: props.directory,
      target: props.target,
      platform: Platform.LINUX_ARM64,
      repository: this.repository,
      ignoreMode: IgnoreMode.DOCKER,
      exclude: buildContextExcludes(props.directory),
      buildArgs: baseImageMirror(props.directory),
    })
    return build.imageUri
  }

  /**
   * The local build as a CDK image asset (tagged with its content hash), copied into the runtime's
   * repository under the same tag. Only the arm64 manifest is copied: a local buildx may push an
   * index (with an attestation beside the image), whose untagged children the lifecycle rule
   * would expire.
   */
  private buildWithDocker(props: RuntimeImageProps): string {
    const asset = new DockerImageAsset(this, 'Asset', {
      directory: props.directory,
      target: props.target,
      platform: Platform.LINUX_ARM64,
      ignoreMode: IgnoreMode.DOCKER,
    })
    const uri = this.repository.repositoryUriForTag(asset.imageTag)
    const role = imageCopyRole(this)
    asset.repository.grantPull(role)
    this.repository.grantPullPush(role)
    const copy = new ECRDeployment(this, 'Copy', {
      src: new DockerImageName(asset.imageUri),
      dest: new DockerImageName(uri),
      imageArch: ['arm64'],
      // The handler would otherwise add ECR pull and push on every repository (`*`) and
      // s3:GetObject on every bucket to its role: it gets this role, granted the two repositories
      // of each copy above, and nothing it tries to add.
      role: role.withoutPolicyUpdates(),
    })
    // The copy runs once the role's policy exists (the role itself it references).
    copy.node.addDependency(role.node.findChild('DefaultPolicy'))
    this.ready.add(copy)
    return uri
  }
}

/**
 * One image per Dockerfile target, by the same keys (`{ agent: 'agent', mcpServer: 'mcp-server' }`
 * gives `{ agent, mcpServer }`, with construct ids AgentImage and McpServerImage): a new target is
 * one more entry.
 */
export function runtimeImages<const Targets extends Readonly<Record<string, string>>>(
  scope: Construct,
  options: { readonly directory: string; readonly targets: Targets; readonly build: ImageBuild },
): { readonly [Key in keyof Targets]: RuntimeImage } {
  return Object.fromEntries(
    Object.entries(options.targets).map(([key, target]) => [
      key,
      new RuntimeImage(scope, `${key[0]?.toUpperCase()}${key.slice(1)}Image`, {
        directory: options.directory,
        target,
        build: options.build,
      }),
    ]),
  ) as { readonly [Key in keyof Targets]: RuntimeImage }
}

/**
 * What CodeBuild gets of the context: as for a CDK image asset, the .dockerignore's patterns with
 * the Dockerfile and the .dockerignore let back in (the .dockerignore here starts by leaving out
 * everything), so the upload is the image's context and nothing else (no .git, node_modules, .env).
 */
export function buildContextExcludes(directory: string): string[] {
  const ignore = join(directory, '.dockerignore')
  const patterns = readFileSync(ignore, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  return [...patterns, '!Dockerfile', '!.dockerignore']
}

/** `NODE_IMAGE` pointed at the ECR Public mirror when the Dockerfile's default is a Docker official `node` image. */
export function baseImageMirror(directory: string): Record<string, string> {
  const dockerfile = readFileSync(join(directory, 'Dockerfile'), 'utf8')
  const base = /^ARG NODE_IMAGE=(node:[\w.-]+)\s*$/m.exec(dockerfile)?.[1]
  return base === undefined ? {} : { NODE_IMAGE: `${BASE_IMAGE_MIRROR}${base}` }
}

/**
 * The role of cdk-ecr-deployment's handler, one per stack (the handler is a singleton function):
 * Lambda's basic logging, and the pulls and pushes each copy grants it.
 */
function imageCopyRole(scope: Construct): Role {
  const stack = Stack.of(scope)
  const id = 'RuntimeImageCopyRole'
  const existing = stack.node.tryFindChild(id)
  if (existing instanceof Role) return existing
  return new Role(stack, id, {
    description: 'longrun image copy (imageBuild=docker): CDK image assets into the runtimes repositories',
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
  })
}
