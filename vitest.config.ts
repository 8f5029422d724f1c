import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    // Hang detectors, not measurements: generous enough for a 2-core CI whose cores are both busy
    // (a test that starts processes under tsx took 3x its idle time there). Timing is in bench/.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    expect: { poll: { timeout: 120_000 } },
    // Two cores: run two files at a time; training tests are CPU-bound.
    maxWorkers: 2,
  },
});
