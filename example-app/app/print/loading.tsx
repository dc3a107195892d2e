// The shell's content for app/print/[slug] (fallback = 'shell'): shown at once to a browser
// asking a print view never generated, inside the root layout, until the page is rendered.
export default function Loading() {
  return (
    <main>
      <p className="generated" aria-busy="true">Preparing the print version…</p>
    </main>
  )
}
