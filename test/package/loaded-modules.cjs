// Preloaded (`node -r`) into a child process: when it exits, writes the files it required (require.cache,
// which holds every module of the compiled CommonJS CLI and what it loads) as JSON to $LOADED_MODULES_FILE.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify(Object.keys(require.cache)));
});
