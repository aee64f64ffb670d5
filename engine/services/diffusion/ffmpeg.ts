import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** The ffmpeg executable on PATH, if any. */
export async function findFfmpeg(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const names = process.platform === 'win32' ? ['ffmpeg.exe'] : ['ffmpeg'];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}

/** Re-encode a container sd.cpp wrote (WebM, animated WebP, AVI) to an H.264 MP4. */
export async function convertToMp4(ffmpeg: string, input: Buffer, inputExtension: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orchard-ffmpeg-'));
  try {
    const source = path.join(dir, `in.${inputExtension}`);
    const target = path.join(dir, 'out.mp4');
    await writeFile(source, input);
    await execa(
      ffmpeg,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-i',
        source,
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        '-movflags',
        '+faststart',
        target,
      ],
      {
        timeout: 10 * 60_000,
      },
    );
    return await readFile(target);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
