/**
 * The seed's story in the developer console, in a real browser at 1400x1000: `longrun dev` started
 * as a user starts it, a first turn through the CLI, the console opened from the URL it prints (on
 * that same session), a training run asked for in the chat, its task and progress bar in the task
 * panel, the runtime stopped while the run goes on, the result landing in the memory timeline as
 * values with no agent running, the runtime started again and the real scores in the answer. The
 * page runs under its Content-Security-Policy: a violation, or any uncaught error, fails the test
 * it happened in. Screenshots of each step go to .test-output/console/.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, test } from 'node:test'
import type { Browser, Locator, Page } from 'playwright-core'
import { launchChromium, VIEWPORT, watchedPage } from '../helpers/browser.ts'
import { NODE } from '../helpers/child-process.ts'
import { CLI, type DevStack, startDevStack } from '../helpers/dev-stack.ts'
import { waitFor } from '../helpers/local-agentcore.ts'

const SHOTS = new URL('../../.test-output/console/', import.meta.url).pathname
const run = promisify(execFile)

/** Polls `check` (in this process, so nothing is evaluated as a string under the page's CSP). */
const until = (check: () => Promise<boolean>, what: string, timeoutMs = 15_000) =>
  waitFor(check, timeoutMs, what)

/** One answer of GET /api/timeline, as the page received it. */
interface TimelineRead {
  readonly sessionId: string
  readonly cursor: boolean
  readonly eventIds: string[]
}

