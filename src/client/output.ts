/**
 * What a command says. On a terminal (stdout and stderr both TTYs): readable lines on stdout and a
 * progress bar on stderr. Otherwise one JSON object per line on stdout, progress included, for scripts.
 */
export interface Output {
  readonly interactive: boolean
  /** A result or event: a JSON line, or `human` (else the object's fields) on a terminal. */
  event: (obj: Record<string, unknown>, human?: string) => void
  progress: (done: number, total: number, label: string) => void
  endProgress: () => void
  /** Raw text for stdout (a CSV), whatever the mode. */
  raw: (text: string) => void
  error: (message: string) => void
}

export interface Streams { stdout: NodeJS.WritableStream & { isTTY?: boolean, columns?: number }, stderr: NodeJS.WritableStream & { isTTY?: boolean } }

const BAR = 30

export function createOutput ({ stdout, stderr }: Streams): Output {
  const interactive = stdout.isTTY === true && stderr.isTTY === true
  let barShown = false
  let last = ''
  const endProgress = () => {
    if (barShown) stderr.write('\n')
    barShown = false
  }
  return {
    interactive,
    event (obj, human) {
      if (!interactive) {
        stdout.write(`${JSON.stringify(obj)}\n`)
        return
      }
      endProgress()
      stdout.write(`${human ?? Object.entries(obj).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}\n`)
    },
    progress (done, total, label) {
      if (!interactive) {
        const line = JSON.stringify({ type: 'progress', label, processed: done, total })
        // A poll that saw no change says nothing new.
        if (line !== last) stdout.write(`${line}\n`)
        last = line
        return
      }
      const ratio = total > 0 ? Math.min(1, done / total) : 0
      const filled = Math.round(ratio * BAR)
      stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total} ${label}`)
      barShown = true
    },
    endProgress,
    raw: (text) => { stdout.write(text) },
    error (message) {
      endProgress()
      stderr.write(`massprov-client: ${message}\n`)
    },
  }
}
