import { useEffect, useState } from 'preact/hooks'

const BASE = '/console/'

/** The page path below /console/ ('' is the Import page). */
export function currentPath (): string {
  return location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length).replace(/\/+$/, '') : ''
}

const listeners = new Set<() => void>()

export function navigate (path: string): void {
  history.pushState(null, '', BASE + path)
  for (const l of listeners) l()
}

export function usePath (): string {
  const [path, setPath] = useState(currentPath())
  useEffect(() => {
    const update = () => setPath(currentPath())
    listeners.add(update)
    addEventListener('popstate', update)
    return () => { listeners.delete(update); removeEventListener('popstate', update) }
  }, [])
  return path
}

/** A link that stays in the page (a real href, so it opens in a new tab too). */
export function linkProps (path: string) {
  return {
    href: BASE + path,
    onClick: (e: MouseEvent) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return
      e.preventDefault()
      navigate(path)
    },
  }
}
