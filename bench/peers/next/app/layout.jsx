// The fixture's root layout (bench/fixture/app/layout.tsx), with its title.
export const metadata = { title: 'vite-isr bench' }

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
