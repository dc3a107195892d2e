import { describe, expect, it } from 'vitest'
import {
  SegmentConfigError,
  effectiveConfig,
  mergeRevalidate,
  readSegmentConfig,
} from '../../plugin/segment-config.js'

const FILE = 'app/blog/page.tsx'

function errorOf(code: string, file = FILE): SegmentConfigError {
  try {
    readSegmentConfig(code, file)
  } catch (err) {
    expect(err).toBeInstanceOf(SegmentConfigError)
    return err as SegmentConfigError
  }
  throw new Error('expected readSegmentConfig to throw')
}

describe('readSegmentConfig', () => {
  it.each([
    ['export const revalidate = 60', { revalidate: 60 }],
    ['export const revalidate = 0', { revalidate: 0 }],
    ['export const revalidate = 1.5', { revalidate: 1.5 }],
    ['export const revalidate = false', { revalidate: false }],
    ['export const dynamicParams = false', { dynamicParams: false }],
    ['export const dynamicParams = true', { dynamicParams: true }],
    ["export const dynamic = 'force-static'", { dynamic: 'force-static' }],
    ['export const dynamic = "force-dynamic"', { dynamic: 'force-dynamic' }],
    ["export const dynamic = 'error' as const", { dynamic: 'error' }],
  ])('accepts the literal in `%s`', (code, expected) => {
    expect(readSegmentConfig(code, FILE)).toMatchObject(expected)
  })

  it('leaves config fields undefined when the module does not export them', () => {
    const result = readSegmentConfig('export default function Page() { return null }', FILE)
    expect(result.revalidate).toBeUndefined()
    expect(result.dynamicParams).toBeUndefined()
    expect(result.dynamic).toBeUndefined()
  })

  it('rejects an expression with the file, line and the found source text', () => {
    const code = "import x from './x'\n\nexport const revalidate = 60 * 10\n"
    const err = errorOf(code)
    expect(err.message).toBe(
      '[vite-isr] app/blog/page.tsx:3: `revalidate` must be a literal number >= 0 or false (found `60 * 10`). ' +
        'Write the value out, e.g. `export const revalidate = 600`.',
    )
    expect(err).toMatchObject({ file: FILE, line: 3, column: 27 })
    expect(err.frame).toContain('> 3 | export const revalidate = 60 * 10')
    expect(err.frame).toContain(`    | ${' '.repeat(26)}^`)
  })

  it('suggests the value of a constant expression written out, and 600 when it cannot fold one', () => {
    expect(errorOf('export const revalidate = 60 * 5').message).toContain('e.g. `export const revalidate = 300`')
    expect(errorOf('export const revalidate = (2 + 1) * 60 as const').message).toContain('e.g. `export const revalidate = 180`')
    expect(errorOf('export const revalidate = HOUR * 2').message).toContain('e.g. `export const revalidate = 600`')
    expect(errorOf('export const revalidate = 1 - 5').message).toContain('e.g. `export const revalidate = 600`')
  })

  it('rejects identifiers, template literals, calls and Infinity as non-literals', () => {
    for (const value of ['HOUR', '`60`', 'getRevalidate()', 'Infinity', 'NaN']) {
      expect(errorOf(`export const revalidate = ${value}`).message).toContain(`(found \`${value}\`). Write the value out`)
    }
  })

  it('reports a negative revalidate as negative rather than as a non-literal', () => {
    expect(errorOf('export const revalidate = -1').message).toBe(
      '[vite-isr] app/blog/page.tsx:1: `revalidate` must be a literal number >= 0 or false (found `-1`). ' +
        'Use 0 to render on every request, a number of seconds, or false to cache until revalidated on demand.',
    )
  })

  it('rejects a string revalidate and suggests the unquoted number', () => {
    expect(errorOf("export const revalidate = '60'").message).toContain(
      "(found `'60'`). Write it as a number without quotes, e.g. `export const revalidate = 60`.",
    )
  })

  it('rejects revalidate = true', () => {
    expect(errorOf('export const revalidate = true').message).toContain('(found `true`). Use 0 to render')
  })

  it('truncates long found expressions to about 40 characters', () => {
    const message = errorOf(`export const revalidate = compute(${'a, '.repeat(30)}b)`).message
    expect(message).toContain('(found `compute(a, a, a, a, a, a, a, a, a, a,...`)')
  })

  it('rejects a non-boolean dynamicParams and an unknown dynamic value, listing the allowed values', () => {
    expect(errorOf("export const dynamicParams = 'false'").message).toMatch(
      /^\[vite-isr\] app\/blog\/page\.tsx:1: `dynamicParams` must be a literal true or false \(found `'false'`\)\./,
    )
    expect(errorOf("export const dynamic = 'static'").message).toContain(
      "`dynamic` must be one of the string literals 'auto', 'force-static', 'force-dynamic' or 'error' (found `'static'`)",
    )
  })

  it.each([
    ["export { revalidate } from './config'", 'revalidate'],
    ['const sixty = 60\nexport { sixty as revalidate }', 'revalidate'],
    ['export let revalidate = 60', 'revalidate'],
    ['export var dynamic = "auto"', 'dynamic'],
    ['export function dynamicParams() { return true }', 'dynamicParams'],
    ['export const { revalidate } = config', 'revalidate'],
  ])('rejects `%s` as not declared with export const', (code, name) => {
    const err = errorOf(code)
    expect(err.message).toContain(`\`${name}\` must be declared as \`export const ${name} = <literal>\``)
    expect(err.line).toBe(code.split('\n').length)
  })

  it.each([
    ['export const loader = async () => ({})'],
    ['export function loader() {}'],
    ['export async function loader() {}'],
    ['async function loader() {}\nexport { loader }'],
    ['async function load() {}\nexport { load as loader }'],
    ["export { loader } from './data'"],
  ])('detects the loader export in `%s`', (code) => {
    expect(readSegmentConfig(code, FILE)).toMatchObject({ hasLoader: true, hasGenerateStaticParams: false })
  })

  it.each([
    ['export const generateStaticParams = () => []'],
    ['export function generateStaticParams() { return [] }'],
    ['export async function generateStaticParams() { return [] }'],
    ['async function params() { return [] }\nexport { params as generateStaticParams }'],
  ])('detects generateStaticParams in `%s`', (code) => {
    expect(readSegmentConfig(code, FILE)).toMatchObject({ hasGenerateStaticParams: true, hasLoader: false })
  })

  it('detects default, metadata and generateMetadata exports and ignores type-only exports', () => {
    const code = [
      'export const metadata = { title: "Blog" }',
      'export async function generateMetadata() { return {} }',
      'export default function Page() { return <main /> }',
      'export type loader = () => void',
    ].join('\n')
    expect(readSegmentConfig(code, FILE)).toEqual({
      hasDefault: true,
      hasLoader: false,
      hasGenerateStaticParams: false,
      hasGenerateMetadata: true,
      hasMetadata: true,
    })
    expect(readSegmentConfig("export { Page as default } from './Page'", FILE).hasDefault).toBe(true)
    expect(readSegmentConfig('export const x = 1', FILE).hasDefault).toBe(false)
  })

  it('parses TypeScript syntax: types, interfaces, generics, satisfies and JSX', () => {
    const code = `
      import type { Loader } from 'vite-isr/runtime'
      interface Props { slug: string }
      type Params = { slug: string }[]
      export const revalidate: number = 30
      export const dynamic = 'force-static' satisfies 'auto' | 'force-static'
      export const loader: Loader = async ({ params }) => ({ slug: params.slug as string })
      export function generateStaticParams<T>(): Params { return [] }
      export default function Page({ slug }: Props) { return <h1>{slug!}</h1> }
    `
    expect(readSegmentConfig(code, FILE)).toMatchObject({
      revalidate: 30,
      dynamic: 'force-static',
      hasLoader: true,
      hasGenerateStaticParams: true,
      hasDefault: true,
    })
  })

  it('parses .ts files without JSX, where `<T>x` is a type assertion', () => {
    expect(readSegmentConfig('const n = <number>(60 as unknown)\nexport const revalidate = 60', 'app/layout.ts').revalidate).toBe(60)
  })

  it('turns a syntax error into a SegmentConfigError with file and line', () => {
    const err = errorOf('export const revalidate = 60\nexport const = 5\n')
    expect(err.message).toMatch(/^\[vite-isr\] app\/blog\/page\.tsx:2: could not parse/)
    expect(err.line).toBe(2)
    expect(err.frame).toContain('> 2 | export const = 5')
  })
})

