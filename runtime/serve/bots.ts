/**
 * Crawlers, as Next.js tells them apart (`isBot` of `next/server`, the user agents its
 * bot-aware fallback serves the full page to): search engines and link-preview fetchers
 * must get a page's content, never a loading shell.
 */
const BOT_USER_AGENTS = [
  'Googlebot', 'Mediapartners-Google', 'AdsBot-Google', 'googleweblight', 'Storebot-Google', 'Google-PageRenderer',
  'Google-InspectionTool', 'Bingbot', 'BingPreview', 'Slurp', 'DuckDuckBot', 'baiduspider', 'yandex', 'sogou',
  'LinkedInBot', 'bitlybot', 'tumblr', 'vkShare', 'quora link preview', 'facebookexternalhit', 'facebookcatalog',
  'Twitterbot', 'applebot', 'redditbot', 'Slackbot', 'Discordbot', 'WhatsApp', 'SkypeUriPreview', 'ia_archiver',
]

const BOT = new RegExp(BOT_USER_AGENTS.join('|'), 'i')

/** Whether a `User-Agent` header names a crawler or a link-preview bot (Next.js's list). */
export function isBot(userAgent: string | null | undefined): boolean {
  return typeof userAgent === 'string' && BOT.test(userAgent)
}
