import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseDeviceListing, preflightVerdict } from '../../engine/services/diffusion/list-devices.js';
import { runtimeVerdict } from '../../engine/services/diffusion/runtime-verdict.js';
import { normaliseFrames, serverArgs, effectiveRequest, nativeBody } from '../../engine/services/diffusion/sd-args.js';
import { SdOutputReader, type SdOutputEvent } from '../../engine/services/diffusion/sd-output-reader.js';
import { TerminalLines } from '../../engine/services/diffusion/terminal-lines.js';
import { fixturesDir } from '../helpers/paths.js';

const sdcpp = path.join(fixturesDir, 'sdcpp');
const log = (name: string): string => readFileSync(path.join(sdcpp, 'logs', name), 'utf8');

/** Render a captured transcript the way sd.cpp writes it (bars: "\r" + bar + ESC[K, newline after the last step). */
function asTerminal(text: string): string {
  let out = '';
  for (const line of text.replace(/\n$/, '').split('\n')) {
    if (/^ {2}\|/.test(line)) {
      const m = /\| (\d+)\/(\d+) - /.exec(line);
      const glued = line.replace('←[K', '\x1b[K');
      out += `\r${glued}${glued.includes('\x1b[K') ? '\n' : `\x1b[K${m && m[1] === m[2] ? '\n' : ''}`}`;
    } else out += `${line}\n`;
  }
  return out;
}

/** Feed terminal output through the same splitter the service uses, in awkward chunks. */
function readAll(terminal: string, reader = new SdOutputReader()): SdOutputEvent[] {
  const events: SdOutputEvent[] = [];
  const splitter = new TerminalLines((line) => events.push(...reader.read(line)));
  for (let i = 0; i < terminal.length; i += 7) splitter.push(terminal.slice(i, i + 7));
  splitter.flush();
  return events;
}

const steps = (events: SdOutputEvent[]) => events.flatMap((e) => (e.type === 'step' ? [e.step] : []));

test('carriage-return step bars in s/it become steps 1..12 of 40 with their speed', () => {
  const terminal = asTerminal(log('vulkan.job.log'));
  assert.equal(terminal.split('\n').length < 12, true, 'the bars really share lines, separated only by \\r');
  const got = steps(readAll(terminal));
  assert.deepEqual(
    got.map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
  assert.ok(got.every((s) => s.steps === 40 && s.unit === 's/it'));
  assert.equal(got[0]?.speed, 15.66);
  assert.equal(got[11]?.secondsPerStep, 13.52);
});

test('a bar is read as soon as it is complete, before the next carriage return arrives', () => {
  const reader = new SdOutputReader();
  const seen: SdOutputEvent[] = [];
  const lines = new TerminalLines((line) => seen.push(...reader.read(line)));
  lines.push('\r  |=>                                                | 1/40 - 15.66s/it\x1b[K');
  assert.deepEqual(
    steps(seen).map((s) => s.step),
    [1],
  );
  lines.push('\r  |==>                                               | 2/40 - 14.51s/it');
  assert.deepEqual(
    steps(seen).map((s) => s.step),
    [1],
    'half a bar is not read',
  );
  lines.push('\x1b[K');
  assert.deepEqual(
    steps(seen).map((s) => s.step),
    [1, 2],
  );
});

test('it/s bars are converted to seconds per step', () => {
  const got = steps(readAll(asTerminal(log('cuda.job.log'))));
  assert.equal(got.length, 1);
  assert.equal(got[0]?.unit, 'it/s');
  assert.equal(got[0]?.speed, 7.62);
  assert.ok(Math.abs((got[0]?.secondsPerStep ?? 0) - 1 / 7.62) < 1e-9);
});

test('weight-loading bars (# and = styles, MB/s and GB/s) are never taken for sampling steps', () => {
  for (const name of ['vulkan.startup.log', 'video.startup.log', 'cuda.startup.log', 'loading-eq-glued.log']) {
    const events = readAll(asTerminal(log(name)));
    assert.deepEqual(steps(events), [], name);
    assert.ok(
      events.some((e) => e.type === 'loading'),
      `${name} has loading bars`,
    );
  }
});

test('a log line glued after a step bar still counts, and the bar still counts as a step', () => {
  const reader = new SdOutputReader();
  const events = readAll(asTerminal(log('metal-ram.job.log')), reader);
  assert.deepEqual(
    steps(events).map((s) => `${s.step}/${s.steps}`),
    ['17/20', '18/20', '19/20', '20/20'],
  );
  const vae = reader.memory.compute.find((c) => c.runner === 'vae');
  assert.deepEqual(vae, { runner: 'vae', mb: 1664, where: 'RAM' });
  assert.ok(
    reader.memory.evidence.every((line) => line.startsWith('[DEBUG]')),
    'evidence is the log line, not the bar',
  );
});

test('phases follow the INFO lines and decoding ends in saving', () => {
  const phases = readAll(asTerminal(log('cuda.job.log'))).flatMap((e) => (e.type === 'phase' ? [e.phase] : []));
  assert.equal(phases[0], 'conditioning');
  assert.ok(phases.includes('sampling'));
  assert.ok(phases.indexOf('decoding') > phases.lastIndexOf('sampling'));
  assert.equal(phases.at(-1), 'saving');
});

test('memory placement: every module per line, RAM modules reported, verdict partial on a GPU backend', () => {
  const reader = new SdOutputReader();
  readAll(asTerminal(log('metal-ram.startup.log')), reader);
  assert.deepEqual(
    reader.memory.params.map((p) => `${p.module}:${p.where}`),
    ['clip:RAM', 'unet:VRAM', 'vae:VRAM', 'controlnet:VRAM', 'pmid:RAM'],
  );
  const devices = parseDeviceListing(readFileSync(path.join(sdcpp, 'devices', 'metal.txt'), 'utf8'));
  const pre = preflightVerdict('metal', devices);
  assert.equal(pre.fallback, 'none');
  assert.equal(pre.backend, 'metal');
  const verdict = runtimeVerdict(pre, reader.memory, { offloadToCpu: false });
  assert.equal(verdict.fallback, 'partial');
  assert.ok(verdict.advice.some((a) => a.includes('clip (9319 MB)')));
  assert.ok(verdict.evidence.some((e) => e.includes('clip 9318.83MB(RAM)')));
  // With --offload-to-cpu, weights in RAM are expected (compute stays on the GPU).
  assert.equal(runtimeVerdict(pre, reader.memory, { offloadToCpu: true }).fallback, 'none');

  const cuda = new SdOutputReader();
  readAll(asTerminal(log('cuda.startup.log')), cuda);
  assert.ok(cuda.memory.params.every((p) => p.where === 'VRAM'));
  assert.deepEqual(cuda.memory.params.map((p) => p.module).slice(0, 3), ['text_encoders', 'diffusion_model', 'vae']);
});

test('device listings: the expected device decides; a CPU-only listing is a full fallback for a GPU backend', () => {
  const listing = (name: string) => parseDeviceListing(readFileSync(path.join(sdcpp, 'devices', name), 'utf8'));
  const cpuOnly = listing('cpu.txt');
  assert.deepEqual(
    cpuOnly.map((d) => d.name),
    ['CPU'],
  );
  for (const backend of ['metal', 'cuda0', 'vulkan0'] as const) {
    const v = preflightVerdict(backend, cpuOnly);
    assert.equal(v.fallback, 'full', backend);
    assert.equal(v.backend, 'cpu');
    assert.ok(v.evidence.some((e) => e.startsWith('CPU\tAMD Ryzen 7 8745HS')));
    assert.ok(v.advice.length >= 2);
  }
  assert.equal(preflightVerdict('cuda0', listing('cuda.txt')).fallback, 'none');
  assert.equal(preflightVerdict('metal', listing('cuda.txt')).fallback, 'full');
  assert.equal(preflightVerdict('cuda0', listing('metal.txt')).fallback, 'full');
  // The user chose the CPU on a machine with a GPU: allowed, but the verdict says a GPU sits idle.
  const chosenCpu = preflightVerdict('cpu', listing('cuda.txt'));
  assert.equal(chosenCpu.fallback, 'full');
  assert.match(chosenCpu.advice[0] ?? '', /--backend cuda0/);
  assert.equal(preflightVerdict('cpu', cpuOnly).fallback, 'none');
  // Older ggml names the Metal device "Metal".
  assert.equal(preflightVerdict('metal', parseDeviceListing('Metal\tApple M1 Pro\n')).fallback, 'none');
});

test('server argv: explicit backend always, loopback, -v, vid_gen for video', () => {
  const image = serverArgs({
    media: 'image',
    models: { diffusionModel: '/m/flux.gguf', vae: '/m/ae.safetensors', clipL: '/m/clip_l.safetensors', t5xxl: '/m/t5.gguf' },
    backend: 'metal',
    port: 4321,
  });
  assert.deepEqual(image.slice(image.indexOf('--backend'), image.indexOf('--backend') + 2), ['--backend', 'metal']);
  assert.ok(!image.includes('auto'));
  assert.ok(!image.includes('-M'));
  assert.deepEqual(image.slice(image.indexOf('--listen-ip'), image.indexOf('--listen-ip') + 4), [
    '--listen-ip',
    '127.0.0.1',
    '--listen-port',
    '4321',
  ]);
  assert.ok(image.includes('--clip_l') && image.includes('--t5xxl') && image.includes('-v'));
  const video = serverArgs({
    media: 'video',
    models: { diffusionModel: '/m/wan.gguf', clipVision: '/m/cv.safetensors' },
    backend: 'cuda0',
    port: 1,
    offloadToCpu: true,
  });
  assert.deepEqual(video.slice(0, 2), ['-M', 'vid_gen']);
  assert.ok(video.includes('--clip_vision') && video.includes('--offload-to-cpu'));
});

test('frames are normalised to 4n+1 and Wan 2.1 defaults to 16 fps', () => {
  assert.deepEqual([33, 34, 32, 81, 1, 5].map(normaliseFrames), [33, 33, 29, 81, 1, 5]);
  const video = effectiveRequest({ kind: 'text-to-video', prompt: 'x', frames: 50 });
  assert.equal(video.frames, 49);
  assert.equal(video.fps, 16);
  const body = nativeBody(video);
  assert.equal(body.path, '/sdcpp/v1/vid_gen');
  assert.equal(body.body.video_frames, 49);
  assert.equal(nativeBody(effectiveRequest({ kind: 'text-to-image', prompt: 'x', steps: 4 })).path, '/sdcpp/v1/img_gen');
});
