import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Plan, PlannedStep } from '../../engine/recipe/plan-types.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

// Every media recipe, validated and planned through the real CLI for the three named profiles.
const SDCPP = ['sdcpp-engine', 'flux1-schnell', 'flux1-dev', 'wan21-t2v-1-3b', 'wan21-t2v-14b', 'wan21-i2v-14b-480p'];
const MEDIA = SDCPP.filter((id) => id !== 'sdcpp-engine');
const PYTHON = ['comfyui', 'wan2gp', 'mflux'];
const SD_COMMIT = '97d2990807fe6d558e395f8764198d7c7e7b411c';

let home: { dir: string; cleanup: () => Promise<void> };
const recipeDir = (id: string) => path.join(repoRoot, 'recipes', id);
const planKey = (id: string, profile: string, inputs: Record<string, string>) => `${id} ${profile} ${JSON.stringify(inputs)}`;
const plans = new Map<string, Promise<Plan>>();

/** `orchard plan … --json` through the real CLI, once per recipe/profile/inputs (each spawn costs ~1 s here). */
function plan(id: string, profile: string, inputs: Record<string, string> = {}): Promise<Plan> {
  const key = planKey(id, profile, inputs);
  let p = plans.get(key);
  if (!p) {
    const args = [
      'plan',
      recipeDir(id),
      '--profile',
      profile,
      '--json',
      ...Object.entries(inputs).flatMap(([k, v]) => ['--input', `${k}=${v}`]),
    ];
    p = runCli(args, { home: home.dir }).then((r) => parseJson<Plan>(r));
    plans.set(key, p);
  }
  return p;
}

before(async () => {
  home = await tempDir();
  // Warm the cache three CLI processes at a time (2-core machine).
  const wanted: [string, string, Record<string, string>][] = [
    ...[...SDCPP, ...PYTHON].flatMap((id) =>
      ['darwin-arm64-metal', 'linux-x64-cuda', 'linux-x64-cpu'].map((pr): [string, string, Record<string, string>] => [id, pr, {}]),
    ),
    ['flux1-schnell', 'darwin-arm64-metal', { quant: 'q8_0' }],
    ['flux1-schnell', 'darwin-arm64-metal', { quant: 'q2_k' }],
    ['wan21-t2v-14b', 'linux-x64-cuda', { quant: 'Q8_0' }],
    ['wan21-t2v-14b', 'linux-x64-cuda', { quant: 'Q3_K_S' }],
    ['comfyui', 'darwin-arm64-metal', { models: 'flux1-schnell' }],
  ];
  const queue = [...wanted];
  await Promise.all(
    [0, 1, 2].map(async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await plan(...next);
    }),
  );
});
after(async () => home.cleanup());
const install = (p: Plan): PlannedStep[] => p.scripts.install;
const argvOf = (p: Plan, key: string): string[] => {
  const step = install(p).find((s) => s.key === key);
  assert.ok(step && step.kind === 'run', `run step ${key} in the plan`);
  return step.params.argv ?? [];
};
const argAfter = (argv: readonly string[], flag: string): string | undefined =>
  argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined;

test('every media recipe validates with the real CLI', async () => {
  // `plan` validates first (RECIPE_INVALID otherwise); two explicit `recipe validate` runs check the command itself.
  for (const id of ['flux1-dev', 'comfyui']) {
    const r = await runCli(['recipe', 'validate', recipeDir(id)], { home: home.dir });
    assert.equal(r.code, 0, `${id}: ${r.stdout}${r.stderr}`);
  }
  for (const id of [...SDCPP, ...PYTHON]) assert.equal((await plan(id, 'darwin-arm64-metal')).recipe.id, id);
});

