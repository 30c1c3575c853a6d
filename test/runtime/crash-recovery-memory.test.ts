// kill -9 at random moments, 20 times, with memory state: see fixtures/crash-scenario.ts.
import { test } from 'node:test';
import { CRASH_TEST_TIMEOUT, crashScenario } from './fixtures/crash-scenario.ts';

for (const guarantee of ['exactly-once', 'at-least-once'] as const) {
  test(`SIGKILL at random moments, 20 times, while input arrives (memory state, ${guarantee})`, { timeout: CRASH_TEST_TIMEOUT }, () => crashScenario(guarantee, 'memory'));
}

test('SIGKILL at random moments, 20 times, while input arrives, the tasks on 2 worker threads (memory state, exactly-once)', { timeout: CRASH_TEST_TIMEOUT }, () => crashScenario('exactly-once', 'memory', 2));
