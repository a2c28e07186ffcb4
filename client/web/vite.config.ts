/**
 * Builds the pages (viewer, streamer, operator, orders) into client/web/dist, which the server serves
 * at /viewer, /streamer, /operator, /orders and /assets/* (server/src/transport/StaticFiles.ts).
 * `npm run build:web` runs it; `npm start` and `npm test` build first.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const page = (name: string) => fileURLToPath(new URL(`./${name}.html`, import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
    // hls.js is one chunk of about 600 kB, loaded only by a viewer who falls back to HLS.
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      input: { viewer: page('viewer'), streamer: page('streamer'), operator: page('operator'), orders: page('orders'), shop: page('shop') },
      onwarn(warning, warn) {
        // zod's sources carry `@__PURE__` comments in places Rollup cannot use; harmless, and not ours.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
});
