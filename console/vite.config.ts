import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is served by ShopFlow itself under /console (src/assembly/console.ts).
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  logLevel: 'warn',
});
