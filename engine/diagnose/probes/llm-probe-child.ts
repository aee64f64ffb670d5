/**
 * Child process of the `llm` verify probe: load a GGUF with node-llama-cpp (prebuilt binaries
 * only, never a source build) and print what really loaded. Run as
 * `node llm-probe-child.js <model.gguf>`; a crash or hang here cannot take the installer down.
 */
const modelPath = process.argv[2];
if (!modelPath) {
  process.stderr.write('usage: llm-probe-child <model.gguf>\n');
  process.exit(2);
}
const { getLlama } = await import('node-llama-cpp');
const llama = await getLlama({ gpu: 'auto', build: 'never', maxThreads: 1 });
const model = await llama.loadModel({ modelPath, gpuLayers: 'max' });
const report = {
  gpu: llama.gpu,
  supportsGpuOffloading: llama.supportsGpuOffloading,
  gpuDeviceNames: await llama.getGpuDeviceNames(),
  buildType: llama.buildType,
  gpuLayers: model.gpuLayers,
  totalLayers: model.fileInsights.totalLayers,
};
process.stdout.write(`ORCHARD_PROBE ${JSON.stringify(report)}\n`);
await model.dispose();
await llama.dispose();
