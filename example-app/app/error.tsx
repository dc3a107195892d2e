// Shown when a page throws while rendering on a MISS. (When a regeneration fails, the
// last good page keeps being served instead and the error is logged.)
export default function ErrorPage({ error }: { error: { message: string; digest?: string } }) {
  return (
    <main>
      <h1>Something went wrong</h1>
      <p>The page could not be rendered. Please try again in a moment.</p>
      {error.digest ? <p className="meta">Reference: {error.digest}</p> : null}
    </main>
  )
}
