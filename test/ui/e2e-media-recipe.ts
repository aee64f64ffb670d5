/**
 * End-to-end fixtures for the image and video "Try it" panels: Orchard's bundled diffusion service
 * (`service.type` image or video) over the sd-server stand-in (test/fixtures/sdcpp/sd-server), which
 * replays real sd.cpp output. Its path comes in through an input, the "model" is a file a write step
 * creates (the stand-in never reads it), and the stand-in's scenario reaches it through the recipe's
 * `service.env` (supervisor → diffusion service → sd-server). Written as text, like a user's recipe.
 */
export interface MediaFixture {
  id: string;
  name: string;
  text: string;
}

export function mediaRecipe(media: 'image' | 'video', sdServer: string, scenario: Record<string, string>): MediaFixture {
  const id = `e2e-${media}`;
  const name = `Tiny ${media} (end-to-end fixture)`;
  const recipe = {
    id,
    name,
    version: '1.0.0',
    kind: media,
    description: `Orchard's ${media} service over a stand-in sd-server that replays real stable-diffusion.cpp output.`,
    requires: { platforms: ['linux-x64', 'linux-arm64', 'darwin-arm64'], accelerators: ['cpu', 'metal', 'cuda'] },
    inputs: {
      sdServer: { type: 'string', title: 'sd-server program', default: sdServer },
      width: { type: 'number', title: 'Default width', default: media === 'image' ? 512 : 832 },
      height: { type: 'number', title: 'Default height', default: media === 'image' ? 512 : 480 },
      steps: { type: 'number', title: 'Default steps', default: media === 'image' ? 40 : 8 },
      ...(media === 'video' ? { frames: { type: 'number', title: 'Default frames', default: 17 } } : {}),
    },
    install: [{ kind: 'write', id: 'model', path: 'app/stand-in model.gguf', content: 'the stand-in never reads its model\n' }],
    service: {
      type: media,
      args: [
        '--sd-server',
        '{{inputs.sdServer}}',
        '--diffusion-model',
        '{{app.dir}}/stand-in model.gguf',
        '--backend',
        'cuda0',
        '--steps',
        '{{inputs.steps}}',
        '--width',
        '{{inputs.width}}',
        '--height',
        '{{inputs.height}}',
      ],
      env: scenario,
      readiness: { http: '/health', timeout: 60 },
      stopGraceSeconds: 8,
    },
  };
  return { id, name, text: `${JSON.stringify(recipe, null, 2)}\n` };
}
