import { describe, expect, it } from 'vitest'
import { isBot } from 'vite-isr/runtime'

describe('isBot', () => {
  it("recognises the crawlers and link-preview bots of Next.js's list, whatever the case", () => {
    for (const ua of [
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 (compatible; Googlebot/2.1)',
      'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
      'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
      'Mozilla/5.0 (compatible; YandexBot/3.0)',
      'Twitterbot/1.0',
    ]) {
      expect(isBot(ua), ua).toBe(true)
    }
  })

  it('takes browsers, curl and a missing header for people', () => {
    for (const ua of [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
      'curl/8.5.0',
      '',
      undefined,
    ]) {
      expect(isBot(ua), String(ua)).toBe(false)
    }
  })
})
