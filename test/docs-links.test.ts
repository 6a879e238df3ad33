import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const FILES = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

/** The text outside fenced code blocks, with inline code spans blanked: links and headings only live there. */
function prose (markdown: string): string[] {
  let fence = false
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fence = !fence
      return ''
    }
    return fence ? '' : line.replace(/`[^`]*`/g, '``')
  })
}

/** GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` removed, spaces to `-`. */
function slug (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

/** The anchors of a file's headings; a repeated heading gets `-1`, `-2`… as on GitHub. */
function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of prose(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!m) continue
    const base = slug(m[1]!.replace(/``/g, ''))
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** Every relative link `[text](path#anchor)` of a Markdown file (web and mail links left out). */
function relativeLinks (markdown: string): Array<{ path: string, anchor: string | undefined }> {
  const links: Array<{ path: string, anchor: string | undefined }> = []
  for (const line of prose(markdown)) {
    for (const m of line.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue
      const hash = target.indexOf('#')
      links.push(hash === -1 ? { path: target, anchor: undefined } : { path: target.slice(0, hash), anchor: target.slice(hash + 1) })
    }
  }
  return links
}

/** The links of `file` (relative to the repository) that name no file, or no heading of their file. */
function brokenLinks (file: string, markdown: string): string[] {
  const broken: string[] = []
  for (const { path, anchor } of relativeLinks(markdown)) {
    const target = path === '' ? join(ROOT, file) : join(dirname(join(ROOT, file)), decodeURIComponent(path))
    const shown = `${path}${anchor === undefined ? '' : '#' + anchor}`
    if (!existsSync(target)) {
      broken.push(`${file}: ${shown} (no file ${relative(ROOT, target)})`)
    } else if (anchor !== undefined && (statSync(target).isDirectory() || !anchors(readFileSync(target, 'utf8')).has(decodeURIComponent(anchor).toLowerCase()))) {
      broken.push(`${file}: ${shown} (no heading #${anchor} in ${relative(ROOT, target)})`)
    }
  }
  return broken
}

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('OAuth 2.0')).toBe('oauth-20')
    expect(slug('Imports (src/provisioning/intake.ts, src/jobs/import-job.ts)')).toBe('imports-srcprovisioningintakets-srcjobsimport-jobts')
    expect(slug('A walk-through with curl')).toBe('a-walk-through-with-curl')
    expect([...anchors('# A\n## B\n```\n# not a heading\n```\n## B\n')]).toEqual(['a', 'b', 'b-1'])
  })

  it('finds a broken file and a broken anchor', () => {
    const md = '[ok](README.md#start) [web](https://example.com/x.md) [gone](docs/nowhere.md) [bad](README.md#no-such-heading) `[code](not/a/link.md)`'
    expect(brokenLinks('CONTRIBUTING.md', md)).toEqual([
      'CONTRIBUTING.md: docs/nowhere.md (no file docs/nowhere.md)',
      'CONTRIBUTING.md: README.md#no-such-heading (no heading #no-such-heading in README.md)',
    ])
  })

  it.each(FILES)('every relative link of %s names an existing file and heading', (file) => {
    expect(brokenLinks(file, readFileSync(join(ROOT, file), 'utf8'))).toEqual([])
  })

  it('README.md stays under 10 KB', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThan(10_240)
  })

  it('every docs file is reachable from README.md in one click', () => {
    const linked = new Set(relativeLinks(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.path))
    expect(FILES.filter((f) => f.startsWith('docs/') && !linked.has(f))).toEqual([])
  })

  it('every test file the README\'s mission-completeness list names exists, and each Rainbow route of issue 15 has its line', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Mission completeness'), readme.indexOf('## Where next'))
    const named = [...section.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1]!)
    expect(named.length).toBeGreaterThan(10)
    expect(named.filter((f) => !existsSync(join(ROOT, f)))).toEqual([])
    for (const route of ['POST /users/imports/rainbowvoice/check', 'POST /users/imports/rainbowvoice`', 'GET /users/synchronize`']) expect(section).toContain(route)
  })
})
