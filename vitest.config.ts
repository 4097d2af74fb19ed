// Vitest runs the TypeScript tests from source; the spec suite itself runs through `npm run spec`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
  },
});
