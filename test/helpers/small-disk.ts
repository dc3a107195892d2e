/**
 * A real small disk for the disk-trouble tests: a tmpfs mounted on a temp folder (the tests
 * run as root; `chmod` does not stop root, a mount does). Full means the kernel answers
 * ENOSPC, read-only means EROFS: the same refusals a real disk gives, nothing simulated.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, openSync, closeSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SmallDisk {
  /** The mount point. */
  dir: string
  /** Fill every free byte with a ballast file (the next write anywhere on it fails with ENOSPC). */
  fill(): void
  /** Delete the ballast. */
  free(): void
  readOnly(): void
  writable(): void
  remove(): void
}

export function mountSmallDisk(sizeKb = 512): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'vite-isr-small-disk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`the disk-trouble tests mount a ${sizeKb} kB tmpfs and need root for it (mount failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`)
  }
  const ballast = join(dir, 'ballast')
  const remount = (mode: 'ro' | 'rw') => execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' })
  return {
    dir,
    fill() {
      const fd = openSync(ballast, 'a')
      const chunk = Buffer.alloc(64 * 1024, 1)
      try {
        for (;;) writeSync(fd, chunk)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
      } finally {
        closeSync(fd)
      }
    },
    free: () => rmSync(ballast, { force: true }),
    readOnly: () => remount('ro'),
    writable: () => remount('rw'),
    remove() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' })
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