describe('the developer console', () => {
  let dev: DevStack
  let browser: Browser
  let page: Page
  let cliSession: string
  /** The tasks the story starts: a training that completes, one that is cancelled. */
  const started: { trained?: string; cancelled?: string } = {}
  const problems: string[] = []
  const requests: URL[] = []
  const timelineReads: TimelineRead[] = []
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) })

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    // Wakes retried within a second: the continuation after the runtime's restart comes soon.
    dev = await startDevStack(250, { MCP_DELIVERY_MAX_DELAY_MS: '1000' })
    // The user's first turn goes through the CLI; the console then opens on that conversation.
    const { stderr } = await run(NODE, [CLI, 'invoke', 'list my tasks'], { env: dev.env, cwd: dev.dataDir })
    cliSession = /session: (\S+)/.exec(stderr)?.[1] ?? ''
    assert.ok(cliSession.length > 32, `the CLI names its session: ${stderr}`)
    browser = await launchChromium()
    page = await watchedPage(browser, problems)
    page.on('request', (request) => requests.push(new URL(request.url())))
    page.on('response', async (response) => {
      const url = new URL(response.url())
      if (url.pathname !== '/api/timeline' || !response.ok()) return
      // (A read still in flight when the browser closes at the end has no body to give.)
      const body = (await response.json().catch(() => undefined)) as
        { items: { eventId: string }[] } | undefined
      if (body === undefined) return
      timelineReads.push({
        sessionId: url.searchParams.get('sessionId') ?? '',
        cursor: url.searchParams.has('cursor'),
        eventIds: [...new Set(body.items.map((item) => item.eventId))],
      })
    })
    await page.goto(dev.consoleUrl)
  })

  afterEach(() => {
    assert.deepEqual(problems.splice(0), [], 'no CSP violation and no uncaught error on the page')
  })

  after(async () => {
    await browser?.close()
    await dev?.stop()
  })

  /** The chat's own turns (not the continuations it shows). */
  const ownTurns = () => page.locator('.messages > .turn:not(.away)')
  /** The newest answer to a turn of the chat's own. */
  const lastAnswer = () => ownTurns().locator('.message.agent').last()

  /** Sends a prompt and waits until its turn is there and answered (the Send button is back). */
  const ask = async (prompt: string) => {
    const turns = await ownTurns().count()
    await page.fill('input[name=prompt]', prompt)
    await page.click('form.ask button[type=submit]')
    await until(
      async () =>
        (await ownTurns().count()) > turns &&
        (await page.locator('form.ask button[type=submit]').isEnabled()),
      'the answer',
      30_000,
    )
  }

  const box = async (locator: Locator) => {
    const found = await locator.boundingBox()
    assert.ok(found, 'the element is laid out')
    return found
  }

  /** True when `entry` lies wholly inside the visible part of the timeline's scroll box. */
  const inTimelineView = (entry: Locator) =>
    entry.evaluate((element) => {
      const inner = element.getBoundingClientRect()
      const outer = element.closest('.entries')?.getBoundingClientRect()
      const screen = element.ownerDocument.defaultView?.innerHeight ?? 0
      return (
        outer !== undefined &&
        inner.top >= outer.top - 1 &&
        inner.bottom <= outer.bottom + 1 &&
        outer.bottom <= screen
      )
    })

  test('it opens on the session the CLI just used, the chat beside the timeline, all on one screen', async () => {
    await until(
      async () => (await page.inputValue('input[name=session]')) === cliSession,
      'the CLI’s session',
    )
    await page.locator('.entry[data-author=user]', { hasText: 'list my tasks' }).waitFor()

    const header = await box(page.locator('header'))
    const chat = await box(page.locator('section.chat'))
    const timeline = await box(page.locator('section.timeline'))
    const tasks = await box(page.locator('section.tasks'))
    assert.ok(chat.x + chat.width <= timeline.x, 'the timeline is to the right of the chat')
    assert.ok(Math.abs(chat.y - timeline.y) < 1, 'their tops line up')
    assert.ok(timeline.x + timeline.width <= tasks.x, 'the tasks are to the right of the timeline')
    for (const panel of [chat, timeline, tasks]) {
      assert.ok(panel.y < header.y + header.height + 20, 'each panel starts right under the header')
      assert.ok(panel.y + panel.height <= VIEWPORT.height, 'and ends on the screen')
    }
    // The header is one line: "Stop the runtime" does not wrap.
    const stop = await box(page.locator('button[name=runtime]'))
    assert.ok(header.height < 60, `the header is one line (${header.height}px)`)
    assert.ok(stop.height < 40 && stop.y + stop.height <= header.y + header.height, 'the button is on it')
    assert.equal(
      await page
        .locator('html')
        .evaluate((root) => root.scrollHeight <= (root.ownerDocument.defaultView?.innerHeight ?? 0)),
      true,
      'the page itself does not scroll',
    )
    // The timeline's label "tool" is not styled as the chat's tool bar.
    const label = page.locator('.entry .who-tool').first()
    await label.waitFor()
    assert.equal(
      await label.evaluate(
        (element) => element.ownerDocument.defaultView?.getComputedStyle(element).borderLeftStyle,
      ),
      'none',
    )
    await shot('1-opened')
  })

  test('a training run: started in the chat, watched in the task panel, its values in memory while no runtime runs, reported after a restart', async () => {
    const fullReadsBefore = timelineReads.filter(
      (read) => read.sessionId === cliSession && !read.cursor,
    ).length
    await ask('train a model called console-demo for 40 epochs')
    const tool = ownTurns().locator('.tool[data-tool=start_model_training]')
    await tool.waitFor()
    assert.match(await lastAnswer().innerText(), /Started task \S+ \(model_training\)/)
    const taskId = await tool.locator('code').innerText()
    assert.ok(taskId.length > 10, 'the tool call shows its task id')
    started.trained = taskId

    // The task is listed with the session's own (not among the other sessions'), and its progress
    // bar advances on its own (no refresh).
    const task = page.locator(`section.tasks .scroll > .task[data-task-id="${taskId}"]`)
    await task.waitFor()
    const progress = task.locator('progress')
    await progress.waitFor()
    const first = Number(await progress.getAttribute('value'))
    await until(async () => Number(await progress.getAttribute('value')) > first, 'progress', 10_000)
    await shot('2-task-running')

    // The user leaves: the runtime stops while the training goes on.
    await page.click('button[name=runtime]')
    await page.waitForSelector('[data-runtime=stopped]')
    assert.equal(
      await task.getAttribute('data-status'),
      'working',
      'the task still runs when the runtime stops',
    )
    assert.equal(await page.locator('.entry[data-author="task result"]').count(), 0, 'no result yet')
    await shot('3-runtime-stopped')

    // The result lands in the session's memory with no agent running, and reads as its values.
    const result = page.locator(`.entry[data-author="task result"][data-task-id="${taskId}"]`)
    await result.waitFor({ timeout: 30_000 })
    assert.equal(
      await page.locator('[data-runtime=stopped]').count(),
      1,
      'it landed while the runtime was stopped',
    )
    const accuracyCell = result.locator('td[data-key=test_accuracy]')
    const accuracy = Number(await accuracyCell.getAttribute('data-value'))
    assert.ok(accuracy > 0 && accuracy <= 1, `a test accuracy: ${accuracy}`)
    assert.equal(await result.locator('td[data-key=epochs]').getAttribute('data-value'), '40')
    assert.ok(await accuracyCell.isVisible(), 'the accuracy is shown')
    await until(
      async () => (await page.locator('.entries .entry').last().getAttribute('data-task-id')) === taskId,
      'the result as the newest event',
    )
    assert.equal(
      await inTimelineView(result),
      true,
      'the timeline keeps its newest event, the result, in view',
    )

    // The task panel shows the same values, once its task completed.
    await task.locator('.status.completed').waitFor()
    await task.locator('td[data-key=test_accuracy]').waitFor()
    assert.equal(
      Number(await task.locator('td[data-key=test_accuracy]').getAttribute('data-value')),
      accuracy,
    )
    await shot('4-result-in-memory')

    // The raw payload is one click away.
    await result.locator('button', { hasText: 'raw' }).click()
    assert.match(await result.locator('pre').innerText(), /conversational/)
    await result.locator('button', { hasText: 'hide raw' }).click()

    // Back: the runtime starts again. The result's wake, refused while no runtime ran, now runs
    // the agent on its own: the chat shows that continuation as it happens, marked as such.
    await page.click('button[name=runtime]')
    await page.waitForSelector('[data-runtime=running]')
    const away = page.locator(`.messages > .turn.away[data-task-id="${taskId}"]`)
    await away.locator('.message.agent').waitFor({ timeout: 30_000 })
    assert.equal(await away.getAttribute('data-continuation'), '1')
    assert.equal(await away.locator('.away-mark').count(), 1)
    await page
      .locator(`.entry[data-author=runtime][data-task-id="${taskId}"][data-continuation="1"]`)
      .waitFor()
    await shot('5-continuation')
    // And the user asks: the agent reports the real scores from memory.
    await ask('show my results')
    const answer = await lastAnswer().innerText()
    assert.match(answer, new RegExp(`${taskId} \\(model_training\\) completed`))
    assert.ok(answer.includes(String(accuracy)), `the answer has the real accuracy ${accuracy}: ${answer}`)
    // Both panes follow the newest entry: the answer in the chat, its events in the timeline.
    const newest = page.locator('.entries .entry').last()
    await page
      // The user's own turn (the continuation, marked, says the same of the task).
      .locator('.entries .entry[data-author=agent]:not([data-continuation])', {
        hasText: `${taskId} (model_training) completed`,
      })
      .waitFor()
    assert.equal(await inTimelineView(newest), true, 'the newest event is in view')
    const chatEnd = await lastAnswer().evaluate((element) => {
      const bottom = element.closest('.messages')?.getBoundingClientRect().bottom ?? 0
      return element.getBoundingClientRect().bottom <= bottom + 1
    })
    assert.equal(chatEnd, true, 'the answer is in view in the chat')
    await shot('6-answer-after-restart')
    // The README's picture: the chat beside the timeline, a finished training's values in view.
    await page.screenshot({ path: join(SHOTS, 'console.png') })

    // The timeline was read whole once, then only what was new: no event came twice.
    const reads = timelineReads.filter((read) => read.sessionId === cliSession)
    assert.equal(reads.filter((read) => !read.cursor).length, fullReadsBefore, 'no whole re-read')
    const incremental = reads.filter((read) => read.cursor)
    assert.ok(incremental.length >= 5, `polled with a cursor (${incremental.length} reads)`)
    const given = reads.flatMap((read) => read.eventIds)
    assert.equal(new Set(given).size, given.length, 'each event was given once')
    assert.ok(
      incremental.filter((read) => read.eventIds.length === 0).length > incremental.length / 2,
      'most polls bring nothing, as nothing is new',
    )
  })

  test('a cancelled task stops being polled: its result is never asked for', async () => {
    // (No "cancel" in the prompt: the demo model would take it as the ask to cancel.)
    await ask('train a model called endless for 100000 epochs')
    const taskId = await ownTurns().locator('.tool[data-tool=start_model_training] code').last().innerText()
    started.cancelled = taskId
    // The reader scrolls the timeline up to read: it stays where they put it while events land.
    const entries = page.locator('.entries')
    await entries.evaluate((element) => element.scrollTo({ top: 0 }))
    const task = page.locator(`.task[data-task-id="${taskId}"]`)
    await task.locator('button', { hasText: 'Cancel' }).click()
    await page.waitForSelector(`.task[data-task-id="${taskId}"][data-status=cancelled]`, { timeout: 15_000 })
    const ended = page.locator(`.entry[data-author="task result"][data-task-id="${taskId}"]`)
    await ended.waitFor()
    assert.equal(
      await entries.evaluate((element) => element.scrollTop),
      0,
      'the timeline stays where it was read',
    )
    assert.equal(await inTimelineView(ended), false)
    await entries.evaluate((element) => element.scrollTo({ top: element.scrollHeight }))
    // The task panel keeps polling the list (other tasks may start); let it do so twice more.
    const polls = requests.filter((url) => url.pathname === '/api/tasks').length
    await page.waitForResponse((response) => new URL(response.url()).pathname === '/api/tasks')
    await page.waitForResponse((response) => new URL(response.url()).pathname === '/api/tasks')
    assert.ok(requests.filter((url) => url.pathname === '/api/tasks').length >= polls + 2)
    const asked = requests.filter(
      (url) => url.pathname === '/api/tasks/result' && url.searchParams.get('taskId') === taskId,
    )
    assert.deepEqual(asked, [], 'no request for a cancelled task’s result')
    // The completed training's result was asked for once, not on every poll.
    const completed = requests.filter((url) => url.pathname === '/api/tasks/result')
    assert.equal(completed.length, 1, `one result read in all: ${completed.map(String).join(', ')}`)
    await shot('7-task-cancelled')
  })

  test("bad input shows the runtime's own error: an empty prompt, an invalid session id", async () => {
    await ask('')
    const emptyError = await page.locator('.message.error').last().innerText()
    assert.match(emptyError, /INVALID_REQUEST/)
    assert.match(emptyError, /prompt/)
    await page.fill('input[name=session]', 'too-short')
    await page.press('input[name=session]', 'Enter')
    // The chat starts over for the new session.
    await until(async () => (await page.locator('.messages > div').count()) === 0, 'an empty chat')
    await ask('hello')
    const sessionError = await page.locator('.message.error').last().innerText()
    assert.match(sessionError, /session/i)
    await shot('8-bad-input')
  })

  test("the session's own tasks come first; the actor's others are one click away, with their values", async () => {
    // The session in view is now the one of the bad input: the story's tasks belong to another.
    const panel = page.locator('section.tasks')
    await panel.getByText('No background task in this session yet.').waitFor()
    const others = panel.locator('details.others')
    await until(
      async () => /^2 in other sessions of default$/.test(await others.locator('summary').innerText()),
      'the count',
    )
    const trained = others.locator(`.task[data-task-id="${started.trained}"]`)
    assert.equal(await trained.isVisible(), false, 'folded away')
    await others.locator('summary').click()
    await trained.locator('td[data-key=test_accuracy]').waitFor()
    assert.equal(
      await others.locator(`.task[data-task-id="${started.cancelled}"]`).getAttribute('data-status'),
      'cancelled',
    )
    await shot('9-other-sessions')
  })

  test('the API answers only with the token, and only to its own origin', async () => {
    const url = new URL(dev.consoleUrl)
    const token = new URLSearchParams(url.hash.slice(1)).get('token') as string
    const config = (headers: Record<string, string>) => fetch(`${url.origin}/api/config`, { headers })
    const none = await config({})
    assert.equal(none.status, 401)
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED')
    assert.equal((await config({ authorization: 'Bearer wrong' })).status, 401)
    const foreign = await config({ authorization: `Bearer ${token}`, origin: 'http://evil.example' })
    assert.equal(foreign.status, 403)
    assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, 'FORBIDDEN_HOST')
    assert.equal((await config({ authorization: `Bearer ${token}` })).status, 200)
  })

  test('the page runs under its policy: it works, and a script of no one’s is refused and reported', async () => {
    const seen: string[] = []
    const other = await watchedPage(browser, seen)
    try {
      await other.goto(dev.consoleUrl)
      await other.locator('section.timeline').waitFor()
      assert.deepEqual(seen, [], 'the page itself needs nothing the policy refuses')
      const body = other.locator('body')
      await body.evaluate((element) => {
        const script = element.ownerDocument.createElement('script')
        script.textContent = 'document.body.dataset.injected = "yes"'
        element.append(script)
      })
      // The page's own listener reports the refused inline script (beside Chromium's own message).
      await waitFor(
        () => seen.some((line) => /^Content Security Policy violation: script-src\S* inline$/.test(line)),
        5_000,
        'the violation report',
      )
      assert.equal(await body.getAttribute('data-injected'), null, 'the inline script did not run')
    } finally {
      await other.close()
    }
  })
})
