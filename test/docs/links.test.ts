/**
 * The README and the pages of docs/ link to each other, to examples and to files of the repository:
 * every relative link must lead to a file that exists, and a link to a heading (`page.md#heading`)
 * to a heading that page has, named as GitHub names its anchors.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DOCS = join(ROOT, 'docs')
const PAGES = [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(DOCS, name)),
]
/** The console screenshot is placed by whoever takes it; until then its one check is a todo. */
const SCREENSHOT = join(DOCS, 'images', 'console.png')

/** The text outside fenced code blocks, where links and headings are Markdown. */
function prose(markdown: string): string {
  let fenced = false
  return markdown
    .split('\n')
    .filter((line) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced
        return false
      }
      return !fenced
    })
    .join('\n')
}

/** Targets of inline links and images, `[text](target)` and `![alt](target)`, outside code spans. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, 'code')
  return [...text.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] ?? '')
}

/** GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (heading ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    result.add(count === 0 ? base : `${base}-${count}`)
  }
  return result
}

/** Every relative link of every page, as `page: target`, with what is wrong with it, if anything. */
function brokenLinks(skip: ReadonlySet<string>): string[] {
  const broken: string[] = []
  for (const page of PAGES) {
    const markdown = readFileSync(page, 'utf8')
    for (const target of linkTargets(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto: and the like
      const [path = '', anchor] = target.split('#', 2)
      const file = path === '' ? page : resolve(dirname(page), decodeURIComponent(path))
      if (skip.has(file)) continue
      const where = `${relative(ROOT, page)}: ${target}`
      if (!existsSync(file)) broken.push(`${where} (no such file)`)
      else if (
        anchor !== undefined &&
        file.endsWith('.md') &&
        !anchors(readFileSync(file, 'utf8')).has(anchor)
      )
        broken.push(`${where} (no such heading)`)
    }
  }
  return broken
}

test('every relative link in README.md and docs/*.md leads to an existing file and heading', () => {
  assert.deepEqual(brokenLinks(new Set([SCREENSHOT])), [])
})

test(
  'the console screenshot the README and docs/console.md show is in place',
  { todo: existsSync(SCREENSHOT) ? false : 'docs/images/console.png is not placed yet' },
  () => {
    const showing = PAGES.filter((page) =>
      linkTargets(readFileSync(page, 'utf8')).some((target) => resolve(dirname(page), target) === SCREENSHOT),
    )
    assert.deepEqual(
      showing.map((page) => relative(ROOT, page)),
      ['README.md', 'docs/console.md'],
    )
    assert.equal(existsSync(SCREENSHOT), true)
  },
)

test('the README and the docs index link every page of docs/', () => {
  const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md') && name !== 'README.md')
  for (const index of [join(ROOT, 'README.md'), join(DOCS, 'README.md')]) {
    const linked = new Set(
      linkTargets(readFileSync(index, 'utf8')).map((target) =>
        resolve(dirname(index), target.split('#')[0] ?? ''),
      ),
    )
    assert.deepEqual(
      pages.filter((name) => !linked.has(join(DOCS, name))),
      [],
      `${relative(ROOT, index)} leaves pages out`,
    )
  }
})
