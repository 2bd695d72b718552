/** Polls `check` every `everyMs` until it holds; fails naming `what` after `seconds`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  seconds: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}
