// Jest transform: TypeScript → CommonJS with esbuild (types are checked apart by `tsc --noEmit`).
// esbuild is already a dependency, so tests need no native transform package of their own.
const crypto = require('node:crypto');
const esbuild = require('esbuild');

module.exports = {
  process(source, filename) {
    const result = esbuild.transformSync(source, {
      loader: filename.endsWith('.tsx') ? 'tsx' : 'ts',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: filename,
    });
    return { code: result.code };
  },
  getCacheKey(source, filename) {
    return crypto.createHash('sha1').update(esbuild.version).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
