import { describe, expect, it } from 'vitest'
import { parseAst } from 'vite'
import { SERVER_ONLY_EXPORTS, stripServerCode } from '../../plugin/strip-server-code.js'

const ID = '/app/blog/[id]/page.tsx'

function strip(code: string): string | null {
  return stripServerCode(code, parseAst(code, { lang: 'tsx' }), ID)?.code ?? null
}

function stripped(code: string): string {
  const out = strip(code)
  expect(out).not.toBeNull()
  return out!
}

describe('stripServerCode', () => {
  it('lists the data and segment-config exports as server-only', () => {
    expect([...SERVER_ONLY_EXPORTS].sort()).toEqual(
      ['dynamic', 'dynamicParams', 'generateMetadata', 'generateStaticParams', 'loader', 'metadata', 'revalidate'].sort(),
    )
  })

  it('removes the loader and the database import only it used', () => {
    const out = stripped(
      [
        `import { db } from './db'`,
        `export async function loader({ params }) { return db.get(params.id) }`,
        `export default function Page({ data }) { return <h1>{data.title}</h1> }`,
      ].join('\n'),
    )
    expect(out).not.toContain('loader')
    expect(out).not.toContain('./db')
    expect(out).toContain('export default function Page({ data }) { return <h1>{data.title}</h1> }')
  })

  it('keeps an import that the component also uses', () => {
    const out = stripped(
      [
        `import { format, parse } from './dates'`,
        `export const loader = async () => ({ at: parse('2024') })`,
        `export default function Page({ data }) { return <p>{format(data.at)}</p> }`,
      ].join('\n'),
    )
    expect(out).toContain(`import { format } from './dates'`)
    expect(out).not.toContain('parse')
    expect(out).not.toContain('loader')
  })

  it('keeps side-effect imports even when the loader is removed', () => {
    const out = stripped(
      [`import './page.css'`, `export const revalidate = 60`, `export default function Page() { return null }`].join('\n'),
    )
    expect(out).toContain(`import './page.css'`)
    expect(out).not.toContain('revalidate')
  })

  it('removes a node:fs import used only by generateStaticParams', () => {
    const out = stripped(
      [
        `import fs from 'node:fs'`,
        `import path from 'node:path'`,
        `export function generateStaticParams() {`,
        `  return fs.readdirSync(path.join('posts')).map((id) => ({ id }))`,
        `}`,
        `export default function Page() { return <main /> }`,
      ].join('\n'),
    )
    expect(out).not.toContain('node:fs')
    expect(out).not.toContain('node:path')
    expect(out).not.toContain('generateStaticParams')
    expect(out).toContain('export default function Page()')
  })

  it('removes server names from export lists but keeps the other exported names', () => {
    const out = stripped(
      [
        `import { query } from './db'`,
        `const load = () => query()`,
        `function Other() { return null }`,
        `export { load as loader, Other }`,
        `export default function Page() { return <Other /> }`,
      ].join('\n'),
    )
    expect(out).toMatch(/export \{\s*Other\s*\}/)
    expect(out).not.toContain('load')
    expect(out).not.toContain('./db')
    expect(out).toContain('function Other()')
  })

  it('removes only the server-only declarator of a multi-declarator export', () => {
    const out = stripped(`export const a = 1, revalidate = 2, b = 3\nexport const dynamic = 'force-static', c = 4`)
    expect(out).toBe(`export const a = 1, b = 3\nexport const c = 4`)
  })

  it('keeps a server-only binding the component still uses, but no longer exports it', () => {
    const out = stripped(
      [`export const metadata = { title: 'Blog' }, x = 1`, `export default function Page() { return <h1>{metadata.title}</h1> }`].join('\n'),
    )
    expect(out).toContain(`const metadata = { title: 'Blog' }, x = 1`)
    expect(out).not.toMatch(/export const metadata/)
    expect(out).toContain('export { x };')
  })

  it('removes helpers transitively when they were only used by the loader', () => {
    const out = stripped(
      [
        `import { sql } from './db'`,
        `import { slugify } from './text'`,
        `function innerHelper(id) { return sql(id) }`,
        `const outerHelper = (id) => innerHelper(slugify(id))`,
        `function unrelatedUnused() {}`,
        `export const loader = ({ params }) => outerHelper(params.id)`,
        `export default function Page() { return <div /> }`,
      ].join('\n'),
    )
    expect(out).not.toContain('outerHelper')
    expect(out).not.toContain('innerHelper')
    expect(out).not.toContain('./db')
    expect(out).not.toContain('./text')
    expect(out).toContain('function unrelatedUnused() {}')
  })

  it('does not count property keys and member properties as references', () => {
    const out = stripped(
      [
        `import { db } from './db'`,
        `export const loader = () => db.all()`,
        `export default function Page(props) { return <p title={props.db}>{JSON.stringify({ db: 1 })}</p> }`,
      ].join('\n'),
    )
    expect(out).not.toContain('./db')
  })

  it('counts JSX element names, including member expressions, as references', () => {
    const out = stripped(
      [
        `import Card from './card'`,
        `import * as Ui from './ui'`,
        `export const loader = () => [Card, Ui]`,
        `export default function Page() { return <Card><Ui.Title /></Card> }`,
      ].join('\n'),
    )
    expect(out).toContain(`import Card from './card'`)
    expect(out).toContain(`import * as Ui from './ui'`)
  })

  it('returns null for a module without server-only exports', () => {
    expect(strip(`import a from './a'\nexport const title = 'x'\nexport default function Page() { return a }`)).toBeNull()
  })

  it('produces code that parses again and a source map for the module', () => {
    const code = `import { db } from './db'\nexport const loader = () => db.get()\nexport default function Page() { return <div /> }\n`
    const result = stripServerCode(code, parseAst(code, { lang: 'tsx' }), ID)!
    expect(() => parseAst(result.code, { lang: 'tsx' })).not.toThrow()
    expect(result.map.sources).toEqual([ID])
    expect(result.map.mappings).not.toBe('')
  })

  it('handles a TSX page with types and JSX, ignoring references from type positions', () => {
    const out = stripped(
      [
        `import type { Metadata } from 'vite-isr/runtime'`,
        `import { getPost, type Post } from './posts'`,
        `import { Layout } from './layout'`,
        `import { Store } from './store'`,
        `interface Props { data: Post; store?: Store }`,
        `export const metadata: Metadata = { title: 'Post' }`,
        `export async function loader({ params }: { params: { id: string } }): Promise<Post> {`,
        `  return getPost(new Store(), params.id) as Post`,
        `}`,
        `export default function Page({ data }: Props) {`,
        `  return <Layout<Post> item={data}>{data.title satisfies string}</Layout>`,
        `}`,
      ].join('\n'),
    )
    expect(out).not.toContain('./posts')
    expect(out).not.toContain('getPost')
    expect(out).toContain(`import { Layout } from './layout'`)
    expect(out).not.toContain('./store')
    expect(out).toContain('interface Props { data: Post; store?: Store }')
    expect(() => parseAst(out, { lang: 'tsx' })).not.toThrow()
  })

  it('strips a realistic page down to the component and its client dependencies', () => {
    const out = stripped(`import { useState } from 'react'
import Database from 'better-sqlite3'
import { notFound } from 'vite-isr/runtime'
import './post.css'

const db = new Database('blog.db', { readonly: true })

function getPost(id: string) {
  return db.prepare('SELECT * FROM posts WHERE id = ?').get(id) as { id: string; title: string; likes: number } | undefined
}

export const revalidate = 60
export const dynamicParams = true

export function generateStaticParams() {
  return db.prepare('SELECT id FROM posts').all()
}

export async function loader({ params }: { params: { id: string } }) {
  const post = getPost(params.id)
  if (!post) notFound()
  return post
}

export default function PostPage({ data }: { data: { title: string; likes: number } }) {
  const [likes, setLikes] = useState(data.likes)
  return (
    <article>
      <h1>{data.title}</h1>
      <button onClick={() => setLikes(likes + 1)}>{likes}</button>
    </article>
  )
}
`)
    expect(out).not.toContain('better-sqlite3')
    expect(out).not.toContain('notFound')
    expect(out).not.toContain('Database')
    expect(out).not.toContain('getPost')
    expect(out).toContain(`import { useState } from 'react'`)
    expect(out).toContain(`import './post.css'`)
    expect(out).toContain('export default function PostPage(')
    expect(out).toContain('const [likes, setLikes] = useState(data.likes)')
    expect(() => parseAst(out, { lang: 'tsx' })).not.toThrow()
  })
})
