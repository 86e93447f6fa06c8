import t from 'tap';
import { retryDelay, retrySchedule } from '../../src/queue/retry.js';

t.test('retrySchedule: every delay the worker can ask for, once each, in order', async (t) => {
  t.same(retrySchedule(), [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000]);
  t.same(retrySchedule(100_000), [100_000, 200_000, 300_000]);
  for (let attempt = 1; attempt <= 40; attempt++) t.ok(retrySchedule().includes(retryDelay(attempt, 1000)), `retry ${attempt}`);
});
