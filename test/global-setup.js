// Builds dist/ once per jest run: end-to-end tests spawn the bundled CLI and worker.
const { build } = require('../scripts/build.js');
module.exports = async () => {
  // The AWS SDK warns on every client under Node 20 (see shared/TOOLCHAIN.md).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  await build();
};
