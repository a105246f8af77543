// `npm install` / `npm ci` in a checkout: build the service (tsc) and its admin page (Vite),
// so that `npm start` works right after. Skipped where the build tools are not installed
// (`npm ci --omit=dev` of a built artifact: dist/ and web/dist/ are already there) and under
// `npm pack` / `npm publish`, whose `prepack` builds.
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const command = process.env.npm_command;
if (command === 'pack' || command === 'publish') process.exit(0);
try {
  require.resolve('typescript/package.json');
  require.resolve('vite/package.json');
} catch {
  console.error('b24-mts-sms: build tools not installed (production install): not building.');
  process.exit(0);
}
execSync('npm run build', { stdio: 'inherit' });
