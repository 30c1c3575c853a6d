/** Retrying a Kafka call that fails for a while by design (offsets or a transaction still settling). */

/** Runs `action` again while it fails with what `retry` accepts, with growing pauses, for at most `boundMs`. */
export async function retryWhile<T>(action: () => Promise<T>, retry: (error: unknown) => boolean, boundMs: number): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (!retry(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, 2 + attempt * 5)));
    }
  }
}
