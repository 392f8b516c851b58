/**
 * The headers that keep the console's page and API to themselves: the page runs only its own
 * scripts, styles and API calls (its one inline script, the import map, is allowed by its hash),
 * nothing may frame it or sniff a type, no URL (which holds no token, but names sessions) leaks
 * as a referrer, and no API answer is kept in a cache.
 */
import { createHash } from 'node:crypto'

/** Every answer: static files, API calls and errors alike. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/** API answers (JSON and the chat's event stream): user data, never cached. */
export const API_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store' }

/** The policy of the page: its own origin only, and its inline scripts by their hashes. */
export function pagePolicy(html: string): string {
  const hashes = inlineScripts(html).map(
    (script) => `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`,
  )
  return [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/** The text of every `<script>` without a `src`, exactly as the browser hashes it. */
function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    .filter((match) => !/\bsrc\s*=/.test(match[1] ?? ''))
    .map((match) => match[2] ?? '')
}
