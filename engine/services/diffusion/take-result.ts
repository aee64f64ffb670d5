import { messageOf } from '../../core/errors.js';
import type { JobResult, JobSnapshot } from './diffusion-engine.js';
import { convertToMp4, findFfmpeg } from './ffmpeg.js';
import { saveResult } from './result-files.js';

/** The result part of sd-server's completed job JSON, as much of it as we read. */
export interface SdResult {
  images?: { b64_json?: string }[];
  b64_json?: string;
  mime_type?: string;
  output_format?: string;
  fps?: number;
  frame_count?: number;
}

/**
 * Turn a completed sd-server job into Orchard's result: the PNG, or the video converted to MP4
 * when ffmpeg is on PATH (else the container sd.cpp wrote, and a note says so), saved as a file in
 * the outputs folder. `stored` is what the engine keeps (the file and its metadata, never the
 * bytes); `summary` is what the job snapshot shows. Notes go onto the job. A result that cannot be
 * saved fails the job, saying why.
 */
export async function takeResult(
  job: JobSnapshot,
  sd: SdResult | undefined,
  o: { env: NodeJS.ProcessEnv; outputDir: string },
): Promise<{ stored: JobResult; summary: NonNullable<JobSnapshot['result']> }> {
  const media = job.kind === 'text-to-image' ? image(sd) : await video(job, sd, o.env);
  const { bytes, ...meta } = media;
  let file: string;
  try {
    file = await saveResult(o.outputDir, { id: job.id, kind: job.kind, finishedAt: new Date() }, media);
  } catch (err) {
    throw new Error(
      `could not save it in ${o.outputDir} (${messageOf(err)}); free some space or fix the folder's permissions, then run the job again`,
    );
  }
  return { stored: { ...meta, file }, summary: { ...meta, bytes: bytes.length, file } };
}

type Media = Omit<JobResult, 'file'> & { bytes: Buffer };

function image(sd: SdResult | undefined): Media {
  const b64 = sd?.images?.[0]?.b64_json;
  if (!b64) throw new Error('the completed job has no image');
  return { mimeType: 'image/png', extension: 'png', bytes: Buffer.from(b64, 'base64') };
}

async function video(job: JobSnapshot, sd: SdResult | undefined, env: NodeJS.ProcessEnv): Promise<Media> {
  const b64 = sd?.b64_json;
  if (!b64) throw new Error('the completed job has no video');
  const extension = sd?.output_format ?? 'webm';
  const mimeType = sd?.mime_type ?? 'video/webm';
  const raw: Media = {
    mimeType,
    extension,
    bytes: Buffer.from(b64, 'base64'),
    ...(sd?.fps !== undefined ? { fps: sd.fps } : {}),
    ...(sd?.frame_count !== undefined ? { frameCount: sd.frame_count } : {}),
  };
  const ffmpeg = await findFfmpeg(env);
  if (!ffmpeg) {
    job.notes.push(`ffmpeg is not on PATH: the result is the ${extension.toUpperCase()} container sd.cpp produced (${mimeType}), not MP4.`);
    return raw;
  }
  try {
    const mp4 = { ...raw, mimeType: 'video/mp4', extension: 'mp4', bytes: await convertToMp4(ffmpeg, raw.bytes, extension) };
    job.notes.push(`converted from ${extension.toUpperCase()} to MP4 with ${ffmpeg}`);
    return mp4;
  } catch (err) {
    job.notes.push(
      `ffmpeg could not convert the ${extension.toUpperCase()} to MP4 (${messageOf(err).split('\n')[0] ?? ''}); kept ${mimeType}.`,
    );
    return raw;
  }
}
