// The root layout: the whole HTML document. Every page renders inside {children}.
import type { ReactNode } from 'react'
// <Link> swaps pages in place (the data comes from the same ISR cache as the HTML); it is a
// plain <a> for crawlers and without JavaScript.
import { Link } from 'vite-isr/client'
import { PagesVisited } from './_components/pages-visited'
// CSS imported by a layout or page is bundled by Vite and linked from every page that uses it.
import './globals.css'

// Default metadata; a page's `metadata` / `generateMetadata` overrides it.
export const metadata = { title: 'The vite-isr blog', description: 'A small blog served with Incremental Static Regeneration.' }

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </head>
      <body>
        <header className="site-header">
          <Link className="brand" href="/">
            vite-isr blog
          </Link>
          <nav>
            <Link href="/">Home</Link>
            <Link href="/blog">All posts</Link>
            <Link href="/now">Now</Link>
          </nav>
          <PagesVisited />
        </header>
        {children}
      </body>
    </html>
  )
}
