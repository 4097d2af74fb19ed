// Vitest runs the TypeScript tests from source; the spec suite itself runs through `npm run spec`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Many tests start processes (the CLI, node:wasi references); on a loaded 2-core machine a
    // start alone can take seconds. A test that hangs still fails, just later.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
