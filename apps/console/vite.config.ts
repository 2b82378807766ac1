import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Everything is bundled into dist/ (no CDN fonts or scripts): the console must work on a
// manager that has no internet access. The manager serves dist/ at `/`.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/api': { target: process.env.PALISADE_MANAGER_URL ?? 'https://127.0.0.1:4119', secure: false } } },
});