test(
  'sd.cpp recipes: pinned recursive clone, -DSD_METAL=ON on darwin-arm64, -DSD_CUDA=ON on linux-x64 cuda, sd-server ' + 'target',
  async () => {
    for (const id of SDCPP) {
      const mac = await plan(id, 'darwin-arm64-metal');
      const cuda = await plan(id, 'linux-x64-cuda');
      for (const p of [mac, cuda]) {
        assert.deepEqual(p.blockers, [], `${id} on ${p.profile.name}`);
        const git = install(p).find((s) => s.key === 'sdcpp-source');
        assert.ok(git && git.kind === 'git');
        assert.equal(git.params.url, 'https://github.com/leejet/stable-diffusion.cpp');
        assert.equal(git.params.ref, SD_COMMIT);
        assert.equal(git.params.pinned, true);
        assert.equal(git.params.submodules, true);
        assert.equal(git.params.dest, p.paths.app, "the engine is built inside this app's own folder");
        const build = argvOf(p, 'sdcpp-build');
        assert.deepEqual(build.slice(0, 1), ['cmake']);
        assert.equal(argAfter(build, '--target'), 'sd-server');
        assert.equal(argAfter(build, '--config'), 'Release');
      }
      const macKeys = install(mac).map((s) => s.key);
      const cudaKeys = install(cuda).map((s) => s.key);
      assert.ok(argvOf(mac, 'sdcpp-configure-metal').includes('-DSD_METAL=ON'), id);
      assert.ok(
        !macKeys.includes('sdcpp-configure-cuda') && !macKeys.includes('sdcpp-configure-cpu'),
        `${id}: only the Metal configure on a Mac`,
      );
      assert.ok(argvOf(cuda, 'sdcpp-configure-cuda').includes('-DSD_CUDA=ON'), id);
      assert.ok(
        !cudaKeys.includes('sdcpp-configure-metal') && !cudaKeys.includes('sdcpp-configure-cpu'),
        `${id}: only the CUDA configure on Linux`,
      );
      assert.ok(argvOf(cuda, 'sdcpp-configure-cuda').every((a) => a !== '-DSD_METAL=ON'));
      // The build comes before anything that needs the binary, and the verify probe points at it.
      const verify = install(mac).find((s) => s.kind === 'verify');
      assert.ok(verify && verify.kind === 'verify');
      assert.equal(verify.params.probe.type, 'sdcpp');
      assert.equal(verify.params.probe.binary, path.join(mac.paths.app, 'build', 'bin', 'sd-server'));
      assert.ok(macKeys.indexOf('sdcpp-build') < macKeys.indexOf(verify.key));
      assert.equal(mac.expectedBackend, 'metal');
      assert.equal(cuda.expectedBackend, 'cuda');
    }
  },
);

test('media recipes run the same engine build sequence as sdcpp-engine (no drift between copies)', async () => {
  const load = async (id: string) =>
    JSON.parse(await readFile(path.join(recipeDir(id), 'recipe.json'), 'utf8')) as { install: { id?: string }[] };
  const engine = (await load('sdcpp-engine')).install.filter((s) => s.id?.startsWith('sdcpp-'));
  assert.equal(engine.length, 6);
  for (const id of MEDIA) {
    const steps = (await load(id)).install.filter((s) => s.id?.startsWith('sdcpp-'));
    assert.deepEqual(steps, engine, id);
  }
});

