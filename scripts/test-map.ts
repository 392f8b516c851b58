/**
 * Writes docs/test-map.md: for every source file, the test files that exercise it most, measured
 * rather than guessed. Each test file runs in its own process with V8 coverage on (the processes it starts
 * included); a test file exercises a source file by the share of that file's functions it ran.
 * A source file lists its tests from the highest share down (at most five), so a newcomer changing
 * `src/mcp-server/local-scheduler.ts` finds the tests to run beside it.
 *
 *   node --disable-warning=ExperimentalWarning scripts/test-map.ts          (every test file)
 *   node --disable-warning=ExperimentalWarning scripts/test-map.ts test/mcp-server/queueing.test.ts ...  (rows to stdout)
 *
 * Test files run side by side, one a core, as the suite's do. test/architecture/test-map.test.ts
 * checks that every source file is in the map, so a new file is mapped when it lands.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MAP = join(ROOT, 'docs/test-map.md')
const MAX_TESTS = 5

interface FunctionCoverage {
  readonly functionName: string
  readonly ranges: readonly { readonly count: number }[]
}
interface ScriptCoverage {
  readonly url: string
  readonly functions: readonly FunctionCoverage[]
}

/** Files under `dir` (relative to the root) whose names end with `suffix`. */
function filesUnder(dir: string, suffix: string): string[] {
  return (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    .filter((name) => name.endsWith(suffix))
    .map((name) => join(dir, name))
    .sort()
}

/** Source files of src/ the map covers: the TypeScript modules (the console page's scripts run in a browser). */
export function mappedSources(): string[] {
  // An index.ts only re-exports: its boundary's files are mapped one by one.
  return filesUnder('src', '.ts').filter((path) => !path.endsWith('.d.ts') && !path.endsWith('/index.ts'))
}

/** The boundary of a source or test path: `src/memory/x.ts` and `test/memory/y.test.ts` share `memory`. */
function boundaryOf(path: string): string {
  return path.split('/')[1] ?? ''
}

/**
 * For one test file: each source file it ran, with the share of that file's functions it ran, and
 * the file's exit code (a failing test counts only what it ran before it failed).
 */
async function exercise(testFile: string): Promise<{ best: Map<string, number>; code: number | null }> {
  const coverageDir = mkdtempSync(join(tmpdir(), 'longrun-test-map-'))
  try {
    const child = spawn(
      join(ROOT, 'node_modules/.bin/node'),
      ['--disable-warning=ExperimentalWarning', '--test', '--test-timeout=180000', testFile],
      { cwd: ROOT, env: { ...process.env, NODE_V8_COVERAGE: coverageDir }, stdio: 'ignore' },
    )
    const [code] = (await once(child, 'close')) as [number | null]
    const best = new Map<string, number>()
    for (const name of readdirSync(coverageDir)) {
      const { result } = JSON.parse(readFileSync(join(coverageDir, name), 'utf8')) as {
        result: ScriptCoverage[]
      }
      for (const script of result) {
        if (!script.url.startsWith('file://')) continue
        const path = relative(ROOT, fileURLToPath(script.url))
        if (!path.startsWith('src/') || !path.endsWith('.ts')) continue
        // The module's own body is the unnamed entry; its functions say what was exercised. A file
        // of constants and types only counts as exercised once loaded.
        const functions = script.functions.filter((each) => each.functionName !== '')
        const run = functions.filter((each) => (each.ranges[0]?.count ?? 0) > 0).length
        const share = functions.length === 0 ? 1 : run / functions.length
        // Several processes (the test's, the servers it starts) may load a file: the best one counts.
        best.set(path, Math.max(best.get(path) ?? 0, share))
      }
    }
    return { best, code }
  } finally {
    rmSync(coverageDir, { recursive: true, force: true })
  }
}

/** A file of types alone: Node strips them, so no test can load it. */
function typesOnly(source: string): boolean {
  const code = readFileSync(join(ROOT, source), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
  return !/^\s*(export\s+)?(default\s+)?(abstract\s+)?(class|function|const|let|var|async|enum)\b/m.test(code)
}

/** The map's Markdown: a table of each source file and its tests. */
function render(byFile: Map<string, { test: string; share: number }[]>): string {
  const lines = [
    '# Which tests exercise a file',
    '',
    'For every source file, the test files that run the largest share of its functions (at most',
    `${MAX_TESTS}), measured with V8 coverage by \`scripts/test-map.ts\` (each test file in its own process, the`,
    'processes it starts included). Changing a file, run these first; then the whole suite',
    '([testing.md](testing.md)). A file no test runs says why. Regenerate after adding files:',
    '`node --disable-warning=ExperimentalWarning scripts/test-map.ts` (with the Node of node_modules/.bin);',
    '`test/architecture/test-map.test.ts` fails while a source file is missing here.',
    '',
    '| source file | tests (share of its functions run) |',
    '|---|---|',
  ]
  for (const source of mappedSources()) {
    const loaded = byFile.get(source) ?? []
    const tests = loaded.filter((each) => each.share > 0)
    const name = (each: { test: string }) => `\`${each.test}\``
    const cell =
      tests.length > 0
        ? tests
            .slice(0, MAX_TESTS)
            .map((each) => `${name(each)} (${Math.round(each.share * 100)}%)`)
            .join(', ')
        : loaded.length > 0
          ? `loaded by ${loaded.slice(0, MAX_TESTS).map(name).join(', ')}; no test runs its functions`
          : typesOnly(source)
            ? 'types only: nothing in it runs'
            : 'no test loads it'
    lines.push(`| \`${source}\` | ${cell} |`)
  }
  return `${lines.join('\n')}\n`
}

if (import.meta.main) {
  const tests = process.argv.length > 2 ? process.argv.slice(2) : filesUnder('test', '.test.ts')
  const byFile = new Map<string, { test: string; share: number }[]>()
  // As many test files at once as the suite runs (one a core); each has its own coverage folder.
  let next = 0
  let done = 0
  const failed: string[] = []
  const worker = async () => {
    while (next < tests.length) {
      const test = tests[next++] as string
      const { best, code } = await exercise(test)
      if (code !== 0) failed.push(`${test} (exit ${code})`)
      for (const [source, share] of best) {
        const list = byFile.get(source) ?? []
        list.push({ test, share })
        byFile.set(source, list)
      }
      process.stderr.write(`[${++done}/${tests.length}] ${test}\n`)
    }
  }
  await Promise.all(Array.from({ length: availableParallelism() }, worker))
  for (const [source, list] of byFile) {
    // On an equal share, a test of the file's own boundary comes first.
    const own = (test: string) => (boundaryOf(test) === boundaryOf(source) ? 0 : 1)
    list.sort((a, b) => b.share - a.share || own(a.test) - own(b.test) || a.test.localeCompare(b.test))
  }
  // Some test files only: their rows go to stdout, and the map of the whole suite stays as it is.
  if (process.argv.length > 2) process.stdout.write(render(byFile))
  else {
    writeFileSync(MAP, render(byFile))
    process.stderr.write(`wrote ${relative(ROOT, MAP)}\n`)
  }
  if (failed.length > 0) {
    process.stderr.write(`these test files failed, so their rows are partial:\n  ${failed.join('\n  ')}\n`)
    process.exitCode = 1
  }
}
