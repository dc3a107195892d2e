// The root layout: the whole HTML document. Every page renders inside {children}.
import type { ReactNode } from 'react'
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
          <a className="brand" href="/">
            vite-isr blog
          </a>
          <nav>
            <a href="/">Home</a>
            <a href="/blog">All posts</a>
            <a href="/now">Now</a>
          </nav>
        </header>
        {children}
      </body>
    </html>
  )
}