test('diffusion services get the model files and an explicit backend per platform', async () => {
  for (const id of MEDIA) {
    const mac = await plan(id, 'darwin-arm64-metal');
    const cuda = await plan(id, 'linux-x64-cuda');
    for (const [p, backend] of [
      [mac, 'metal'],
      [cuda, 'cuda'],
    ] as const) {
      const svc = p.service;
      assert.ok(svc, id);
      assert.equal(svc.type, id.startsWith('flux') ? 'image' : 'video');
      assert.equal(svc.readiness.http, '/health');
      assert.equal(argAfter(svc.args, '--backend'), backend, `${id} on ${p.profile.name}`);
      assert.ok(!svc.args.includes('auto'));
      assert.equal(argAfter(svc.args, '--sd-server'), path.join(p.paths.app, 'build', 'bin', 'sd-server'));
      const byId = new Map(p.weights.map((w) => [w.id, w.path]));
      assert.equal(argAfter(svc.args, '--diffusion-model'), byId.get('diffusion'));
      assert.equal(argAfter(svc.args, '--vae'), byId.get('vae'));
      assert.ok(
        svc.args.every((a) => !a.includes('{{')),
        `${id}: every template resolved`,
      );
    }
    if (id.startsWith('flux')) {
      assert.equal(argAfter(mac.service!.args, '--clip-l'), mac.weights.find((w) => w.id === 'clip_l')?.path);
      assert.equal(argAfter(mac.service!.args, '--t5xxl'), mac.weights.find((w) => w.id === 't5xxl')?.path);
    } else {
      assert.equal(argAfter(mac.service!.args, '--t5xxl'), mac.weights.find((w) => w.id === 'umt5')?.path);
      assert.equal(argAfter(mac.service!.args, '--fps'), '16', 'Wan 2.1 is 16 fps');
      const frames = Number(argAfter(mac.service!.args, '--frames'));
      assert.equal((frames - 1) % 4, 0, `${id}: default frame count ${frames} is 4n+1`);
    }
    assert.equal(argAfter(mac.service!.args, '--clip-vision') !== undefined, id === 'wan21-i2v-14b-480p');
  }
});

test('quantization inputs pick the file and the memory need; Flux dev is gated', async () => {
  const schnell = {
    q8_0: await plan('flux1-schnell', 'darwin-arm64-metal', { quant: 'q8_0' }),
    q2_k: await plan('flux1-schnell', 'darwin-arm64-metal', { quant: 'q2_k' }),
  };
  assert.match(
    schnell.q8_0.weights.find((w) => w.id === 'diffusion')!.url,
    /leejet\/FLUX\.1-schnell-gguf\/resolve\/main\/flux1-schnell-q8_0\.gguf$/,
  );
  assert.match(schnell.q2_k.weights.find((w) => w.id === 'diffusion')!.url, /flux1-schnell-q2_k\.gguf$/);
  assert.ok(schnell.q8_0.requirements.memoryGiB! > schnell.q2_k.requirements.memoryGiB!);
  assert.equal(argAfter(schnell.q8_0.service!.args, '--steps'), '4', 'schnell runs 4 steps');
  assert.equal(schnell.q8_0.weights.find((w) => w.id === 'vae')!.auth, undefined);

  const dev = await plan('flux1-dev', 'linux-x64-cuda');
  const vae = dev.weights.find((w) => w.id === 'vae')!;
  assert.equal(vae.auth, 'huggingface');
  assert.equal(vae.gatedPage, 'https://huggingface.co/black-forest-labs/FLUX.1-dev');
  assert.equal(argAfter(dev.service!.args, '--steps'), '20');

  const wan = {
    q8: await plan('wan21-t2v-14b', 'linux-x64-cuda', { quant: 'Q8_0' }),
    q3: await plan('wan21-t2v-14b', 'linux-x64-cuda', { quant: 'Q3_K_S' }),
  };
  assert.match(
    wan.q8.weights.find((w) => w.id === 'diffusion')!.url,
    /city96\/Wan2\.1-T2V-14B-gguf\/resolve\/main\/wan2\.1-t2v-14b-Q8_0\.gguf$/,
  );
  assert.ok(wan.q8.requirements.memoryGiB! > wan.q3.requirements.memoryGiB!);
  // Hashes are pinned only where read from a public source; the rest stay unpinned and the plan says so.
  assert.ok(wan.q8.warnings.some((w) => w.includes('unpinned: weight "diffusion"')));
  assert.ok(!wan.q8.warnings.some((w) => w.includes('unpinned: weight "umt5"')));
});

