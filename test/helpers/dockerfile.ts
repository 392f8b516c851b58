/**
 * The project's Dockerfile followed without Docker, so a test can check what an image holds and
 * how it starts: each stage becomes a directory standing for the container's `/`, filled by its
 * COPY lines (from the build context as the .dockerignore filters it, or from an earlier stage) and
 * its `RUN npm ci` lines, with its ENV, USER, EXPOSE, HEALTHCHECK and CMD recorded. Only the
 * instructions this Dockerfile uses are understood; any other stops the build, naming it, so the
 * test cannot silently drift from the file.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { DockerIgnoreStrategy } from 'aws-cdk-lib'
import { NODE } from './child-process.ts'

/** One instruction: its keyword (upper case), its argument text and its line. */
export interface Instruction {
  readonly keyword: string
  readonly text: string
  readonly line: number
}

export interface Stage {
  readonly name: string
  /** An image reference, or the name of an earlier stage. */
  readonly base: string
  readonly platform: string | undefined
  readonly instructions: readonly Instruction[]
}

export interface Dockerfile {
  readonly stages: readonly Stage[]
}

/** What a built stage holds and how it starts. */
export interface BuiltImage {
  /** The host directory standing for the container's `/`. */
  readonly root: string
  readonly workdir: string
  readonly env: Readonly<Record<string, string>>
  readonly user: string | undefined
  readonly exposed: readonly number[]
  readonly cmd: readonly string[]
  readonly healthcheck: readonly string[] | undefined
}

