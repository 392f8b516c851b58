/**
 * Continuations in the developer console, in a real browser: `longrun dev` with the demo model and
 * one continuation allowed in a chain (`RUNTIME_CONTINUATION_DEPTH=1`). A training asked for with
 * its evaluation ends while the page is open and no one types: the agent acts on its result on its
 * own (it starts the evaluation), and when that ends, a limit stops it acting and it only reports.
 * The chat shows both as they happen, marked "while you were away" (the second as stopped); the
 * memory timeline marks every entry of both. Opened again, the page leaves past continuations to
 * the timeline and shows only new ones in the chat. The page runs under its CSP: a violation or an
 * uncaught error fails the test it happened in. Screenshots go to .test-output/console/.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, watchedPage } from '../helpers/browser.ts'
import { type DevStack, startDevStack } from '../helpers/dev-stack.ts'
import { waitFor } from '../helpers/local-agentcore.ts'

const SHOTS = new URL('../../.test-output/console/', import.meta.url).pathname

describe('continuations in the developer console', () => {
  let dev: DevStack
  let browser: Browser
  let page: Page
  const problems: string[] = []
  /** The tasks of the first story: the training, and the evaluation the agent started on its own. */
  const story = { session: '', training: '', evaluation: '' }

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) })

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    dev = await startDevStack(100, { RUNTIME_CONTINUATION_DEPTH: '1' })
    browser = await launchChromium()
    page = await watchedPage(browser, problems)
    await page.goto(dev.consoleUrl)
  })

  afterEach(() => {
    assert.deepEqual(problems.splice(0), [], 'no CSP violation and no uncaught error on the page')
  })

  after(async () => {
    await browser?.close()
    await dev?.stop()
  })

  /** The chat's own turns, and the continuations it shows. */
  const ownTurns = () => page.locator('.messages > .turn:not(.away)')
  const awayTurns = () => page.locator('.messages > .turn.away')

  /** Sends a prompt and waits until its turn is answered (the Send button is back). */
  const ask = async (prompt: string) => {
    const turns = await ownTurns().count()
    await page.fill('input[name=prompt]', prompt)
    await page.click('form.ask button[type=submit]')
    await waitFor(
      async () =>
        (await ownTurns().count()) > turns &&
        (await page.locator('form.ask button[type=submit]').isEnabled()),
      30_000,
      'the answer',
    )
  }

  /** What each child of the chat is, in order: `own`, or the continuation's mark. */
  const chatOrder = () =>
    page
      .locator('.messages > .turn')
      .evaluateAll((turns) =>
        turns.map((turn) =>
          turn.classList.contains('away') ? `away ${turn.getAttribute('data-continuation')}` : 'own',
        ),
      )

  test('while the page is open, the chat shows each continuation as it happens, marked; a stopped one says so', async () => {
    await page.locator('section.timeline').waitFor()
    story.session = await page.inputValue('input[name=session]')
    await ask('train a model called console-away for 5 epochs, then evaluate it')
    story.training = await ownTurns().locator('.tool[data-tool=start_model_training] code').innerText()
    assert.ok(story.training.length > 10, 'the task id')

    // No one types: the training's result wakes the agent, which starts the evaluation.
    const first = page.locator(`.messages > .turn.away[data-task-id="${story.training}"]`)
    await first.locator('.message.agent').waitFor({ timeout: 30_000 })
    assert.equal(await first.getAttribute('data-continuation'), '1')
    assert.equal(await first.locator('.away-mark').count(), 1)
    assert.equal(await first.locator('.tool[data-tool=start_evaluate_model]').count(), 1)

    // The evaluation's result wakes it again: past the chain's limit, it only reports.
    const stopped = page.locator('.messages > .turn.away[data-continuation=stopped]')
    await stopped.locator('.message.agent').waitFor({ timeout: 30_000 })
    story.evaluation = (await stopped.getAttribute('data-task-id')) ?? ''
    assert.ok(story.evaluation.length > 10 && story.evaluation !== story.training)
    assert.equal(await stopped.locator('.tool').count(), 0, 'a stopped continuation calls no tool')
    assert.equal(await stopped.locator('.away-mark').count(), 1)
    const evaluation = page.locator(`section.tasks .task[data-task-id="${story.evaluation}"]`)
    await evaluation.waitFor()
    assert.equal(await evaluation.locator('strong').innerText(), 'evaluate_model')

    // In the chat, in the order they happened: the user's turn, then the two continuations.
    assert.deepEqual(await chatOrder(), ['own', 'away 1', 'away stopped'])
    assert.equal(await awayTurns().count(), 2, 'each continuation shown once, as its entries landed')

    // The memory timeline marks every entry of both, and nothing else.
    for (const [task, mark] of [
      [story.training, '1'],
      [story.evaluation, 'stopped'],
    ] as const) {
      const opening = page.locator(`.entry[data-author=runtime][data-task-id="${task}"]`)
      await opening.waitFor()
      assert.equal(await opening.getAttribute('data-continuation'), mark)
      const answers = page.locator(`.entry[data-author=agent][data-continuation="${mark}"]`)
      await answers.first().waitFor()
    }
    const marked = page.locator('.entry[data-continuation]')
    assert.equal(
      await marked.count(),
      await page.locator('.entry[data-continuation] .away-mark').count(),
      'each marked entry shows its mark',
    )
    assert.equal(await page.locator('.entry[data-author=user][data-continuation]').count(), 0)
    assert.equal(await page.locator('.entry[data-author="task result"][data-continuation]').count(), 0)
    assert.equal(await page.locator('.entry[data-author="task result"]').count(), 2)
    await shot('continuations-1-while-away')
  })

  test('opened again, past continuations stay in the timeline; only a new one joins the chat', async () => {
    await page.reload()
    await waitFor(
      async () => (await page.inputValue('input[name=session]')) === story.session,
      15_000,
      'the same session',
    )
    await page.locator('.entry[data-continuation=stopped]').first().waitFor()
    // One more read of the timeline after the first: the chat has seen it, and shows nothing of it.
    await page.waitForResponse((response) => new URL(response.url()).pathname === '/api/timeline')
    assert.equal(await awayTurns().count(), 0, 'no past continuation in the chat')

    // The user is back: a new task the user started wakes the agent again, a chain of its own.
    await ask('train a model called console-again for 3 epochs')
    const training = await ownTurns().locator('.tool[data-tool=start_model_training] code').last().innerText()
    const again = page.locator(`.messages > .turn.away[data-task-id="${training}"]`)
    await again.locator('.message.agent').waitFor({ timeout: 30_000 })
    assert.equal(await again.getAttribute('data-continuation'), '1')
    assert.deepEqual(await chatOrder(), ['own', 'away 1'])
    await shot('continuations-2-reopened')
  })
})
