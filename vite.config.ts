import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  plugins: [
    react(),
    // Installable (manifest, icons) and an offline start: a service worker (Workbox, generated at build
    // time from the bundle) precaches the app's own files. A page comes from the network when it answers
    // (a deploy shows at once) and otherwise is the precached index.html, which matches the precached
    // scripts. The page registers the worker (main.tsx). Market data never goes through it: websockets
    // bypass service workers, and no other request is cached.
    VitePWA({
      injectRegister: false,
      registerType: 'autoUpdate',
      includeManifestIcons: false,
      manifest: {
        name: 'gexdesk: dealer gamma exposure',
        short_name: 'gexdesk',
        description: 'Real-time dealer gamma exposure for crypto options',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#0a0e13',
        theme_color: '#121821',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png}'],
        // A new build takes over at once (the page keeps running; its next load is the new version).
        skipWaiting: true,
        clientsClaim: true,
        // Navigations (any view's link): the network, else the precached page (never an older cached copy
        // whose scripts may be gone).
        navigateFallback: null,
        runtimeCaching: [{
          urlPattern: ({ request }) => request.mode === 'navigate',
          handler: 'NetworkOnly',
          options: { precacheFallback: { fallbackURL: 'index.html' } },
        }],
      },
    }),
  ],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 1200 },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'server/**/*.test.ts', 'cli/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
