// pako for the worker bundle: hdr-histogram-js requires it but compresses with node's zlib
// (JsHistogram.encoding.js tries `require("zlib")` first). Should it ever fall back here, these
// are the same zlib calls, so the encoding stays byte-identical (zlib format, default level).
'use strict';
const zlib = require('node:zlib');

exports.deflate = (data, options) => zlib.deflateSync(data, options);
exports.inflate = (data) => zlib.inflateSync(data);