/** Splits the file into instructions (continuation lines joined, comments dropped) and stages. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = []
  let pending = ''
  let start = 0
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) return
    if (pending === '') start = index + 1
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      return
    }
    const whole = `${pending}${line}`
    pending = ''
    const match = /^(\S+)\s+([\s\S]*)$/.exec(whole)
    if (!match) throw new Error(`Dockerfile line ${start}: cannot read "${whole}"`)
    instructions.push({
      keyword: (match[1] as string).toUpperCase(),
      text: (match[2] as string).trim(),
      line: start,
    })
  })
  const args: Record<string, string> = {}
  const stages: { name: string; base: string; platform: string | undefined; instructions: Instruction[] }[] =
    []
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.text)
      if (!match) throw new Error(`Dockerfile line ${instruction.line}: cannot read FROM ${instruction.text}`)
      const base = (match[2] as string).replace(/\$\{(\w+)\}/g, (_whole, name: string) => {
        if (!(name in args))
          throw new Error(`Dockerfile line ${instruction.line}: ARG ${name} has no default`)
        return args[name] as string
      })
      stages.push({ name: match[3] ?? String(stages.length), base, platform: match[1], instructions: [] })
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG')
        throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`)
      const [name, value] = instruction.text.split('=')
      args[name as string] = value ?? ''
    } else {
      stages.at(-1)?.instructions.push(instruction)
    }
  }
  return { stages }
}

/** Reads `KEY=value` pairs (values optionally double-quoted). */
function envPairs(text: string, line: number): [string, string][] {
  const pairs: [string, string][] = []
  const pattern = /(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g
  let consumed = ''
  for (const match of text.matchAll(pattern)) {
    const value = match[2] as string
    pairs.push([match[1] as string, value.startsWith('"') ? (JSON.parse(value) as string) : value])
    consumed += match[0]
  }
  if (consumed.replace(/\s/g, '') !== text.replace(/\s/g, ''))
    throw new Error(`Dockerfile line ${line}: ENV takes KEY=value pairs here`)
  return pairs
}

/** An exec-form (JSON array) command. */
function execForm(text: string, line: number): string[] {
  const parsed = JSON.parse(text) as unknown
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string'))
    throw new Error(`Dockerfile line ${line}: use the exec form ["...", "..."]`)
  return parsed
}

export interface BuildOptions {
  /** The build context (the repository). */
  readonly context: string
  /** Where the stage directories go. */
  readonly outdir: string
}

/**
 * Builds stages on demand (each once): `build('agent')` builds what the agent target needs.
 * `RUN npm ci ...` runs with `--prefer-offline`, so the local npm cache serves the packages.
 */
export function createBuilder(dockerfile: Dockerfile, options: BuildOptions): (target: string) => BuiltImage {
  const ignorePatterns = readFileSync(join(options.context, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  const ignore = new DockerIgnoreStrategy(options.context, ignorePatterns)
  const built = new Map<string, BuiltImage>()

  const build = (target: string): BuiltImage => {
    const done = built.get(target)
    if (done !== undefined) return done
    const stage = dockerfile.stages.find((each) => each.name === target)
    if (stage === undefined) throw new Error(`no stage ${target} in the Dockerfile`)
    const parent = dockerfile.stages.some((each) => each.name === stage.base) ? build(stage.base) : undefined
    const changesFiles = stage.instructions.some((each) => ['COPY', 'ADD', 'RUN'].includes(each.keyword))
    // A stage that only adds metadata shares its parent's files, as Docker's layers would.
    const root = parent !== undefined && !changesFiles ? parent.root : join(options.outdir, target)
    if (root !== parent?.root) {
      mkdirSync(root, { recursive: true })
      if (parent !== undefined) cpSync(parent.root, root, { recursive: true, verbatimSymlinks: true })
    }
    let workdir = parent?.workdir ?? '/'
    const env: Record<string, string> = { ...parent?.env }
    let user = parent?.user
    const exposed = [...(parent?.exposed ?? [])]
    let cmd = parent?.cmd ?? []
    let healthcheck = parent?.healthcheck
    const inRoot = (path: string) => join(root, posix.resolve(workdir, path))
    for (const { keyword, text, line } of stage.instructions) {
      switch (keyword) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, text)
          mkdirSync(join(root, workdir), { recursive: true })
          break
        case 'COPY': {
          const parts = text.split(/\s+/)
          const from = parts.find((part) => part.startsWith('--from='))?.slice('--from='.length)
          const paths = parts.filter((part) => !part.startsWith('--'))
          const destination = paths.pop() as string
          if (paths.length === 0) throw new Error(`Dockerfile line ${line}: COPY needs a source`)
          const intoDirectory = destination.endsWith('/') || paths.length > 1
          for (const source of paths) {
            if (/[*?[]/.test(source))
              throw new Error(`Dockerfile line ${line}: COPY with a pattern is not followed`)
            const origin =
              from === undefined
                ? join(options.context, source)
                : join(build(from).root, posix.resolve('/', source))
            if (!existsSync(origin) || (from === undefined && ignore.ignores(origin)))
              throw new Error(`Dockerfile line ${line}: ${source} is not in the ${from ?? 'build context'}`)
            const target = intoDirectory
              ? join(inRoot(destination), posix.basename(source))
              : inRoot(destination)
            const isDirectory = statSync(origin).isDirectory()
            mkdirSync(isDirectory ? target : dirname(target), { recursive: true })
            cpSync(origin, target, {
              recursive: true,
              verbatimSymlinks: true,
              // Only the context is filtered: what .dockerignore leaves out never reaches the daemon.
              filter: (path) => from !== undefined || !ignore.ignores(path),
            })
          }
          break
        }
        case 'RUN': {
          const words = text.split(/\s+/)
          if (words[0] !== 'npm' || words[1] !== 'ci')
            throw new Error(`Dockerfile line ${line}: only RUN npm ci is followed, not RUN ${text}`)
          const run = spawnSync('npm', [...words.slice(1), '--prefer-offline'], {
            cwd: join(root, workdir),
            env: { ...process.env, ...env, PATH: `${dirname(NODE)}:${process.env.PATH ?? ''}` },
            encoding: 'utf8',
          })
          if (run.status !== 0) throw new Error(`Dockerfile line ${line}: ${text} failed: ${run.stderr}`)
          break
        }
        case 'ENV':
          for (const [name, value] of envPairs(text, line)) env[name] = value
          break
        case 'USER':
          user = text
          break
        case 'EXPOSE':
          exposed.push(...text.split(/\s+/).map((port) => Number.parseInt(port, 10)))
          break
        case 'HEALTHCHECK': {
          const match = /^(?:--\S+\s+)*CMD\s+(\[[\s\S]*\])$/.exec(text)
          if (!match)
            throw new Error(`Dockerfile line ${line}: HEALTHCHECK [options] CMD ["..."] is followed`)
          healthcheck = execForm(match[1] as string, line)
          break
        }
        case 'CMD':
          cmd = execForm(text, line)
          break
        default:
          throw new Error(`Dockerfile line ${line}: ${keyword} is not followed by this test; teach it`)
      }
    }
    const image: BuiltImage = { root, workdir, env, user, exposed, cmd, healthcheck }
    built.set(target, image)
    return image
  }
  return build
}
