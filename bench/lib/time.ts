export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `check` every `everyMs` until it returns true; throws naming `what` after `timeoutMs`.
 * `progress`, when given, is printed (to stderr) at most every 10 s.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 250,
  progress?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    if (progress && Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      process.stderr.write(`  … ${await progress()}\n`);
    }
    await sleep(everyMs);
  }
}
