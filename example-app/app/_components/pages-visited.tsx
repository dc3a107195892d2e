// State in the root layout: client navigation keeps the layout mounted, so this count
// grows as you follow links. A full page load (a plain <a>, a reload) starts it again at 1.
import { useEffect, useState } from 'react'
import { usePathname } from 'vite-isr/client'

export function PagesVisited() {
  const pathname = usePathname()
  const [count, setCount] = useState(0)
  useEffect(() => setCount((n) => n + 1), [pathname])
  return (
    <span className="visited" id="pages-visited" title="Pages seen without reloading the document">
      {count === 0 ? '' : `${count} ${count === 1 ? 'page' : 'pages'} this visit`}
    </span>
  )
}
