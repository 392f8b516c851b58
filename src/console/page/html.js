// The page's templates: htm bound to Preact's h (no build step, no JSX).
import { h } from 'preact'
import htm from 'htm'

export const html = htm.bind(h)
