#!/usr/bin/env node
/**
 * Makes sure Debian's Chromium is installed for the end-to-end tests (tests/e2e), which drive it
 * with playwright-core, with fonts for Latin, Chinese and emoji text (the pages show all three).
 * Runs before `npm test` (the `pretest` script).
 *
 * - Chromium present (CHROMIUM_PATH, default /usr/bin/chromium) and the fonts installed: says so and exits at once.
 * - Something missing, running as root on a system with apt-get: `apt-get update` then
 *   `apt-get install -y --no-install-recommends` of what is missing among chromium,
 *   fonts-dejavu-core, fonts-noto-cjk and fonts-noto-color-emoji, printing what it does.
 * - Chromium missing otherwise: prints how to install it and exits 1 (the e2e tests cannot run
 *   without it); fonts missing otherwise: a warning (pages render, with boxes for those glyphs).
 *
 * Idempotent: a second run finds everything and does nothing.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const fonts = ['fonts-dejavu-core', 'fonts-noto-cjk', 'fonts-noto-color-emoji'];

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(command, args) {
  console.log(`ensure-chromium: $ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** Whether Debian's package `name` is installed (false where dpkg is not there to ask). */
function installed(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

const missingFonts = executable('/usr/bin/dpkg-query') ? fonts.filter((name) => !installed(name)) : [];
// ffmpeg: the media tests' encoder stand-in, and what the HLS rendition and the RTMP relay run. The
// worker's build installs it too, but a machine that reuses a cached worker skips that build.
const missingTools = executable('/usr/bin/ffmpeg') ? [] : ['ffmpeg'];
const hasChromium = executable(path);
if (hasChromium && missingFonts.length === 0 && missingTools.length === 0) {
  console.log(`ensure-chromium: ${path} is installed`);
  process.exit(0);
}
const packages = [...(hasChromium ? [] : ['chromium']), ...missingFonts, ...missingTools];

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = executable('/usr/bin/apt-get');
if (hasChromium && (!isRoot || !hasApt)) {
  console.warn(`ensure-chromium: missing and not installable here: ${[...missingFonts, ...missingTools].join(' ')} (without the fonts, Chinese or emoji text shows as boxes; without ffmpeg, HLS, RTMP and the media ingest tests cannot run)`);
  process.exit(0);
}
if (!isRoot || !hasApt) {
  console.error(
    `ensure-chromium: ${path} is missing and cannot be installed automatically (${!hasApt ? 'no apt-get' : 'not root'}).\n` +
      `  Install Chromium (Debian: sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium binary.`,
  );
  process.exit(1);
}

console.log(`ensure-chromium: installing Debian's ${packages.join(' ')} (once per machine)`);
try {
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', '--no-install-recommends', ...packages]);
} catch (error) {
  console.error(`ensure-chromium: install failed: ${error.message}`);
  process.exit(1);
}
if (!executable(path)) {
  console.error(`ensure-chromium: installed, but ${path} is still missing`);
  process.exit(1);
}
console.log(`ensure-chromium: ${path} is installed`);
