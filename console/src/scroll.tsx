import type { ComponentChildren } from 'preact'

/** A table that may be wider than a phone: it scrolls sideways on its own, reachable by keyboard. */
export function Scroll ({ label, children }: { label: string, children: ComponentChildren }) {
  return <div class='scroll' role='region' aria-label={label} tabIndex={0}>{children}</div>
}
