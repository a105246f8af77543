import bitrix24UIPluginVite from '@bitrix24/b24ui-nuxt/vite';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/**
 * The admin page: Vue with Bitrix24's own UI kit (it looks native inside the portal) and uPlot
 * for the charts, built into `web/dist` and served by the service under `/app/` — nothing is
 * loaded from a CDN at run time. The strings come from `src/i18n/page.ts`.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  plugins: [
    vue(),
    bitrix24UIPluginVite({
      router: false,
      colorMode: false,
      // No generated declaration files in the source tree.
      autoImport: { dts: false },
      components: { dts: false },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The bundle's size is reported; one chunk is fine for a page opened once per visit.
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: true,
  },
  server: { fs: { allow: ['..'] } },
});