describe('mergeRevalidate', () => {
  it('picks the lowest value and treats false as infinity', () => {
    expect(mergeRevalidate([false, 3600, undefined, 60, false])).toBe(60)
    expect(mergeRevalidate([false, 0, 60])).toBe(0)
    expect(mergeRevalidate([undefined, false, 10])).toBe(10)
  })

  it('defaults to false when nothing sets a number', () => {
    expect(mergeRevalidate([])).toBe(false)
    expect(mergeRevalidate([undefined, false])).toBe(false)
  })
})

describe('effectiveConfig', () => {
  it('forces revalidate to 0 when any segment is force-dynamic', () => {
    expect(effectiveConfig([{ dynamic: 'force-dynamic' }, { revalidate: 600 }], { revalidate: 60 })).toEqual({
      revalidate: 0,
      dynamicParams: true,
      dynamic: 'force-dynamic',
      fallback: 'blocking',
    })
    expect(effectiveConfig([{ revalidate: 600 }], { revalidate: false, dynamic: 'force-dynamic' }).revalidate).toBe(0)
  })

  it('merges revalidate over layouts and page and applies defaults', () => {
    expect(effectiveConfig([], {})).toEqual({ revalidate: false, dynamicParams: true, dynamic: 'auto', fallback: 'blocking' })
    expect(effectiveConfig([{ revalidate: 30 }, { revalidate: false }], { revalidate: 300 }).revalidate).toBe(30)
  })

  it('takes dynamicParams and dynamic from the page, else the nearest layout', () => {
    const layouts = [{ dynamicParams: true, dynamic: 'error' as const }, { dynamicParams: false, dynamic: 'force-static' as const }]
    expect(effectiveConfig(layouts, {})).toMatchObject({ dynamicParams: false, dynamic: 'force-static' })
    expect(effectiveConfig(layouts, { dynamicParams: true, dynamic: 'auto' })).toMatchObject({ dynamicParams: true, dynamic: 'auto' })
  })
})
