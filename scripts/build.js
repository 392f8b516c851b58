// `npm run build`: JavaScript and types into dist/ (tsc), the console's page beside them, and the
// stamp that tells dist/ is fresh. `--if-stale` (the `prepare` script, which npm runs on every
// `npm install` and when `npx longrun` links this checkout) skips a build that would change nothing.
import { execFileSync } from 'node:child_process'
import { cpSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { distIsFresh, stampDist } from './dist-freshness.js'

const root = fileURLToPath(new URL('..', import.meta.url))

explainEngineWarnings()
if (process.argv.includes('--if-stale') && distIsFresh(root)) {
  console.log('dist/ is up to date with src/: no build needed')
} else {
  const startedAt = Date.now()
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  cpSync(`${root}/src/console/page`, `${root}/dist/src/console/page`, { recursive: true })
  stampDist(root, startedAt)
}

/**
 * npm on a Node older than 22 warns (EBADENGINE) about every package that needs Node 22, this one
 * included, although the `node` dev dependency has just put Node 22 in node_modules/.bin for every
 * script: say so where the warnings show, so nobody reads them as "Node 22 was not installed".
 */
function explainEngineWarnings() {
  const npmNode = /\bnode\/v(\d+)\.(\d+)/.exec(process.env.npm_config_user_agent ?? '')
  const installing = ['install', 'ci'].includes(process.env.npm_command ?? '')
  if (!npmNode || !installing) return
  const [major, minor] = [Number(npmNode[1]), Number(npmNode[2])]
  if (major > 22 || (major === 22 && minor >= 18)) return
  // Only when this script itself runs on the project's Node (else the warnings are right).
  if (Number(process.versions.node.split('.')[0]) < 22) return
  console.log(
    `note: npm itself runs on Node v${major}.${minor}, so it warned EBADENGINE about packages that need Node 22. ` +
      `This project's scripts and \`npx longrun\` run on Node ${process.version} from node_modules/.bin ` +
      '(the `node` dev dependency): nothing to fix.',
  )
}
