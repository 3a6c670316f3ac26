// Jest transform: TypeScript → CommonJS with esbuild (types are checked apart by `tsc --noEmit`).
// esbuild is already a dependency, so tests need no native transform package of their own.
const crypto = require('node:crypto');
const fs = require('node:fs');
const esbuild = require('esbuild');

// Part of every cache key: editing this transform invalidates what it produced before.
const SELF = fs.readFileSync(__filename, 'utf8');

module.exports = {
  process(source, filename) {
    const result = esbuild.transformSync(source, {
      loader: filename.endsWith('.tsx') ? 'tsx' : 'ts',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: filename,
      // jest runs CommonJS: lazy `await import('…')` becomes a require, as in the esbuild bundles.
      supported: { 'dynamic-import': false },
    });
    return { code: result.code };
  },
  getCacheKey(source, filename) {
    return crypto.createHash('sha1').update(SELF).update(esbuild.version).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
