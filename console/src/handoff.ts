// Files carried between pages of this tab: the file an import was made from (for "retry the
// failed lines") and the file the Import page should open with.

const FILE = 'mp.file.'
const NEXT = 'mp.next'
// sessionStorage holds a few MB per origin: larger files are kept in memory only.
const MAX_STORED = 2_000_000
const memory = new Map<string, string>()

export function keepImportedFile (reqId: string, text: string): void {
  memory.set(reqId, text)
  if (text.length <= MAX_STORED) {
    // Over the quota the in-memory copy serves this page's life.
    try { sessionStorage.setItem(FILE + reqId, text) } catch { sessionStorage.removeItem(FILE + reqId) }
  }
}

export function importedFile (reqId: string): string | undefined {
  return memory.get(reqId) ?? sessionStorage.getItem(FILE + reqId) ?? undefined
}

export function openNext (text: string, name: string): void {
  sessionStorage.setItem(NEXT, JSON.stringify({ text, name }))
}

export function takeNext (): { text: string, name: string } | undefined {
  const raw = sessionStorage.getItem(NEXT)
  sessionStorage.removeItem(NEXT)
  return raw ? JSON.parse(raw) as { text: string, name: string } : undefined
}
