// GET /robots.txt
import type { MetadataRoute } from 'vite-isr/runtime'
import { SITE_URL } from '../server/site'

export default function robots(): MetadataRoute.Robots {
  return {
    rules: { userAgent: '*', allow: '/', disallow: '/api/' },
    sitemap: `${SITE_URL}/sitemap.xml`,
  }
}
