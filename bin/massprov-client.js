#!/usr/bin/env node
// The command-line client (an HTTP client of the API only). In a source checkout it runs the
// TypeScript through tsx; a built image (no src/, no dev dependencies) runs dist/.
import { existsSync } from 'node:fs'

const source = new URL('../src/client/main.ts', import.meta.url)
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api')
  register()
  await import(source.href)
} else {
  await import(new URL('../dist/client/main.js', import.meta.url).href)
}
