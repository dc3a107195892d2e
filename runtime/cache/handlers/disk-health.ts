/**
 * Whether the file-system handler's folder takes writes: a full or read-only disk is an
 * outage to ride out from memory (one warning, a back-off, one line when it is over), not
 * an error per request.
 */

/** Back-off between write attempts while the folder cannot be written, ms. */
const RETRY_MIN_MS = 5_000
const RETRY_MAX_MS = 60_000

/** Errors that say the disk cannot take writes now (full, read-only, no permission), not that vite-isr is wrong. */
const DISK_TROUBLE: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file size limit is reached',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an I/O error',
}

export function isDiskTrouble(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && Object.hasOwn(DISK_TROUBLE, code)
}

/**
 * Whether the folder takes writes. After a failure, writes are skipped (one warning for the
 * whole outage, not one per request) and one write is tried again after a back-off that
 * doubles up to a minute; the first that succeeds ends the outage with a second line.
 */
export function createDiskHealth(shown: string, now: () => number, warn: (message: string) => void) {
  let outage: { since: number; retryAt: number; wait: number; probing: boolean } | undefined
  return {
    /** Whether a write may be tried now (during an outage: one at a time, once the back-off is over). */
    mayWrite(): boolean {
      if (outage === undefined) return true
      if (outage.probing || now() < outage.retryAt) return false
      outage.probing = true
      return true
    },
    failed(error: NodeJS.ErrnoException): void {
      if (outage === undefined) {
        outage = { since: now(), retryAt: 0, wait: RETRY_MIN_MS, probing: false }
        const fix = error.code === 'ENOSPC' || error.code === 'EDQUOT' || error.code === 'EFBIG' ? 'free some space or lower cacheMaxDiskSize' : 'make it writable or set cacheDir to a writable folder'
        warn(
          `cannot write to the cache folder ${shown} (${error.code}: ${DISK_TROUBLE[error.code!]}); ` +
            `serving from memory and keeping new entries there only, trying again every ${RETRY_MIN_MS / 1000} to ${RETRY_MAX_MS / 1000} s. To fix it, ${fix}.`,
        )
      } else if (outage.probing) {
        outage.wait = Math.min(RETRY_MAX_MS, outage.wait * 2)
      }
      outage.probing = false
      outage.retryAt = now() + outage.wait
    },
    succeeded(): void {
      if (outage === undefined) return
      warn(`the cache folder ${shown} takes writes again: resumed writing entries (after ${Math.round((now() - outage.since) / 1000)} s in memory only)`)
      outage = undefined
    },
    /** A write attempt ended for another reason: let the next one try. */
    settled(): void {
      if (outage) outage.probing = false
    },
  }
}
