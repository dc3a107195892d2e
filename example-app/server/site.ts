// The site's public address, for the absolute URLs of the feed, the sitemap and robots.txt.
export const SITE_URL = (process.env.SITE_URL ?? 'http://localhost:3000').replace(/\/+$/, '')
