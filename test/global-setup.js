// Builds dist/ once per jest run: end-to-end tests spawn the bundled CLI and worker.
const { build } = require('../scripts/build.js');
module.exports = async () => { await build(); };