test('GPU-only recipes refuse linux-x64-cpu with a clear reason', async () => {
  for (const id of [...SDCPP, 'comfyui', 'wan2gp']) {
    const p = await plan(id, 'linux-x64-cpu');
    assert.ok(
      p.blockers.some((b) => /needs a GPU/.test(b) && /CPU-only/.test(b)),
      `${id}: ${p.blockers.join(' | ')}`,
    );
  }
  const mflux = await plan('mflux', 'linux-x64-cpu');
  assert.ok(
    mflux.blockers.some((b) => b.includes('darwin-arm64') && b.includes('not linux-x64')),
    mflux.blockers.join(' | '),
  );
});

test('Python recipes: torch from PyPI on darwin-arm64, from the CUDA index on linux-x64; platform limits', async () => {
  const mac = await plan('comfyui', 'darwin-arm64-metal');
  const cuda = await plan('comfyui', 'linux-x64-cuda');
  assert.ok(!argvOf(mac, 'torch-mac').includes('--index-url'));
  assert.ok(!install(mac).some((s) => s.key === 'torch-cuda'));
  assert.equal(argAfter(argvOf(cuda, 'torch-cuda'), '--index-url'), 'https://download.pytorch.org/whl/cu128');
  assert.ok(!install(cuda).some((s) => s.key === 'torch-mac'));
  const git = install(mac).find((s) => s.kind === 'git');
  assert.ok(git && git.kind === 'git' && git.params.ref === 'a125cd84b054a57729b5eecab930ca9408719832' && git.params.pinned);
  assert.deepEqual(mac.service?.command?.slice(1, 6), ['main.py', '--listen', '127.0.0.1', '--port', '{{port}}']);
  assert.equal(mac.service?.readiness.http, '/system_stats');
  // Models are links into the store, shared with the sd.cpp recipes (same URL → same blob), never copies.
  const links = install(mac).filter((s) => s.kind === 'link');
  assert.equal(links.length, 3);
  const wan13 = await plan('wan21-t2v-1-3b', 'darwin-arm64-metal');
  const comfyUmt5 = mac.weights.find((w) => w.id === 'wan_umt5')!;
  const sdUmt5 = wan13.weights.find((w) => w.id === 'umt5')!;
  assert.equal(comfyUmt5.url, sdUmt5.url);
  assert.equal(comfyUmt5.sha256, sdUmt5.sha256);
  const yaml = install(mac).find((s) => s.key === 'model-paths');
  assert.ok(yaml && yaml.kind === 'write' && yaml.params.content.includes(`base_path: ${mac.paths.models}`));
  const flux = await plan('comfyui', 'darwin-arm64-metal', { models: 'flux1-schnell' });
  assert.deepEqual(flux.weights.map((w) => w.id).sort(), ['flux_clip_l', 'flux_diffusion', 'flux_t5xxl', 'flux_vae']);

  const wgp = await plan('wan2gp', 'linux-x64-cuda');
  assert.deepEqual(wgp.blockers, []);
  assert.equal(argAfter(argvOf(wgp, 'torch-cuda'), '--index-url'), 'https://download.pytorch.org/whl/cu130');
  const wgpMac = await plan('wan2gp', 'darwin-arm64-metal');
  assert.ok(
    wgpMac.blockers.some((b) => b.includes('not darwin-arm64')),
    wgpMac.blockers.join(' | '),
  );

  const mf = await plan('mflux', 'darwin-arm64-metal');
  assert.deepEqual(mf.blockers, []);
  assert.equal(mf.expectedBackend, 'metal');
  const mfLinux = await plan('mflux', 'linux-x64-cuda');
  assert.ok(mfLinux.blockers.some((b) => b.includes('not linux-x64')));
  for (const p of [mac, cuda, wgp, mf]) {
    const verify = install(p).find((s) => s.kind === 'verify');
    assert.ok(verify && verify.kind === 'verify');
    assert.equal(verify.params.probe.type, p === mf ? 'mlx' : 'python-torch');
  }
});
