// Rendered, inside the root layout, with status 404 for unknown URLs and when a loader calls notFound().
export default function NotFound() {
  return (
    <main>
      <h1>Post not found</h1>
      <p id="not-found">There is nothing at this address.</p>
      <p>
        <a href="/blog">See all posts</a>
      </p>
    </main>
  )
}
