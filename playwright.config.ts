import { defineConfig } from '@playwright/test';

// Playwright cannot download its own browser here: use Debian's Chromium (installed by .ci/run).
const E2E_PORT = Number(process.env.GEXDESK_E2E_PORT ?? 8791);

export default defineConfig({
  testDir: 'e2e',
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    viewport: { width: 1920, height: 1080 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    },
  },
  webServer: {
    // The local venue server in sim mode with a fixed seed serves the built app and the simulated venues.
    command: `node --import tsx server/main.ts --source sim --seed 42 --port ${E2E_PORT} --serve dist`,
    url: `http://127.0.0.1:${E2E_PORT}/`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
