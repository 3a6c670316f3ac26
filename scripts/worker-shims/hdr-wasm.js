// hdr-histogram-js's WebAssembly histograms (dist/wasm) for the worker bundle: never built
// (worker/metrics/histogram.ts asks for `useWebAssembly: false`), so neither the embedded wasm
// binary nor @assemblyscript/loader is shipped. `WasmHistogram` stays a class so that
// hdr-histogram-js's `instanceof WasmHistogram` checks answer false.
'use strict';

function unavailable() {
  throw new Error('hdr-histogram-js WebAssembly histograms are left out of the worker bundle (scripts/worker-bundle.js)');
}

class WasmHistogram {
  static build() {
    return unavailable();
  }
  static decode() {
    return unavailable();
  }
}

exports.webAssemblyAvailable = false;
exports.webAssemblyReady = () => false;
exports.initWebAssembly = () => Promise.reject(new Error('hdr-histogram-js WebAssembly histograms are left out of the worker bundle'));
exports.initWebAssemblySync = unavailable;
exports.WasmHistogram = WasmHistogram;
